"""file.symlink and file.absent: one entry in the file tree, made a symlink or removed.

/etc/nginx/sites-enabled/site:
  file.symlink:
    - target: /etc/nginx/sites-available/site
    - force: True

/tmp/old-release:
  file.absent
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Any, Mapping

from core.errors import StateArgError
from minion.state.contract import ExecContext, Pending, StateFailed
from minion.states.fileops import (
    Owner,
    check_path,
    lstat_or_none,
    makedirs,
    missing_parent_note,
    need_parent,
    owner_changes,
    parse_owner,
    remove_any,
    set_owner,
)
from minion.providers.safefs import link_in, locate
from minion.states.specargs import as_bool, check_known


# -- file.symlink ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SymlinkSpec:
    name: str
    target: str
    force: bool
    makedirs: bool
    owner: Owner


class Symlink:
    """file.symlink"""

    where = "file.symlink"

    def parse(self, name: str, args: Mapping[str, Any]) -> SymlinkSpec:
        where = self.where
        check_known(
            where, args, ("target", "force", "makedirs", "user", "group", "mode", "backupname")
        )
        target = args.get("target")
        if not isinstance(target, str) or not target or "\x00" in target:
            raise StateArgError(f"{where}: target must be a path")
        return SymlinkSpec(
            name=check_path(where, name),
            target=target,
            force=as_bool(where, "force", args.get("force")),
            makedirs=as_bool(where, "makedirs", args.get("makedirs")),
            owner=parse_owner(where, args, None),
        )

    def check(self, ctx: ExecContext, spec: SymlinkSpec) -> Pending:
        path = spec.name
        st = lstat_or_none(path)
        if st is None:
            changes: dict[str, Any] = {"new": path}
            changes.update(owner_changes(None, spec.owner))
            note = missing_parent_note(path, spec.makedirs)
            return Pending(
                changes=changes,
                comment=f"Symlink {path} to {spec.target} would be created{note}",
                applied_comment=f"Created new symlink {path} -> {spec.target}",
            )
        if stat.S_ISLNK(st.st_mode):
            changes = {}
            if os.readlink(path) != spec.target:
                changes["change"] = path
            changes.update(owner_changes(st, spec.owner))
            if not changes:
                return Pending(comment=f"Symlink {path} is present and owned by the right user")
            return Pending(
                changes=changes,
                comment=f"Symlink {path} would be set to {spec.target}",
                applied_comment=f"Set symlink {path} to {spec.target}",
            )
        if not spec.force:
            kind = "Directory" if stat.S_ISDIR(st.st_mode) else "File"
            raise StateFailed(f"{kind} exists where the symlink {path} should be (set force: True)")
        changes = {"new": path}
        changes.update(owner_changes(None, spec.owner))
        return Pending(
            changes=changes,
            facts={"forced": True},
            comment=f"{path} would be removed to make way for a symlink to {spec.target}",
            applied_comment=f"Created new symlink {path} -> {spec.target}",
        )

    def apply(self, ctx: ExecContext, spec: SymlinkSpec, pending: Pending) -> dict[str, Any]:
        path = spec.name
        changes = dict(pending.changes)
        if "new" in changes or "change" in changes:
            need_parent(path, spec.makedirs)
            if pending.facts.get("forced"):
                remove_any(path)
            makedirs(os.path.dirname(path))
            with locate(path, follow=False) as entry:
                link_in(entry, spec.target)
            if changes.pop("change", None):  # Salt's real run says "new" for a re-pointed link
                changes = {"new": path, **changes}
        set_owner(path, spec.owner, follow=False)
        return changes


# -- file.absent ----------------------------------------------------------------------------
@dataclass(frozen=True)
class AbsentSpec:
    name: str


class Absent:
    """file.absent"""

    where = "file.absent"

    def parse(self, name: str, args: Mapping[str, Any]) -> AbsentSpec:
        check_known(self.where, args, ())
        path = check_path(self.where, name)
        if path == "/":
            raise StateArgError("file.absent refuses to remove /")
        return AbsentSpec(name=path)

    def check(self, ctx: ExecContext, spec: AbsentSpec) -> Pending:
        st = lstat_or_none(spec.name)
        if st is None:
            return Pending(comment=f"File {spec.name} is not present")
        kind = "directory" if stat.S_ISDIR(st.st_mode) else "file"
        return Pending(
            changes={"removed": spec.name},
            comment=f"{kind.capitalize()} {spec.name} is set for removal",
            applied_comment=f"Removed {kind} {spec.name}",
        )

    def apply(self, ctx: ExecContext, spec: AbsentSpec, pending: Pending) -> dict[str, Any]:
        remove_any(spec.name)
        return dict(pending.changes)
