"""Salt's include_pat / exclude_pat: a glob, or `E@regex` (searched), or a list of them.

    selected("conf/app.ini", include=("*.ini",), exclude=("E@^tmp/",))  -> True

A path is selected when some include pattern matches (or none is given) and no exclude
pattern matches; paths are relative to the directory being managed.
"""
from __future__ import annotations

import fnmatch
import re
from typing import Any

from core.errors import StateArgError


def parse_patterns(where: str, key: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if not isinstance(item, str) or not item:
            raise StateArgError(f"{where}: {key} must be a glob, E@regex, or a list of them")
        if item.startswith("E@"):
            try:
                re.compile(item[2:])
            except re.error as exc:
                raise StateArgError(f"{where}: {key} {item!r} is not a regex: {exc}") from None
        out.append(item)
    return tuple(out)


def matches(path: str, pattern: str) -> bool:
    if pattern.startswith("E@"):
        return re.search(pattern[2:], path) is not None
    return fnmatch.fnmatch(path, pattern)


def selected(path: str, include: tuple[str, ...] = (), exclude: tuple[str, ...] = ()) -> bool:
    if include and not any(matches(path, p) for p in include):
        return False
    return not any(matches(path, p) for p in exclude)
