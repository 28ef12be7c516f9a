"""Recursive dict merging, as Salt merges pillar SLS files and `slsutil.merge` merges maps.

    >>> merge_recursive({"a": {"x": 1}, "l": [1]}, {"a": {"y": 2}, "l": [2]})
    {'a': {'x': 1, 'y': 2}, 'l': [2]}
"""
from __future__ import annotations

from typing import Any, Mapping


def merge_recursive(base: Mapping[str, Any], update: Mapping[str, Any],
                    merge_lists: bool = False) -> dict[str, Any]:
    """A new dict: `update` merged over `base`; dicts merge key by key, anything else is replaced.

    With `merge_lists`, a list in `update` is appended to a list in `base` (Salt's
    `pillar_merge_lists`); by default the later list wins.
    """
    out: dict[str, Any] = dict(base)
    for key, value in update.items():
        old = out.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            out[key] = merge_recursive(old, value, merge_lists)
        elif merge_lists and isinstance(old, list) and isinstance(value, list):
            out[key] = old + [v for v in value if v not in old]
        else:
            out[key] = value
    return out


def traverse(data: Any, path: str, default: Any = None, delimiter: str = ":") -> Any:
    """`a:b:c` lookup through nested dicts and list indexes; `default` when any step is missing."""
    node = data
    for part in str(path).split(delimiter):
        if isinstance(node, Mapping):
            if part in node:
                node = node[part]
                continue
            return default
        if isinstance(node, list):
            try:
                node = node[int(part)]
                continue
            except (ValueError, IndexError):
                return default
        return default
    return node
