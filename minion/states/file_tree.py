"""file.directory and file.recurse: a directory and what is under it (owners, modes, copies
from salt://, clean-up of what is not wanted). file.symlink and file.absent: file_entry.py.

/srv/app:
  file.directory:
    - user: app
    - group: app
    - dir_mode: 755
    - file_mode: 644
    - recurse: [user, group, mode]
    - makedirs: True

/srv/app/static:
  file.recurse:
    - source: salt://app/static
    - clean: True
    - include_empty: True
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Any, Mapping

from core.errors import StateArgError
from minion.state.contract import ExecContext, Pending, StateFailed
from minion.states.file_managed import applied_changes, parse_template, plan_file, write_planned
from minion.states.fileops import (
    Owner,
    check_path,
    lstat_or_none,
    makedirs,
    missing_parent_note,
    need_parent,
    owner_changes,
    parse_mode,
    parse_owner,
    read_bytes,
    remove_any,
    set_owner,
    want_uid,
)
from minion.providers.safefs import MissingParent, locate
from minion.states.pathpatterns import parse_patterns, selected
from minion.states.specargs import as_bool, as_list, check_known


def _keep_set(args: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(os.path.normpath(p) for p in args.get("__keep__", ()) if isinstance(p, str))


def _kept(path: str, keep: frozenset[str]) -> bool:
    """True when `path` is a kept path or a directory holding one."""
    return path in keep or any(k.startswith(path + "/") for k in keep)


def _clean_plan(root: str, wanted: frozenset[str], exclude: tuple[str, ...]) -> list[str]:
    """Entries under `root` that are neither wanted nor hold something wanted (top-most only)."""
    removed: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        for entry in sorted(dirnames + filenames):
            full = os.path.join(dirpath, entry)
            if exclude and not selected(os.path.relpath(full, root), (), exclude):
                continue
            if not _kept(full, wanted):
                removed.append(full)
        dirnames[:] = [
            d
            for d in dirnames
            if _kept(os.path.join(dirpath, d), wanted)
            and not os.path.islink(os.path.join(dirpath, d))
        ]
    return sorted(removed)


# Arguments file.directory and file.recurse both take.
_TREE_ARGS = ("user", "group", "dir_mode", "file_mode", "makedirs", "clean", "exclude_pat")


# -- file.directory -------------------------------------------------------------------------
@dataclass(frozen=True)
class DirectorySpec:
    name: str
    owner: Owner
    file_mode: int | None
    makedirs: bool
    recurse: frozenset[str]
    clean: bool
    keep: frozenset[str]
    exclude_pat: tuple[str, ...]


class Directory:
    """file.directory"""

    where = "file.directory"

    def parse(self, name: str, args: Mapping[str, Any]) -> DirectorySpec:
        where = self.where
        check_known(where, args, (*_TREE_ARGS, "mode", "recurse", "force", "allow_symlink"))
        recurse = frozenset(as_list(where, "recurse", args.get("recurse")))
        bad = recurse - {"user", "group", "mode", "ignore_files", "ignore_dirs", "silent"}
        if bad:
            raise StateArgError(
                f"{where}: recurse takes user, group, mode, ignore_files, ignore_dirs, "
                f"not {sorted(bad)}"
            )
        dir_mode = parse_mode(
            where, args.get("dir_mode") if args.get("dir_mode") is not None else args.get("mode")
        )
        owner = parse_owner(where, args, None)
        return DirectorySpec(
            name=check_path(where, name),
            owner=Owner(owner.user, owner.group, dir_mode),
            file_mode=parse_mode(where, args.get("file_mode")),
            makedirs=as_bool(where, "makedirs", args.get("makedirs")),
            recurse=recurse,
            clean=as_bool(where, "clean", args.get("clean")),
            keep=_keep_set(args),
            exclude_pat=parse_patterns(where, "exclude_pat", args.get("exclude_pat")),
        )

    def _recurse_wants(self, spec: DirectorySpec) -> tuple[Owner, Owner]:
        r = spec.recurse
        user = spec.owner.user if "user" in r else None
        group = spec.owner.group if "group" in r else None
        dmode = spec.owner.mode if "mode" in r else None
        fmode = spec.file_mode if "mode" in r else None
        return Owner(user, group, dmode), Owner(user, group, fmode)

    def check(self, ctx: ExecContext, spec: DirectorySpec) -> Pending:
        path = spec.name
        st = _directory_stat(path, spec.owner)
        if st is None:
            note = missing_parent_note(path, spec.makedirs)
            return Pending(
                changes=new_dir_changes(path),
                facts={"new": True},
                comment=f"Directory {path} would be created{note}",
                applied_comment=f"Directory {path} created",
            )
        if not stat.S_ISDIR(st.st_mode):
            raise StateFailed(f"Specified location {path} exists and is a file")
        own = owner_changes(st, spec.owner)
        changes: dict[str, Any] = {path: own} if own else {}
        sub: dict[str, dict[str, Any]] = {}
        if spec.recurse - {"silent", "ignore_files", "ignore_dirs"}:
            dwant, fwant = self._recurse_wants(spec)
            for dirpath, dirnames, filenames in os.walk(path):
                dirnames.sort()
                entries = (
                    [] if "ignore_dirs" in spec.recurse else [(d, dwant) for d in dirnames]
                ) + (
                    []
                    if "ignore_files" in spec.recurse
                    else [(f, fwant) for f in sorted(filenames)]
                )
                for entry, want in entries:
                    full = os.path.join(dirpath, entry)
                    est = os.lstat(full)
                    if stat.S_ISLNK(est.st_mode):
                        continue
                    diff = owner_changes(est, want)
                    if diff:
                        sub[full] = diff
            changes.update(sub)
        removed = _clean_plan(path, spec.keep, spec.exclude_pat) if spec.clean else []
        for full in removed:
            changes.update(dict.fromkeys(_below(full), _CLEANED))
        if not changes:
            return Pending(comment=f"The directory {path} is in the correct state")
        return Pending(
            changes=changes,
            facts={"own": own, "recursion": sub, "removed": removed},
            comment=f"The directory {path} is set to be changed",
            applied_comment=f"Directory {path} updated",
        )

    def apply(self, ctx: ExecContext, spec: DirectorySpec, pending: Pending) -> dict[str, Any]:
        path = spec.name
        if pending.facts.get("new"):
            need_parent(path, spec.makedirs)
            makedirs(path, spec.owner)
            set_owner(path, spec.owner)
            return dict(pending.changes)
        set_owner(path, spec.owner)
        dwant, fwant = self._recurse_wants(spec)
        for full, diff in pending.facts.get("recursion", {}).items():
            want = dwant if os.path.isdir(full) else fwant
            set_owner(
                full,
                Owner(
                    want.user if "user" in diff else None,
                    want.group if "group" in diff else None,
                    want.mode if "mode" in diff else None,
                ),
                follow=False,
            )
        removed = pending.facts.get("removed", [])
        for full in removed:
            remove_any(full)
        changes = dict(pending.changes)
        changes.update(pending.facts.get("own", {}))
        if removed:
            changes["removed"] = list(removed)
        return changes


_CLEANED = {"removed": "Removed due to clean"}


def new_dir_changes(path: str) -> dict[str, Any]:
    """A directory to be (or just) created, as Salt reports it."""
    return {path: {"directory": "new"}}


def _below(path: str) -> list[str]:
    """`path` and, for a directory, everything under it (links not followed)."""
    found = [path]
    if os.path.isdir(path) and not os.path.islink(path):
        for dirpath, dirnames, filenames in os.walk(path):
            found.extend(os.path.join(dirpath, n) for n in sorted(dirnames + filenames))
    return found


def _directory_stat(path: str, want: Owner) -> os.stat_result | None:
    """The directory's stat, a symlink at `path` followed (Salt's allow_symlink) only when
    root or the owner alone could have planted it; None: it does not exist."""
    try:
        entry = locate(path, follow=True, owner=want_uid(want))
    except MissingParent:
        return None
    with entry:
        if entry.st is None and entry.path != path:  # mkdir would fail on the link itself
            raise StateFailed(f"{path} is a symlink to {os.readlink(path)}, which does not exist")
        return entry.st


# -- file.recurse ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RecurseSpec:
    name: str
    source: str
    clean: bool
    include_empty: bool
    file_owner: Owner
    dir_owner: Owner
    makedirs: bool
    template: str | None
    context: Mapping[str, Any]
    keep: frozenset[str]
    exclude_pat: tuple[str, ...]
    include_pat: tuple[str, ...] = ()


class Recurse:
    """file.recurse"""

    where = "file.recurse"

    def parse(self, name: str, args: Mapping[str, Any]) -> RecurseSpec:
        where = self.where
        check_known(
            where,
            args,
            (
                *_TREE_ARGS,
                "source",
                "include_empty",
                "template",
                "context",
                "defaults",
                "keep_symlinks",
                "include_pat",
                "maxdepth",
                "sym_mode",
            ),
        )
        source = args.get("source")
        if not isinstance(source, str) or not source.startswith("salt://"):
            raise StateArgError(f"{where}: source must be a salt:// directory")
        template, context = parse_template(where, args)
        owner = parse_owner(where, args, None)
        return RecurseSpec(
            name=check_path(where, name),
            source=source.rstrip("/"),
            clean=as_bool(where, "clean", args.get("clean")),
            include_empty=as_bool(where, "include_empty", args.get("include_empty")),
            file_owner=Owner(owner.user, owner.group, parse_mode(where, args.get("file_mode"))),
            dir_owner=Owner(owner.user, owner.group, parse_mode(where, args.get("dir_mode"))),
            makedirs=as_bool(where, "makedirs", args.get("makedirs")),
            template=template,
            context=context,
            keep=_keep_set(args),
            exclude_pat=parse_patterns(where, "exclude_pat", args.get("exclude_pat")),
            include_pat=parse_patterns(where, "include_pat", args.get("include_pat")),
        )

    def check(self, ctx: ExecContext, spec: RecurseSpec) -> Pending:
        root = spec.name
        st = lstat_or_none(root)
        if st is not None and not os.path.isdir(root):  # a file, or a dangling symlink
            raise StateFailed(f"The path {root} exists and is not a directory")
        rels = [
            r
            for r in ctx.files.list_dir(spec.source)
            if selected(r, spec.include_pat, spec.exclude_pat)
        ]
        empty: list[str] = []
        lister = getattr(ctx.files, "list_empty_dirs", None)
        if spec.include_empty and lister is not None:
            empty = list(lister(spec.source))
        changes: dict[str, Any] = {}
        plans: dict[str, Pending] = {}
        new_dirs: list[str] = []
        dir_diffs: dict[str, dict[str, Any]] = {}
        wanted_dirs = {root} | {os.path.join(root, d) for d in empty}
        for rel in rels:
            wanted_dirs.update(_parents(root, rel))
        for d in sorted(wanted_dirs):
            dst = lstat_or_none(d)
            if dst is None:
                new_dirs.append(d)
                changes[d] = new_dir_changes(d)
            elif spec.dir_owner != Owner() and stat.S_ISDIR(dst.st_mode):
                diff = owner_changes(dst, spec.dir_owner)
                if diff:
                    dir_diffs[d] = diff
                    changes[d] = {d: diff}
        for rel in rels:
            dest = os.path.join(root, rel)
            data = read_bytes(ctx.files.cache_file(f"{spec.source}/{rel}"))
            if spec.template:
                if ctx.render is None:
                    raise StateFailed("no template renderer is configured")
                data = ctx.render(
                    data.decode("utf-8"), dict(spec.context), f"{spec.source}/{rel}"
                ).encode()
            if lstat_or_none(os.path.dirname(dest)) is None:
                plan = Pending(
                    changes={"newfile": dest},
                    facts={"target": dest, "content": data, "new": True},
                )
            else:
                plan = plan_file(dest, data, spec.file_owner, make_dirs=True)
            if plan.changes:
                changes[dest] = plan.changes
                plans[dest] = plan
        if spec.clean and st is not None:
            wanted = frozenset({os.path.join(root, r) for r in rels} | wanted_dirs | spec.keep)
            removed = _clean_plan(root, wanted, spec.exclude_pat)
            if removed:
                changes["removed"] = removed
        if not changes:
            return Pending(comment=f"The directory {root} is in the correct state")
        return Pending(
            changes=changes,
            facts={"plans": plans, "new_dirs": new_dirs, "dir_diffs": dir_diffs},
            comment=f"The directory {root} is set to be changed"
            + ("" if st is not None else missing_parent_note(root, spec.makedirs)),
            applied_comment=f"Recursively updated {root}",
        )

    def apply(self, ctx: ExecContext, spec: RecurseSpec, pending: Pending) -> dict[str, Any]:
        need_parent(spec.name, spec.makedirs)
        changes = dict(pending.changes)
        for full in pending.changes.get("removed", []):
            remove_any(full)
        for d in pending.facts.get("new_dirs", []):
            makedirs(d, spec.dir_owner)
        for d, diff in pending.facts.get("dir_diffs", {}).items():
            set_owner(d, spec.dir_owner)
            changes[d] = {d: diff, **diff}
        for dest, plan in pending.facts.get("plans", {}).items():
            write_planned(dest, spec.file_owner, plan, spec.dir_owner)
            changes[dest] = applied_changes(spec.file_owner, plan)
        return changes


def _parents(root: str, rel: str) -> list[str]:
    parts = rel.split("/")[:-1]
    return [os.path.join(root, *parts[:i]) for i in range(1, len(parts) + 1)]
