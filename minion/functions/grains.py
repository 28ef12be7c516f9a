"""grains.*: the minion's grains."""
from __future__ import annotations

from typing import Any

from core.targeting import grain_value


def items(ctx: Any) -> dict[str, Any]:
    """Every grain."""
    return dict(ctx.grains)


def get(ctx: Any, key: str, default: Any = "", delimiter: str = ":") -> Any:
    """One grain by `a:b:c` path, or `default`."""
    return grain_value(ctx.grains, str(key), default, delimiter)
