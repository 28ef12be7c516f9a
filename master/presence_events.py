"""Events the master records about its minions beyond drift: connecting, going away, a failed
apply. Recorded through the drift service's event log (`lpmaster events`); a full store or
any other failure to record never disturbs the job or the connection it is about.
"""
from __future__ import annotations

import logging
from typing import Any

from core.jobstate import is_lost
from master.events import APPLY_FAILED, MINION_CONNECTED, MINION_GONE

log = logging.getLogger("lp.master.events")


def record_quietly(events: Any, kind: str, minion_id: str, detail: dict[str, Any]) -> None:
    try:
        events.record(kind, minion_id, detail)
    except Exception as exc:
        log.info("%s event for %s not recorded: %s", kind, minion_id, exc)


def presence_event(events: Any, minion_id: str, connected: bool) -> None:
    record_quietly(events, MINION_CONNECTED if connected else MINION_GONE, minion_id, {})


def return_event(events: Any, minion_id: str, ret: Any) -> None:
    """An `apply_failed` event for a state run that failed (or was lost)."""
    if str(ret.fun).startswith("state.") and not ret.success:
        detail = {"jid": ret.jid, "fun": ret.fun, "retcode": ret.retcode}
        if is_lost(ret.retcode):
            detail["lost"] = True
        record_quietly(events, APPLY_FAILED, minion_id, detail)
