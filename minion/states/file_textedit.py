"""What file.line, file.comment/uncomment and file.blockreplace share: read the text, compare,
and write the new text through the one safe write path (fileops.write_keeping_owner), with
Salt's `.bak` backup where Salt keeps one."""
from __future__ import annotations

from typing import Any

from minion.state.contract import Pending, StateFailed
from minion.states.fileops import backup_copy, read_target, text_diff, write_keeping_owner


def read_text(path: str) -> str | None:
    data = read_target(path)
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise StateFailed(f"{path} is not UTF-8 text") from None


def edit_pending(path: str, old: str, new: str, comment_done: str = "Changes were made",
                 show_changes: bool = True) -> Pending:
    if new == old:
        return Pending(comment="No changes needed to be made")
    diff = text_diff(old.encode(), new.encode()) if show_changes else "<show_changes=False>"
    return Pending(changes={"diff": diff}, facts={"text": new},
                   comment=f"Changes would have been made to {path}", applied_comment=comment_done)


def write_edit(path: str, pending: Pending, backup: str | None) -> dict[str, Any]:
    if backup:
        backup_copy(path, backup)
    write_keeping_owner(path, pending.facts["text"].encode("utf-8"), follow=True)
    return dict(pending.changes)


def backup_arg(value: Any, default: str | None) -> str | None:
    if value is None:
        return default
    if value is False or value == "" or value is True and default is None:
        return None
    return ".bak" if value is True else str(value)
