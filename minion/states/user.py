"""user states: present (uid, gid, home, shell, groups, system, fullname) and absent.

    linkpeek:
      user.present:
        - uid: 990
        - gid: linkpeek
        - home: /opt/linkpeek
        - shell: /usr/sbin/nologin
        - groups: [adm]
        - optional_groups: [docker]              # joined when it exists
        - password: $6$rounds=...$...            # a hash; shown as XXX-REDACTED-XXX
        - system: True
        - require:
          - group: linkpeek

Changes are per attribute: `{shell: {old: /bin/sh, new: /usr/sbin/nologin}}`; a new user adds
`user: {old: "", new: NAME}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.errors import StateArgError
from minion.providers import accounts
from minion.state.contract import ExecContext, Pending, StateFailed
from minion.states.specargs import as_bool, as_name_set, check_known

PRESENT_ARGS = {
    "uid",
    "gid",
    "home",
    "shell",
    "groups",
    "optional_groups",
    "remove_groups",
    "system",
    "createhome",
    "fullname",
    "password",
    "enforce_password",
    "allow_uid_change",
    "allow_gid_change",
}
REDACTED = "XXX-REDACTED-XXX"  # what Salt shows for a password hash
UNSET_HASHES = ("", "!", "*", "!*", "!!")


@dataclass(frozen=True)
class UserSpec:
    name: str
    uid: int | None = None
    gid: int | str | None = None
    home: str | None = None
    shell: str | None = None
    groups: tuple[str, ...] | None = None
    optional_groups: tuple[str, ...] = ()
    remove_groups: bool = True
    system: bool = False
    createhome: bool = True
    fullname: str | None = None
    purge: bool = False
    password: str | None = field(default=None, repr=False)
    enforce_password: bool = True
    allow_uid_change: bool = False
    allow_gid_change: bool = False


def _no_newline(key: str, value: Any) -> str:
    text = str(value)
    if any(c in text for c in "\n\r\0:"):
        raise StateArgError(f"{key} must be one line without ':'")
    return text


class Present:
    """user.present: the account exists with the given attributes.

    `password` is a hash (`mkpasswd -m sha-512`), set with chpasswd on its stdin and shown
    only as XXX-REDACTED-XXX, as Salt does. Changing the uid or gid of an existing account
    needs `allow_uid_change` / `allow_gid_change` (Salt's defaults: refused). A group named
    like the user that already exists and is listed in `groups` becomes its primary group.
    `optional_groups` are joined when they exist and skipped when they do not.
    """

    def parse(self, name: str, args: Mapping[str, Any]) -> UserSpec:
        where = "user.present"
        check_known(where, args, PRESENT_ARGS)
        uid = args.get("uid")
        if uid is not None and (isinstance(uid, bool) or not isinstance(uid, int) or uid < 0):
            raise StateArgError("uid must be a non-negative integer")
        gid = args.get("gid")
        if gid is not None and not isinstance(gid, (int, str)) or isinstance(gid, bool):
            raise StateArgError("gid must be a group name or number")
        for key in ("home", "shell"):
            if args.get(key) is not None and not str(args[key]).startswith("/"):
                raise StateArgError(f"{key} must be an absolute path")
        password = args.get("password")
        if password is not None:
            if not isinstance(password, str) or any(c in password for c in "\n\r\0:"):
                raise StateArgError("password must be a password hash on one line without ':' "
                                    "(make one with mkpasswd -m sha-512)")
        return UserSpec(
            name=str(name),
            uid=uid,
            gid=gid,
            home=None if args.get("home") is None else _no_newline("home", args["home"]),
            shell=None if args.get("shell") is None else _no_newline("shell", args["shell"]),
            groups=as_name_set("groups", args.get("groups"), "group"),
            optional_groups=as_name_set("optional_groups", args.get("optional_groups"), "group") or (),
            remove_groups=as_bool(where, "remove_groups", args.get("remove_groups"), True),
            system=as_bool(where, "system", args.get("system")),
            createhome=as_bool(where, "createhome", args.get("createhome"), True),
            fullname=None
            if args.get("fullname") is None
            else _no_newline("fullname", args["fullname"]).replace(",", " "),
            password=password,
            enforce_password=as_bool(where, "enforce_password", args.get("enforce_password"), True),
            allow_uid_change=as_bool(where, "allow_uid_change", args.get("allow_uid_change")),
            allow_gid_change=as_bool(where, "allow_gid_change", args.get("allow_gid_change")),
        )

    def check(self, ctx: ExecContext, spec: UserSpec) -> Pending:
        accounts.check_account_name("user", spec.name)
        named = [*(spec.groups or ()), *spec.optional_groups]
        for g in [*named, *([spec.gid] if isinstance(spec.gid, str) else [])]:
            accounts.check_account_name("group", g)
        # Groups may be created by earlier states of the same run, so a missing one is only an
        # error in apply; gid changes are shown as given (a name or a number).
        optional = [g for g in spec.optional_groups if accounts.group(g) is not None]
        wanted_groups = None
        if spec.groups is not None or spec.optional_groups:
            wanted_groups = sorted(set(spec.groups or ()) | set(optional))
        skipped = sorted(set(spec.optional_groups) - set(optional))
        note = f" (optional groups not present: {', '.join(skipped)})" if skipped else ""
        have = accounts.user(spec.name)
        want: dict[str, Any] = {
            "uid": spec.uid,
            "gid": spec.gid,
            "home": spec.home,
            "shell": spec.shell,
            "fullname": spec.fullname,
        }
        want = {k: v for k, v in want.items() if v is not None}
        if spec.uid is not None:
            owner = accounts.uid_taken(spec.uid)
            if owner not in (None, spec.name):
                raise StateFailed(
                    f"uid {spec.uid} already belongs to user {owner}: "
                    f"pick another uid or remove {owner} first"
                )
        changes: dict[str, Any] = {}
        if have is None:
            if spec.gid is None and accounts.group(spec.name) is not None and (
                spec.name not in (wanted_groups or ())
            ):
                raise StateFailed(
                    f"group {spec.name} already exists: list it in groups (it becomes the "
                    f"primary group, as in Salt) or set gid"
                )
            changes["user"] = {"old": "", "new": spec.name}
            changes.update({k: {"old": None, "new": v} for k, v in want.items()})
            if wanted_groups is not None:
                changes["groups"] = {"old": None, "new": wanted_groups}
            if spec.password is not None:
                changes["password"] = REDACTED
            return Pending(changes=changes, comment=f"User {spec.name} set to be added{note}",
                           applied_comment=f"New user {spec.name} created{note}")
        gid_shown: int | str = have.gid
        if isinstance(spec.gid, str):
            found = accounts.group_by_id(have.gid)
            gid_shown = found.gr_name if found else have.gid
        current = {
            "uid": have.uid,
            "gid": gid_shown,
            "home": have.home,
            "shell": have.shell,
            "fullname": have.fullname,
        }
        for key, value in want.items():
            if current[key] != value:
                changes[key] = {"old": current[key], "new": value}
        refused = [
            f"Changing {key} ({changes[key]['old']} -> {changes[key]['new']}) not permitted, "
            f"set allow_{key}_change to True to force this change. Note that this will not "
            f"change file ownership."
            for key, allowed in (("uid", spec.allow_uid_change), ("gid", spec.allow_gid_change))
            if key in changes and not allowed
        ]
        if refused:
            raise StateFailed(" ".join(refused))
        groups = _group_change(spec, have, wanted_groups)
        if groups is not None:
            changes["groups"] = groups
        if spec.password is not None:
            current_hash = accounts.password_hash(spec.name)
            if current_hash != spec.password and (
                spec.enforce_password or current_hash in (None, *UNSET_HASHES)
            ):
                changes["passwd"] = REDACTED
        if not changes:
            return Pending(comment=f"user {spec.name} is present as specified{note}")
        return Pending(changes=changes, comment=f"User {spec.name} set to be updated{note}",
                       applied_comment=f"Updated user {spec.name}{note}")

    def apply(self, ctx: ExecContext, spec: UserSpec, pending: Pending) -> dict[str, Any]:
        changes = pending.changes
        gid = None if spec.gid is None else accounts.group_id(spec.gid)
        for g in spec.groups or ():
            accounts.group_id(g)
        if "user" in changes:
            argv = ["useradd"]
            argv += ["-m"] if spec.createhome else ["-M"]
            if spec.system:
                argv.append("-r")
            if gid is None:
                own = accounts.group(spec.name)
                if own is None:
                    argv.append("-U")
                elif spec.name in (changes.get("groups") or {}).get("new", ()):
                    argv += ["-g", str(own.gr_gid)]  # Salt: the listed group of that name
                else:
                    raise StateFailed(
                        f"group {spec.name} already exists: list it in groups (it becomes "
                        f"the primary group, as in Salt) or set gid"
                    )
        else:
            argv = ["usermod"]
        if "uid" in changes:
            argv += ["-u", str(spec.uid)]
        if "gid" in changes:
            argv += ["-g", str(gid)]
        if "home" in changes:
            argv += ["-d", str(spec.home)]
        if "shell" in changes:
            argv += ["-s", str(spec.shell)]
        if "fullname" in changes:
            argv += ["-c", str(spec.fullname)]
        if "groups" in changes:
            argv += ["-G", ",".join(changes["groups"]["new"])]
        if len(argv) > 1 or "user" in changes:
            accounts.shadow([*argv, "--", spec.name], what=argv[0])
        if spec.password is not None and ("password" in changes or "passwd" in changes):
            accounts.set_password_hash(spec.name, spec.password)
        return dict(changes)


def _group_change(
    spec: UserSpec, have: accounts.UserFacts, wanted: list[str] | None
) -> dict[str, Any] | None:
    """The supplementary groups change, compared as Salt does: the primary group (and a group
    named like the user, unless wanted) left out of both sides."""
    if wanted is None:
        return None
    target = set(wanted)
    if not spec.remove_groups:
        target |= set(have.groups)
    primary = accounts.group_by_id(have.gid) if spec.gid is None else (
        accounts.group(spec.gid) if isinstance(spec.gid, str) else accounts.group_by_id(spec.gid)
    )
    current = set(have.groups)
    for side in (current, target):
        if primary is not None:
            side.discard(primary.gr_name)
    if spec.name in current and spec.name not in target:
        current.discard(spec.name)
    if current == target:
        return None
    return {"old": sorted(current), "new": sorted(target)}


class Absent:
    """user.absent: no such account (`purge: True` also removes its home and mail)."""

    def parse(self, name: str, args: Mapping[str, Any]) -> UserSpec:
        check_known("user.absent", args, ("purge",))
        return UserSpec(name=str(name), purge=as_bool("user.absent", "purge", args.get("purge")))

    def check(self, ctx: ExecContext, spec: UserSpec) -> Pending:
        accounts.check_account_name("user", spec.name)
        if accounts.user(spec.name) is None:
            return Pending(comment=f"user {spec.name} is absent")
        return Pending(changes={"user": {"old": spec.name, "new": ""}})

    def apply(self, ctx: ExecContext, spec: UserSpec, pending: Pending) -> dict[str, Any]:
        accounts.shadow(["userdel", *(["-r"] if spec.purge else []), "--", spec.name], "userdel")
        return dict(pending.changes)


FUNCTIONS = {"present": Present(), "absent": Absent()}
