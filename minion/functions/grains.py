"""grains.*: the minion's grains (Salt's grains module).

    lpmaster run '*' grains.items
    lpmaster run '*' grains.get os
    lpmaster run '*' grains.get ip4_interfaces:eth0
    lpmaster run '*' grains.item os osrelease
"""
from __future__ import annotations

from typing import Any

from core.targeting import grain_value


def items(ctx: Any) -> dict[str, Any]:
    """Every grain."""
    return dict(ctx.grains)


def get(ctx: Any, key: str, default: Any = "", delimiter: str = ":") -> Any:
    """One grain by `a:b:c` path (into maps, and lists by index), or `default`."""
    return grain_value(ctx.grains, str(key), default, str(delimiter))


def item(ctx: Any, *keys: str) -> dict[str, Any]:
    """{key: value} for each grain named ("" for one this minion does not have)."""
    return {str(k): grain_value(ctx.grains, str(k), "", ":") for k in keys}


def ls(ctx: Any) -> list[str]:
    """The grains' names, sorted."""
    return sorted(ctx.grains)
