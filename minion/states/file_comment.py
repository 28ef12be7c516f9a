"""file.comment and file.uncomment: comment out (or back in) the lines a regex matches.

    /etc/apt/sources.list:
      file.comment:
        - regex: ^deb cdrom
    /etc/ssh/sshd_config:
      file.uncomment:
        - regex: PasswordAuthentication
        - char: '#'

As Salt 3008.5: a `.bak` copy is kept (`backup: False` for none); comment prefixes `char` to
each matching line not yet commented ("Pattern already commented" when all are); uncomment
removes `char` (and nothing else) before a matching line; a pattern found nowhere fails the
state ("Pattern not found"), unless `ignore_missing: True`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from core.errors import StateArgError
from minion.state.contract import ExecContext, Pending, StateFailed
from minion.states.file_textedit import backup_arg, edit_pending, read_text, write_edit
from minion.states.fileops import check_path
from minion.states.specargs import as_bool, check_known


@dataclass(frozen=True)
class CommentSpec:
    name: str
    regex: str      # as given, less a leading ^ and trailing $ (they anchor, as in Salt)
    anchored_start: bool
    anchored_end: bool
    char: str
    backup: str | None
    ignore_missing: bool


def _parse(where: str, name: str, args: Mapping[str, Any], extra: tuple[str, ...]) -> CommentSpec:
    check_known(where, args, ("regex", "char", "backup", *extra))
    regex = args.get("regex")
    if not isinstance(regex, str) or not regex:
        raise StateArgError(f"{where}: regex is required")
    char = str(args.get("char", "#"))
    if not char or "\n" in char:
        raise StateArgError(f"{where}: char must be a non-empty one-line string")
    core = regex[1:] if regex.startswith("^") else regex
    core = core[:-1] if core.endswith("$") else core
    try:
        re.compile(core)
    except re.error as exc:
        raise StateArgError(f"{where}: bad regex {regex!r}: {exc}") from None
    return CommentSpec(check_path(where, name), core, regex.startswith("^"), regex.endswith("$"),
                       char, backup_arg(args.get("backup"), ".bak"),
                       as_bool(where, "ignore_missing", args.get("ignore_missing")))


def _pattern(spec: CommentSpec, commented: bool) -> re.Pattern[str]:
    lead = ""
    if commented:
        lead = rf"^[ \t]*{re.escape(spec.char)}"
    elif spec.anchored_start:
        lead = "^"
    return re.compile(f"{lead}({spec.regex}){'$' if spec.anchored_end else ''}")


def _lines(path: str) -> tuple[str, list[str]]:
    text = read_text(path)
    if text is None:
        raise StateFailed(f"{path}: file not found")
    return text, text.splitlines(keepends=True)


class Comment:
    """file.comment"""

    def parse(self, name: str, args: Mapping[str, Any]) -> CommentSpec:
        return _parse("file.comment", name, args, ("ignore_missing",))

    def check(self, ctx: ExecContext, spec: CommentSpec) -> Pending:
        text, lines = _lines(spec.name)
        plain = _pattern(spec, False)
        out, hits = [], 0
        for line in lines:
            if plain.search(line) and not line.lstrip().startswith(spec.char):
                out.append(spec.char + line)
                hits += 1
            else:
                out.append(line)
        if not hits:
            commented = _pattern(spec, True)
            if any(commented.search(line) for line in lines):
                return Pending(comment="Pattern already commented")
            if spec.ignore_missing:
                return Pending(comment=f"{spec.regex}: Pattern not found and ignore_missing set")
            raise StateFailed(f"{spec.regex}: Pattern not found")
        return edit_pending(spec.name, text, "".join(out), "Commented lines successfully")

    def apply(self, ctx: ExecContext, spec: CommentSpec, pending: Pending) -> dict[str, Any]:
        return write_edit(spec.name, pending, spec.backup)


class Uncomment:
    """file.uncomment"""

    def parse(self, name: str, args: Mapping[str, Any]) -> CommentSpec:
        return _parse("file.uncomment", name, args, ())

    def check(self, ctx: ExecContext, spec: CommentSpec) -> Pending:
        text, lines = _lines(spec.name)
        commented = re.compile(rf"^([ \t]*){re.escape(spec.char)}([ \t]*(?:{spec.regex}))"
                               + ("$" if spec.anchored_end else ""))
        out, hits = [], 0
        for line in lines:
            found = commented.search(line)
            if found:
                out.append(found.group(1) + line[found.end(1) + len(spec.char):])
                hits += 1
            else:
                out.append(line)
        if not hits:
            plain = _pattern(spec, False)
            if any(plain.search(line) for line in lines):
                return Pending(comment="Pattern already uncommented")
            raise StateFailed(f"{spec.regex}: Pattern not found")
        return edit_pending(spec.name, text, "".join(out), "Uncommented lines successfully")

    def apply(self, ctx: ExecContext, spec: CommentSpec, pending: Pending) -> dict[str, Any]:
        return write_edit(spec.name, pending, spec.backup)
