"""file.line: one line of a file, by mode: replace, insert, ensure or delete.

    /etc/default/grub:
      file.line:
        - mode: replace
        - match: ^GRUB_TIMEOUT=
        - content: GRUB_TIMEOUT=2
    /etc/fstab:
      file.line:
        - mode: ensure
        - after: ^UUID=.* / ext4
        - content: tmpfs /tmp tmpfs defaults 0 0

As Salt 3008.5: `match` (a regex, default the content) picks the lines that replace and delete
act on; insert puts the line at `location` start/end or after/before the first line matching
`after`/`before`, unless the file already has it; ensure puts it right after `after` (or right
before `before`, or between both) unless it is already there. The indentation of the line
matched is kept (`indent: False` to not). No backup unless `backup` names one. One difference:
Salt 3008.5 writes an insert at the end as a blank line and the content without a newline;
here the line is added with its newline.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from core.errors import StateArgError
from minion.state.contract import ExecContext, Pending, StateFailed
from minion.states.file_textedit import backup_arg, edit_pending, read_text, write_edit
from minion.states.fileops import check_path
from minion.states.specargs import as_bool, as_regex, check_known

MODES = ("replace", "insert", "ensure", "delete")


@dataclass(frozen=True)
class LineSpec:
    name: str
    mode: str
    content: str
    match: re.Pattern[str] | None
    location: str | None
    before: re.Pattern[str] | None
    after: re.Pattern[str] | None
    indent: bool
    create: bool
    backup: str | None
    show_changes: bool


class Line:
    """file.line"""

    where = "file.line"

    def parse(self, name: str, args: Mapping[str, Any]) -> LineSpec:
        where = self.where
        check_known(where, args, ("content", "match", "mode", "location", "before", "after",
                                  "show_changes", "backup", "quiet", "indent", "create", "user",
                                  "group", "file_mode"))
        mode = str(args.get("mode") or "").lower()
        if mode not in MODES:
            raise StateArgError(f"{where}: mode must be one of {', '.join(MODES)}")
        content = args.get("content")
        if content is None and mode != "delete":
            raise StateArgError(f"{where}: content is required for mode {mode}")
        text = "" if content is None else str(content)
        if "\n" in text.rstrip("\n"):
            raise StateArgError(f"{where}: content must be one line")
        location = args.get("location")
        if location not in (None, "start", "end"):
            raise StateArgError(f"{where}: location must be start or end")
        match = as_regex(where, "match", args.get("match"), blank_is_none=True)
        if match is None and mode in ("replace", "delete"):
            if not text:
                raise StateArgError(f"{where}: give match (or content) for mode {mode}")
            match = re.compile(re.escape(text.strip()))
        before = as_regex(where, "before", args.get("before"), blank_is_none=True)
        after = as_regex(where, "after", args.get("after"), blank_is_none=True)
        if mode == "ensure" and before is None and after is None:
            raise StateArgError(f"{where}: mode ensure needs before or after")
        if mode == "insert" and before is None and after is None and location is None:
            raise StateArgError(f"{where}: mode insert needs location, before or after")
        return LineSpec(check_path(where, name), mode, text.rstrip("\n"), match, location,
                        before, after, as_bool(where, "indent", args.get("indent"), True),
                        as_bool(where, "create", args.get("create")),
                        backup_arg(args.get("backup"), None),
                        as_bool(where, "show_changes", args.get("show_changes"), True))

    def check(self, ctx: ExecContext, spec: LineSpec) -> Pending:
        text = read_text(spec.name)
        if text is None:
            if not spec.create:
                raise StateFailed(f"{spec.name}: file not found (set create: True to make it)")
            text = ""
        new = edit(spec, text)
        return edit_pending(spec.name, text, new, show_changes=spec.show_changes)

    def apply(self, ctx: ExecContext, spec: LineSpec, pending: Pending) -> dict[str, Any]:
        return write_edit(spec.name, pending, spec.backup)


def _indented(spec: LineSpec, like: str) -> str:
    if not spec.indent:
        return spec.content
    return like[: len(like) - len(like.lstrip())] + spec.content.lstrip()


def _find(lines: list[str], pattern: re.Pattern[str] | None, start: int = 0) -> int | None:
    if pattern is None:
        return None
    return next((i for i in range(start, len(lines)) if pattern.search(lines[i])), None)


def edit(spec: LineSpec, text: str) -> str:
    """The file's text after the edit (unchanged when the line is already right)."""
    lines = text.splitlines()
    tail = "\n" if text.endswith("\n") or not text else ""
    want = spec.content.strip()
    if spec.mode == "delete":
        assert spec.match is not None
        lines = [ln for ln in lines if not spec.match.search(ln)]
    elif spec.mode == "replace":
        assert spec.match is not None
        lines = [_indented(spec, ln) if spec.match.search(ln) and ln.strip() != want else ln
                 for ln in lines]
    elif spec.mode == "insert":
        if any(ln.strip() == want for ln in lines):
            return text
        lines = _insert(spec, lines)
    else:
        lines = _ensure(spec, lines)
    return "\n".join(lines) + (tail if lines else "")


def _insert(spec: LineSpec, lines: list[str]) -> list[str]:
    after, before = _find(lines, spec.after), _find(lines, spec.before)
    if spec.after is not None or spec.before is not None:
        if after is not None:
            return [*lines[:after + 1], _indented(spec, lines[after]), *lines[after + 1:]]
        if before is not None:
            return [*lines[:before], _indented(spec, lines[before]), *lines[before:]]
        raise StateFailed(f"{spec.name}: no line matches "
                          f"{(spec.after or spec.before).pattern!r}")  # type: ignore[union-attr]
    if spec.location == "start":
        return [spec.content, *lines]
    return [*lines, spec.content]


def _ensure(spec: LineSpec, lines: list[str]) -> list[str]:
    want = spec.content.strip()
    after = _find(lines, spec.after)
    before = _find(lines, spec.before, 0 if after is None else after + 1)
    if spec.after is not None and after is None or spec.before is not None and before is None:
        missing = spec.after if spec.after is not None and after is None else spec.before
        raise StateFailed(f"{spec.name}: no line matches {missing.pattern!r}")  # type: ignore[union-attr]
    if after is not None and before is not None:
        between = lines[after + 1:before]
        if [ln.strip() for ln in between] == [want]:
            return lines
        return [*lines[:after + 1], _indented(spec, lines[after]), *lines[before:]]
    if after is not None:
        if after + 1 < len(lines) and lines[after + 1].strip() == want:
            return lines
        return [*lines[:after + 1], _indented(spec, lines[after]), *lines[after + 1:]]
    assert before is not None
    if before > 0 and lines[before - 1].strip() == want:
        return lines
    return [*lines[:before], _indented(spec, lines[before]), *lines[before:]]
