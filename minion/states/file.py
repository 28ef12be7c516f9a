"""The `file` state module: managed, directory, symlink, absent, replace, recurse, append, line,
comment, uncomment, blockreplace.

Each function lives in a small module of its own group (file_managed, file_tree, file_entry,
file_edit, ...); this table is what the registry in minion/states/__init__.py reads. A function's
module is imported when a plan first uses it (a run of file.managed states does not load the
text editors).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any

_WHERE = {
    "managed": ("file_managed", "Managed"),
    "directory": ("file_tree", "Directory"),
    "symlink": ("file_entry", "Symlink"),
    "absent": ("file_entry", "Absent"),
    "replace": ("file_edit", "Replace"),
    "recurse": ("file_tree", "Recurse"),
    "append": ("file_edit", "Append"),
    "line": ("file_line", "Line"),
    "comment": ("file_comment", "Comment"),
    "uncomment": ("file_comment", "Uncomment"),
    "blockreplace": ("file_blockreplace", "Blockreplace"),
}


class _Functions(Mapping[str, Any]):
    """name -> state function object, each made on first use."""

    def __init__(self) -> None:
        self._made: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._made:
            module, cls = _WHERE[name]
            self._made[name] = getattr(importlib.import_module(f"minion.states.{module}"), cls)()
        return self._made[name]

    def __iter__(self) -> Iterator[str]:
        return iter(_WHERE)

    def __len__(self) -> int:
        return len(_WHERE)


FUNCTIONS = _Functions()
