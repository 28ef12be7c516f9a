"""file.blockreplace: the text between two marker lines is exactly `content`.

    /etc/hosts:
      file.blockreplace:
        - marker_start: "# BEGIN linkpeek hosts"
        - marker_end: "# END linkpeek hosts"
        - content: |
            10.0.0.5 db1
            10.0.0.6 db2
        - append_if_not_found: True

As Salt 3008.5: a marker is found as part of a line (the whole line is kept); the block gets
a final newline; without the markers the block is appended (or prepended, or put before or
after the first line matching `insert_before_match` / `insert_after_match`) when asked, else
the state fails; a `.bak` copy is kept (`backup: False` for none).
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


@dataclass(frozen=True)
class BlockSpec:
    name: str
    marker_start: str
    marker_end: str
    content: str
    append: bool
    prepend: bool
    before: re.Pattern[str] | None
    after: re.Pattern[str] | None
    backup: str | None
    show_changes: bool


class Blockreplace:
    """file.blockreplace"""

    where = "file.blockreplace"

    def parse(self, name: str, args: Mapping[str, Any]) -> BlockSpec:
        where = self.where
        check_known(where, args, ("marker_start", "marker_end", "content", "append_if_not_found",
                                  "prepend_if_not_found", "insert_before_match",
                                  "insert_after_match", "backup", "show_changes",
                                  "append_newline", "dry_run"))
        start, end = args.get("marker_start"), args.get("marker_end")
        for key, value in (("marker_start", start), ("marker_end", end)):
            if not isinstance(value, str) or not value.strip() or "\n" in value.strip():
                raise StateArgError(f"{where}: {key} must be one non-empty line")
        content = args.get("content", "")
        if isinstance(content, list):
            content = "\n".join(str(c) for c in content)
        content = "" if content is None else str(content)
        if content and not content.endswith("\n"):
            content += "\n"
        return BlockSpec(
            name=check_path(where, name), marker_start=str(start).strip(),
            marker_end=str(end).strip(), content=content,
            append=as_bool(where, "append_if_not_found", args.get("append_if_not_found")),
            prepend=as_bool(where, "prepend_if_not_found", args.get("prepend_if_not_found")),
            before=as_regex(where, "insert_before_match", args.get("insert_before_match")),
            after=as_regex(where, "insert_after_match", args.get("insert_after_match")),
            backup=backup_arg(args.get("backup"), ".bak"),
            show_changes=as_bool(where, "show_changes", args.get("show_changes"), True),
        )

    def check(self, ctx: ExecContext, spec: BlockSpec) -> Pending:
        text = read_text(spec.name)
        if text is None:
            raise StateFailed(f"{spec.name}: file not found")
        return edit_pending(spec.name, text, self.wanted(spec, text), show_changes=spec.show_changes)

    def apply(self, ctx: ExecContext, spec: BlockSpec, pending: Pending) -> dict[str, Any]:
        return write_edit(spec.name, pending, spec.backup)

    @staticmethod
    def wanted(spec: BlockSpec, text: str) -> str:
        lines = text.splitlines(keepends=True)
        start = next((i for i, ln in enumerate(lines) if spec.marker_start in ln), None)
        end = None if start is None else next(
            (i for i in range(start + 1, len(lines)) if spec.marker_end in lines[i]), None)
        if start is not None and end is not None:
            return "".join(lines[:start + 1]) + spec.content + "".join(lines[end:])
        block = f"{spec.marker_start}\n{spec.content}{spec.marker_end}\n"
        for pattern, offset in ((spec.before, 0), (spec.after, 1)):
            if pattern is None:
                continue
            at = next((i for i, ln in enumerate(lines) if pattern.search(ln)), None)
            if at is not None:
                return "".join(lines[:at + offset]) + block + "".join(lines[at + offset:])
        if spec.append:
            return text + ("" if not text or text.endswith("\n") else "\n") + block
        if spec.prepend:
            return block + text
        raise StateFailed(f"markers {spec.marker_start!r} / {spec.marker_end!r} were not found in "
                          f"{spec.name}: set append_if_not_found or prepend_if_not_found to add "
                          "the block")
