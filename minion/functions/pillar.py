"""pillar.*: this minion's pillar as the master compiles it for this minion, secrets masked.

    lpmaster run web1 pillar.items
    lpmaster run web1 pillar.get app:port
    lpmaster run web1 pillar.item app db

Every value that came from an encrypted secret shows as `***` (the master says which values
those are): a return travels to the job store and the terminal, where secrets never go.
"""
from __future__ import annotations

from typing import Any

from core.errors import LinkpeekError
from core.targeting import grain_value


def items(ctx: Any) -> dict[str, Any]:
    """The whole pillar."""
    return fetch(ctx)


def get(ctx: Any, key: str, default: Any = "", delimiter: str = ":") -> Any:
    """One value by `a:b:c` path, or `default`."""
    return grain_value(fetch(ctx), str(key), default, str(delimiter))


def item(ctx: Any, *keys: str) -> dict[str, Any]:
    """{key: value} for each key named ("" when the pillar has no such key)."""
    pillar = fetch(ctx)
    return {str(k): grain_value(pillar, str(k), "", ":") for k in keys}


def ls(ctx: Any) -> list[str]:
    """The pillar's top-level keys, sorted."""
    return sorted(fetch(ctx))


def fetch(ctx: Any) -> dict[str, Any]:
    """This minion's pillar from the master, with its secrets masked."""
    from core.masking import Masker

    reply = ctx.request({"type": "pillar"})
    if not isinstance(reply, dict) or "error" in reply or not isinstance(reply.get("pillar"), dict):
        why = reply.get("error", "no pillar in the reply") if isinstance(reply, dict) else reply
        raise LinkpeekError(f"the master could not give this minion its pillar: {why}")
    masker = Masker(str(s) for s in reply.get("secrets") or [])
    return masker.mask_data(reply["pillar"])
