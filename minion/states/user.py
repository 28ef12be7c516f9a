"""user states: present (uid, gid, home, shell, groups, system, fullname) and absent.

    linkpeek:
      user.present:
        - uid: 990
        - gid: linkpeek
        - home: /opt/linkpeek
        - shell: /usr/sbin/nologin
        - groups: [adm]
        - system: True
        - require:
          - group: linkpeek

Changes are per attribute: `{shell: {old: /bin/sh, new: /usr/sbin/nologin}}`; a new user adds
`user: {old: "", new: NAME}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import StateArgError
from minion.providers import accounts
from minion.state.contract import ExecContext, Pending, StateFailed
from minion.states.specargs import as_bool, check_known

PRESENT_ARGS = {
    "uid",
    "gid",
    "home",
    "shell",
    "groups",
    "remove_groups",
    "system",
    "createhome",
    "fullname",
}


@dataclass(frozen=True)
class UserSpec:
    name: str
    uid: int | None = None
    gid: int | str | None = None
    home: str | None = None
    shell: str | None = None
    groups: tuple[str, ...] | None = None
    remove_groups: bool = True
    system: bool = False
    createhome: bool = True
    fullname: str | None = None
    purge: bool = False


def _no_newline(key: str, value: Any) -> str:
    text = str(value)
    if any(c in text for c in "\n\r\0:"):
        raise StateArgError(f"{key} must be one line without ':'")
    return text


class Present:
    """user.present: the account exists with the given attributes."""

    def parse(self, name: str, args: Mapping[str, Any]) -> UserSpec:
        check_known("user.present", args, PRESENT_ARGS)
        uid = args.get("uid")
        if uid is not None and (isinstance(uid, bool) or not isinstance(uid, int) or uid < 0):
            raise StateArgError("uid must be a non-negative integer")
        gid = args.get("gid")
        if gid is not None and not isinstance(gid, (int, str)) or isinstance(gid, bool):
            raise StateArgError("gid must be a group name or number")
        groups = args.get("groups")
        if groups is not None:
            if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
                raise StateArgError("groups must be a list of group names")
            groups = tuple(sorted(set(groups)))
        for key in ("home", "shell"):
            if args.get(key) is not None and not str(args[key]).startswith("/"):
                raise StateArgError(f"{key} must be an absolute path")
        return UserSpec(
            name=str(name),
            uid=uid,
            gid=gid,
            home=None if args.get("home") is None else _no_newline("home", args["home"]),
            shell=None if args.get("shell") is None else _no_newline("shell", args["shell"]),
            groups=groups,
            remove_groups=as_bool("user.present", "remove_groups", args.get("remove_groups"), True),
            system=as_bool("user.present", "system", args.get("system")),
            createhome=as_bool("user.present", "createhome", args.get("createhome"), True),
            fullname=None
            if args.get("fullname") is None
            else _no_newline("fullname", args["fullname"]).replace(",", " "),
        )

    def check(self, ctx: ExecContext, spec: UserSpec) -> Pending:
        accounts.check_account_name("user", spec.name)
        for g in [*(spec.groups or ()), *([spec.gid] if isinstance(spec.gid, str) else [])]:
            accounts.check_account_name("group", g)
        # Groups may be created by earlier states of the same run, so a missing one is only an
        # error in apply; gid changes are shown as given (a name or a number).
        have = accounts.user(spec.name)
        want: dict[str, Any] = {
            "uid": spec.uid,
            "gid": spec.gid,
            "home": spec.home,
            "shell": spec.shell,
            "fullname": spec.fullname,
        }
        if spec.groups is not None:
            want["groups"] = list(spec.groups)
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
            changes["user"] = {"old": "", "new": spec.name}
            changes.update({k: {"old": None, "new": v} for k, v in want.items()})
            return Pending(changes=changes)
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
            "groups": list(have.groups),
        }
        if spec.groups is not None and not spec.remove_groups:
            want["groups"] = sorted(set(have.groups) | set(spec.groups))
        for key, value in want.items():
            if current[key] != value:
                changes[key] = {"old": current[key], "new": value}
        comment = "" if changes else f"user {spec.name} is present as specified"
        return Pending(changes=changes, comment=comment)

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
            if gid is None and spec.gid is None:
                argv.append("-U")
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
        accounts.shadow([*argv, "--", spec.name], what=argv[0])
        return dict(changes)


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
