"""file.managed: a file's content (from salt://, a local path, a Jinja template or inline), owner
and mode, replaced atomically.

    /etc/nginx/nginx.conf:
      file.managed:
        - source: salt://web/nginx.conf.j2
        - template: jinja
        - context:
            workers: 4
        - user: root
        - group: root
        - mode: 644
        - makedirs: True
        - follow_symlinks: True        # Salt's default; only links root could plant

    /etc/motd:
      file.managed:
        - contents: Welcome to {{ grains['id'] }}     # gets a trailing newline, like Salt
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from typing import Any, Mapping

from core.errors import StateArgError
from minion.state.contract import ExecContext, Pending, StateFailed
from minion.states.fileops import (
    Owner,
    check_path,
    created_changes,
    dir_mode_for,
    makedirs,
    missing_parent_note,
    need_parent,
    owner_changes,
    parse_mode,
    parse_owner,
    read_bytes,
    set_owner,
    text_diff,
    want_uid,
    write_keeping_owner,
)
from minion.providers.safefs import MissingParent, locate, read_in
from minion.states.specargs import as_bool, as_list, check_known

_KNOWN = (
    "source",
    "source_hash",
    "skip_verify",
    "template",
    "context",
    "defaults",
    "contents",
    "contents_pillar",
    "contents_newline",
    "user",
    "group",
    "mode",
    "makedirs",
    "dir_mode",
    "replace",
    "create",
    "follow_symlinks",
    "show_changes",
)

_LINK_TO_FILE = "Replace symbolic link with regular file"


@dataclass(frozen=True)
class ManagedSpec:
    name: str
    sources: tuple[str, ...] = ()
    source_hash: str | None = None
    skip_verify: bool = False
    template: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)
    contents: str | None = None
    contents_pillar: str | None = None
    contents_newline: bool = True
    owner: Owner = Owner()
    dir_mode: int | None = None
    makedirs: bool = False
    replace: bool = True
    create: bool = True
    follow_symlinks: bool = True
    show_changes: bool = True


def parse_template(where: str, args: Mapping[str, Any]) -> tuple[str | None, dict[str, Any]]:
    template = args.get("template")
    if template not in (None, "", "jinja"):
        raise StateArgError(f"{where}: template {template!r} is not supported (only jinja)")
    ctx: dict[str, Any] = {}
    for key in ("defaults", "context"):  # context overrides defaults
        value = args.get(key)
        if value is None:
            continue
        if not isinstance(value, Mapping):
            raise StateArgError(f"{where}: {key} must be a mapping")
        ctx.update(value)
    return template or None, ctx


class Managed:
    """file.managed"""

    where = "file.managed"

    def parse(self, name: str, args: Mapping[str, Any]) -> ManagedSpec:
        where = self.where
        check_known(where, args, _KNOWN)
        path = check_path(where, name)
        contents = args.get("contents")
        if isinstance(contents, (list, tuple)):
            contents = "\n".join(str(c) for c in contents)
        elif contents is not None and not isinstance(contents, str):
            contents = str(contents)
        sources = as_list(where, "source", args.get("source"))
        given = [k for k in ("source", "contents", "contents_pillar") if args.get(k) is not None]
        if len(given) > 1:
            raise StateArgError(f"{where}: give only one of {', '.join(given)}")
        template, context = parse_template(where, args)
        hash_value = args.get("source_hash")
        return ManagedSpec(
            name=path,
            sources=sources,
            source_hash=None if hash_value is None else str(hash_value),
            skip_verify=as_bool(where, "skip_verify", args.get("skip_verify")),
            template=template,
            context=context,
            contents=contents,
            contents_pillar=None
            if args.get("contents_pillar") is None
            else str(args["contents_pillar"]),
            contents_newline=as_bool(where, "contents_newline", args.get("contents_newline"), True),
            owner=parse_owner(where, args),
            dir_mode=parse_mode(where, args.get("dir_mode")),
            makedirs=as_bool(where, "makedirs", args.get("makedirs")),
            replace=as_bool(where, "replace", args.get("replace"), True),
            create=as_bool(where, "create", args.get("create"), True),
            follow_symlinks=as_bool(where, "follow_symlinks", args.get("follow_symlinks"), True),
            show_changes=as_bool(where, "show_changes", args.get("show_changes"), True),
        )

    # -- the desired content -----------------------------------------------------------------
    def wanted_content(self, ctx: ExecContext, spec: ManagedSpec) -> bytes | None:
        if spec.contents is not None or spec.contents_pillar is not None:
            text = (
                spec.contents
                if spec.contents is not None
                else _pillar_get(ctx, spec.contents_pillar or "")
            )
            if spec.template and ctx.render is not None:
                text = ctx.render(text, dict(spec.context), f"{spec.name} (contents)")
            if spec.contents_newline and not text.endswith("\n"):
                text += "\n"
            return text.encode("utf-8")
        if not spec.sources:
            return None
        last_error: StateFailed | None = None
        for source in spec.sources:
            try:
                local = ctx.files.cache_file(source)
            except StateFailed as exc:
                last_error = exc
                continue
            data = read_bytes(local)
            if spec.source_hash and not spec.skip_verify:
                verify_hash(source, data, spec.source_hash)
            if spec.template:
                if ctx.render is None:
                    raise StateFailed("no template renderer is configured")
                data = ctx.render(data.decode("utf-8"), dict(spec.context), source).encode("utf-8")
            return data
        raise last_error or StateFailed("no source found")

    def check(self, ctx: ExecContext, spec: ManagedSpec) -> Pending:
        content = self.wanted_content(ctx, spec)
        pending = plan_file(
            spec.name,
            content,
            spec.owner,
            replace=spec.replace,
            make_dirs=spec.makedirs,
            create=spec.create,
            follow=spec.follow_symlinks,
        )
        diff = pending.changes.get("diff")
        if not spec.show_changes and diff not in (None, "New file", _LINK_TO_FILE):
            pending.changes["diff"] = "<show_changes=False>"
        return pending

    def apply(self, ctx: ExecContext, spec: ManagedSpec, pending: Pending) -> dict[str, Any]:
        dir_mode = spec.dir_mode if spec.dir_mode is not None else dir_mode_for(spec.owner.mode)
        write_planned(
            spec.name, spec.owner, pending, Owner(spec.owner.user, spec.owner.group, dir_mode)
        )
        return applied_changes(spec.owner, pending)


def _pillar_get(ctx: ExecContext, path: str) -> str:
    node: Any = ctx.pillar
    for part in path.split(":"):
        if not isinstance(node, Mapping) or part not in node:
            raise StateFailed(f"Pillar {path} does not exist")
        node = node[part]
    if isinstance(node, (dict, list)):
        import yaml

        return yaml.safe_dump(node, default_flow_style=False)
    return str(node)


def verify_hash(source: str, data: bytes, source_hash: str) -> None:
    """Check `data` against `sha256=HEX`, `sha256:HEX` or a bare hex digest (algo by length)."""
    import hashlib

    text = source_hash.strip()
    algo = ""
    for sep in ("=", ":"):
        if sep in text and text.split(sep, 1)[0].lower() in hashlib.algorithms_available:
            algo, text = text.split(sep, 1)
            break
    digest = text.strip().lower()
    algo = algo.lower() or {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}.get(len(digest), "")
    if not algo:
        raise StateFailed(f"source_hash {source_hash!r} is not a digest this state understands")
    actual = hashlib.new(algo, data).hexdigest()
    if actual != digest:
        raise StateFailed(f"Source {source} does not match source_hash: {algo} is {actual}")


def plan_file(
    path: str,
    content: bytes | None,
    want: Owner,
    *,
    replace: bool = True,
    make_dirs: bool = False,
    create: bool = True,
    follow: bool = True,
) -> Pending:
    """What writing `content` (None: leave content alone) with `want` to `path` would change.

    Salt's shapes: a new file is `{newfile: path}` here (test mode) and `applied_changes`
    gives what the real run reports; an existing one `{diff, user, group, mode}` in both.

    `follow` (Salt's follow_symlinks): a symlink at `path` is followed to the file it names,
    if root or the file's owner alone could have planted it (safefs); otherwise the state
    fails saying why. Not following replaces the link with a regular file, as Salt does.
    """
    try:
        entry = locate(path, follow=follow, owner=want_uid(want))
    except MissingParent:
        entry = None
    changes: dict[str, Any] = {}
    facts: dict[str, Any] = {"target": path, "content": None, "follow": follow}
    st = None if entry is None else entry.st
    try:
        if entry is not None:
            facts["target"] = entry.path
        if st is None or stat.S_ISLNK(st.st_mode):
            if st is None and not create:
                return Pending(comment=f"File {path} is not present and create is False")
            facts["make_dirs"] = make_dirs
            facts["content"] = content if content is not None else b""
            if st is None:
                changes["newfile"] = path
                facts["new"] = True
                comment = f"File {path} would be created{missing_parent_note(path, make_dirs)}"
                applied = f"File {path} created"
            else:
                changes["diff"] = _LINK_TO_FILE
                changes.update(owner_changes(None, want))
                comment, applied = f"File {path} is set to be changed", f"File {path} updated"
            return Pending(changes=changes, facts=facts, comment=comment, applied_comment=applied)
        if stat.S_ISDIR(st.st_mode):
            raise StateFailed(f"Specified target {path} is a directory")
        if content is not None and replace:
            assert entry is not None
            old = read_in(entry) or b""
            if old != content:
                changes["diff"] = text_diff(old, content)
                facts["content"] = content
        changes.update(owner_changes(st, want))
    finally:
        if entry is not None:
            entry.close()
    if not changes:
        return Pending(comment=f"File {path} is in the correct state")
    return Pending(
        changes=changes,
        facts=facts,
        comment=f"File {path} is set to be changed",
        applied_comment=f"File {path} updated",
    )


def applied_changes(want: Owner, pending: Pending) -> dict[str, Any]:
    """What a real run that carried out `pending` (from plan_file) reports: a file it created
    as Salt's real run reports one, else what the plan said."""
    if pending.facts.get("new"):
        return {"diff": "New file", **created_changes(want)}
    return dict(pending.changes)


def write_planned(path: str, want: Owner, pending: Pending, dir_owner: Owner | None = None) -> None:
    """Make what plan_file found: write content atomically (keeping owner/mode), chown/chmod.

    The path is walked again from `/` (not the target check found), so links are checked
    again at the moment of writing."""
    content = pending.facts.get("content")
    follow = pending.facts.get("follow", True)
    if content is not None:
        need_parent(path, pending.facts.get("make_dirs", True))
        makedirs(os.path.dirname(path), dir_owner, trust=want_uid(want))
        write_keeping_owner(path, content, want, follow=follow)
    else:
        set_owner(path, want, follow=follow)
