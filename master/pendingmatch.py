"""Which pending keys a target would name: what to tell a user whose target matched no
accepted minion ("2 keys pending (db1, web1): lpmaster keys accept ...").

Only id-based targets (glob, list, pcre, and compound ones made of those) can match a pending
key: the master has no grains or pillar for a minion it has not accepted.
"""
from __future__ import annotations

from typing import Any

from core import targeting
from core.errors import LinkpeekError


def pending_matching(keystore: Any, target: str, tgt_type: str) -> list[str]:
    pending = keystore.list_ids().get("pending", [])
    if not pending:
        return []
    try:
        return targeting.select({mid: {} for mid in pending}, target, tgt_type, pillars={})
    except LinkpeekError:
        return []


def no_match_message(target: str, pending: list[str]) -> str:
    """The CLI's line when a target matched no accepted minion."""
    from core.stateoutput import safe_text

    if not pending:
        return f"lpmaster: no minions matched the target {safe_text(target)!r} (lpmaster keys list shows every key)"
    names = ", ".join(safe_text(p) for p in pending[:10]) + (", ..." if len(pending) > 10 else "")
    return (f"lpmaster: no minions matched the target {safe_text(target)!r}; {len(pending)} key(s) pending "
            f"({names}): lpmaster keys accept {safe_text(target)!r}")
