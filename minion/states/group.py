"""group states: present (gid, system, members) and absent.

linkpeek:
  group.present:
    - gid: 990
    - system: True
    - members: [deploy]       # exactly these; or addusers: [...] / delusers: [...]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import StateArgError
from minion.providers import accounts
from minion.state.contract import ExecContext, Pending, StateFailed
from minion.states.specargs import as_bool, as_name_set, check_known


@dataclass(frozen=True)
class GroupSpec:
    name: str
    gid: int | None = None
    system: bool = False
    members: tuple[str, ...] | None = None
    addusers: tuple[str, ...] = ()
    delusers: tuple[str, ...] = ()


class Present:
    """group.present: the group exists, with its gid; `members` sets exactly who is in it,
    `addusers` / `delusers` only add or remove those users (Salt's three forms)."""

    def parse(self, name: str, args: Mapping[str, Any]) -> GroupSpec:
        check_known("group.present", args, ("gid", "system", "members", "addusers", "delusers"))
        gid = args.get("gid")
        if gid is not None and (isinstance(gid, bool) or not isinstance(gid, int) or gid < 0):
            raise StateArgError("gid must be a non-negative integer")
        system = as_bool("group.present", "system", args.get("system"))
        members = as_name_set("members", args.get("members"), "user")
        addusers = as_name_set("addusers", args.get("addusers"), "user") or ()
        delusers = as_name_set("delusers", args.get("delusers"), "user") or ()
        if members is not None and (args.get("addusers") is not None
                                    or args.get("delusers") is not None):
            raise StateArgError('Conflicting options "members" with "addusers" and/or '
                                '"delusers" can not be used together')
        if set(addusers) & set(delusers):
            raise StateArgError("Same user(s) can not be added and deleted simultaneously: "
                                + ", ".join(sorted(set(addusers) & set(delusers))))
        return GroupSpec(str(name), gid, system, members, addusers, delusers)

    def check(self, ctx: ExecContext, spec: GroupSpec) -> Pending:
        accounts.check_account_name("group", spec.name)
        for member in (*(spec.members or ()), *spec.addusers, *spec.delusers):
            accounts.check_account_name("user", member)
        have = accounts.group(spec.name)
        changes: dict[str, Any] = {}
        if have is None:
            changes["group"] = {"old": "", "new": spec.name}
            if spec.gid is not None:
                changes["gid"] = {"old": None, "new": spec.gid}
            if spec.members:
                changes["members"] = {"old": [], "new": list(spec.members)}
            if spec.addusers:
                changes["addusers"] = list(spec.addusers)
            return Pending(changes=changes)
        if spec.gid is not None and have.gr_gid != spec.gid:
            changes["gid"] = {"old": have.gr_gid, "new": spec.gid}
        if spec.members is not None and sorted(have.gr_mem) != list(spec.members):
            changes["members"] = {"old": sorted(have.gr_mem), "new": list(spec.members)}
        add = [u for u in spec.addusers if u not in have.gr_mem]
        if add:
            changes["addusers"] = add
        delete = [u for u in spec.delusers if u in have.gr_mem]
        if delete:
            changes["delusers"] = delete
        return Pending(
            changes=changes, comment="" if changes else f"group {spec.name} is present as specified"
        )

    def apply(self, ctx: ExecContext, spec: GroupSpec, pending: Pending) -> dict[str, Any]:
        changes = pending.changes
        if "group" in changes:
            argv = ["groupadd", *(["-r"] if spec.system else [])]
            if spec.gid is not None:
                argv += ["-g", str(spec.gid)]
            accounts.shadow([*argv, "--", spec.name], "groupadd")
        elif "gid" in changes:
            accounts.shadow(["groupmod", "-g", str(spec.gid), "--", spec.name], "groupmod")
        for member in (spec.members or ()) if "members" in changes else changes.get("addusers", ()):
            if accounts.user(member) is None:
                raise StateFailed(
                    f"member {member!r} of group {spec.name} does not exist: "
                    f"add a user.present for it and require it"
                )
        if "members" in changes:
            accounts.shadow(
                ["gpasswd", "-M", ",".join(spec.members or ()), "--", spec.name], "gpasswd"
            )
        for user in changes.get("addusers", ()):
            accounts.shadow(["gpasswd", "-a", user, "--", spec.name], "gpasswd -a")
        for user in changes.get("delusers", ()):
            accounts.shadow(["gpasswd", "-d", user, "--", spec.name], "gpasswd -d")
        return dict(changes)


class Absent:
    """group.absent: no such group."""

    def parse(self, name: str, args: Mapping[str, Any]) -> GroupSpec:
        check_known("group.absent", args, ())
        return GroupSpec(str(name))

    def check(self, ctx: ExecContext, spec: GroupSpec) -> Pending:
        accounts.check_account_name("group", spec.name)
        if accounts.group(spec.name) is None:
            return Pending(comment=f"group {spec.name} is absent")
        return Pending(changes={"group": {"old": spec.name, "new": ""}})

    def apply(self, ctx: ExecContext, spec: GroupSpec, pending: Pending) -> dict[str, Any]:
        accounts.shadow(["groupdel", "--", spec.name], "groupdel")
        return dict(pending.changes)


FUNCTIONS = {"present": Present(), "absent": Absent()}
