"""file.replace and file.append: edit part of a file's text, keeping the rest.

/etc/ssh/sshd_config:
  file.replace:
    - pattern: '^#?PermitRootLogin .*$'
    - repl: 'PermitRootLogin no'
    - append_if_not_found: True      # keeps /etc/ssh/sshd_config.bak, like Salt

/etc/hosts:
  file.append:
    - text:
      - 10.0.0.5 db1
      - 10.0.0.6 db2
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Mapping

from core.errors import StateArgError
from minion.state.contract import ExecContext, Pending, StateFailed
from minion.states.fileops import (
    Owner,
    check_path,
    makedirs,
    need_parent,
    text_diff,
    write_keeping_owner,
)
from minion.states.file_textedit import edit_pending, read_text, write_edit
from minion.states.specargs import as_bool, as_list, check_known

_FLAG_NAMES = {
    "IGNORECASE": re.IGNORECASE,
    "I": re.IGNORECASE,
    "MULTILINE": re.MULTILINE,
    "M": re.MULTILINE,
    "DOTALL": re.DOTALL,
    "S": re.DOTALL,
    "VERBOSE": re.VERBOSE,
    "X": re.VERBOSE,
    "ASCII": re.ASCII,
    "A": re.ASCII,
}


@dataclass(frozen=True)
class ReplaceSpec:
    name: str
    pattern: re.Pattern[str]
    repl: str
    count: int
    append_if_not_found: bool
    prepend_if_not_found: bool
    not_found_content: str | None
    backup: str | None
    ignore_if_missing: bool


class Replace:
    """file.replace"""

    where = "file.replace"

    def parse(self, name: str, args: Mapping[str, Any]) -> ReplaceSpec:
        where = self.where
        check_known(
            where,
            args,
            (
                "pattern",
                "repl",
                "count",
                "flags",
                "append_if_not_found",
                "prepend_if_not_found",
                "not_found_content",
                "backup",
                "ignore_if_missing",
                "bufsize",
                "dry_run",
                "search_only",
                "append_newline",
            ),
        )
        pattern, repl = args.get("pattern"), args.get("repl")
        if not isinstance(pattern, str) or pattern == "":
            raise StateArgError(f"{where}: pattern must be a non-empty regular expression")
        if repl is None or isinstance(repl, (dict, list)):
            raise StateArgError(f"{where}: repl must be a string")
        flags_arg = args.get("flags", 8)  # Salt's default: MULTILINE (8)
        flags = 0
        if isinstance(flags_arg, int) and not isinstance(flags_arg, bool):
            flags = flags_arg
        else:
            for flag in as_list(where, "flags", flags_arg):
                if flag.upper() not in _FLAG_NAMES:
                    raise StateArgError(f"{where}: unknown regex flag {flag!r}")
                flags |= _FLAG_NAMES[flag.upper()]
        try:
            compiled = re.compile(pattern, flags)
        except re.error as exc:
            raise StateArgError(f"{where}: bad pattern {pattern!r}: {exc}") from exc
        count = args.get("count", 0)
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise StateArgError(f"{where}: count must be a number >= 0")
        backup = args.get("backup", ".bak")
        return ReplaceSpec(
            name=check_path(where, name),
            pattern=compiled,
            repl=str(repl),
            count=count,
            append_if_not_found=as_bool(
                where, "append_if_not_found", args.get("append_if_not_found")
            ),
            prepend_if_not_found=as_bool(
                where, "prepend_if_not_found", args.get("prepend_if_not_found")
            ),
            not_found_content=None
            if args.get("not_found_content") is None
            else str(args["not_found_content"]),
            backup=None if backup in (False, None, "") else str(backup),
            ignore_if_missing=as_bool(where, "ignore_if_missing", args.get("ignore_if_missing")),
        )

    def check(self, ctx: ExecContext, spec: ReplaceSpec) -> Pending:
        old = read_text(spec.name)
        if old is None:
            if spec.ignore_if_missing:
                return Pending(comment=f"{spec.name} does not exist; ignored")
            raise StateFailed(f"{spec.name}: file not found")
        new, found = spec.pattern.subn(spec.repl, old, count=spec.count)
        if not found and (spec.append_if_not_found or spec.prepend_if_not_found):
            content = spec.not_found_content if spec.not_found_content is not None else spec.repl
            if content not in old:
                if spec.append_if_not_found:
                    new = old + ("" if old.endswith("\n") or not old else "\n") + content + "\n"
                else:
                    new = content + "\n" + old
        return edit_pending(spec.name, old, new, f"Changes were made to {spec.name}")

    def apply(self, ctx: ExecContext, spec: ReplaceSpec, pending: Pending) -> dict[str, Any]:
        return write_edit(spec.name, pending, spec.backup)


@dataclass(frozen=True)
class AppendSpec:
    name: str
    text: tuple[str, ...]
    makedirs: bool


def _squash(text: str) -> str:
    return " ".join(text.split())


class Append:
    """file.append: add each text block not yet in the file (ignoring whitespace), at the end."""

    where = "file.append"

    def parse(self, name: str, args: Mapping[str, Any]) -> AppendSpec:
        where = self.where
        check_known(where, args, ("text", "makedirs", "ignore_whitespace"))
        text = as_list(where, "text", args.get("text"))
        if not text:
            raise StateArgError(f"{where}: text is required")
        return AppendSpec(
            name=check_path(where, name),
            text=text,
            makedirs=as_bool(where, "makedirs", args.get("makedirs")),
        )

    def check(self, ctx: ExecContext, spec: AppendSpec) -> Pending:
        current = read_text(spec.name)
        old = current or ""
        squashed = _squash(old)
        new = old
        added = 0
        for block in spec.text:
            if _squash(block) and _squash(block) in squashed:
                continue
            if new and not new.endswith("\n"):
                new += "\n"
            new += block.rstrip("\n") + "\n"
            squashed = _squash(new)
            added += 1
        if not added:
            return Pending(comment="File is already in the correct state")
        return Pending(
            changes={"diff": text_diff(old.encode(), new.encode())},
            facts={"text": new, "new": current is None},
            comment=f"File {spec.name} is set to be updated",
            applied_comment=f"Appended {added} lines",
        )

    def apply(self, ctx: ExecContext, spec: AppendSpec, pending: Pending) -> dict[str, Any]:
        if pending.facts.get("new"):
            need_parent(spec.name, spec.makedirs)
            makedirs(os.path.dirname(spec.name), Owner())
        write_keeping_owner(spec.name, pending.facts["text"].encode("utf-8"), follow=True)
        return dict(pending.changes)
