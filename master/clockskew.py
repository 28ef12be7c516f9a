"""Minions whose clock is off the master's, from the minion's clock each heartbeat carries.

    skew = ClockSkew(events)
    skew.observe("web1", request.get("clock"))     # in the heartbeat handler
    skew.off()                                     # {id: seconds ahead (+) or behind (-)}

Jobs still reach such a minion (it judges freshness in the master's time: minion/clock.py),
but its logs, schedules and reports carry its own times, so the master warns: in `status`,
in `run` and `apply` output, and with a `clock_skew` event when a minion's clock goes off
(and `clock_synced` when it is back).
"""
from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger("lp.master.clock")

WARN_OFFSET_S = 60.0


class ClockSkew:
    def __init__(self, events: Any = None) -> None:
        self.events = events
        self._offsets: dict[str, float] = {}

    def observe(self, minion_id: str, minion_clock: Any, now: float | None = None) -> None:
        if not isinstance(minion_clock, (int, float)) or isinstance(minion_clock, bool):
            return
        offset = float(minion_clock) - (time.time() if now is None else now)
        previous = self._offsets.get(minion_id)
        was_off = previous is not None and abs(previous) >= WARN_OFFSET_S
        self._offsets[minion_id] = offset
        is_off = abs(offset) >= WARN_OFFSET_S
        if is_off and not was_off:
            log.warning("%s's clock is %+.0f s off the master's", minion_id, offset)
            self._event("clock_skew", minion_id, {"offset_s": round(offset)})
        elif was_off and not is_off:
            self._event("clock_synced", minion_id, {"offset_s": round(offset)})

    def off(self, minions: Any = None) -> dict[str, float]:
        """{id: offset} of the minions (all, or those named) whose clock is off."""
        return {mid: round(off, 1) for mid, off in sorted(self._offsets.items())
                if abs(off) >= WARN_OFFSET_S and (minions is None or mid in minions)}

    def _event(self, kind: str, minion_id: str, detail: dict[str, Any]) -> None:
        if self.events is not None:
            from master.presence_events import record_quietly

            record_quietly(self.events, kind, minion_id, detail)


def skew_warning(skew: dict[str, float]) -> str | None:
    """The CLI's line about minions whose clock is off, or None."""
    if not skew:
        return None
    parts = ", ".join(f"{mid} {off:+.0f} s" for mid, off in sorted(skew.items()))
    return (f"lpmaster: warning: clock off the master's: {parts}; their jobs still run, but their "
            "logs and schedules use their own time (fix with NTP)")
