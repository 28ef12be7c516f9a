"""mine.update: publish this minion's mine values now (Salt's mine.update).

    lpmaster run 'db*' mine.update
"""
from __future__ import annotations

from typing import Any

from minion.mine import publish


def update(ctx: Any) -> list[str]:
    """Fetch this minion's pillar, run its mine_functions, send them; the names stored."""
    reply = ctx.request({"type": "pillar"})
    if not isinstance(reply, dict) or not isinstance(reply.get("pillar"), dict):
        raise RuntimeError(f"no pillar from the master: {reply.get('error') if isinstance(reply, dict) else reply}")
    return publish(ctx.request, reply["pillar"])
