"""The master's time as this minion reckons it: its own clock plus an offset learned from
heartbeats (each reply carries the master's clock), so a minion whose clock is off still
judges a job's freshness (expiry, "dated in the future") in the master's time. Replays are
refused all the same: by job id (minion/jobguard.py) and by expiry.

    clock = MasterClock()
    clock.observe(sent_at, received_at, reply.get("master_time"))
    job.freshness_error(now=clock.now())
"""
from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger("lp.minion.clock")

WARN_OFFSET_S = 60.0
MAX_ROUND_TRIP_S = 5.0     # a slower beat says too little about the offset


class MasterClock:
    """This minion's estimate of master time minus local time."""

    def __init__(self) -> None:
        self.offset: float | None = None

    def observe(self, sent_at: float, received_at: float, master_time: Any) -> None:
        if not isinstance(master_time, (int, float)) or isinstance(master_time, bool):
            return
        if not 0 <= received_at - sent_at <= MAX_ROUND_TRIP_S:
            return
        offset = float(master_time) - (sent_at + received_at) / 2
        if abs(offset) >= WARN_OFFSET_S and (self.offset is None or abs(self.offset - offset) >= WARN_OFFSET_S):
            log.warning("this minion's clock is %+.0f s off the master's; jobs are judged in the master's "
                        "time (fix the clock: NTP)", -offset)
        self.offset = offset

    def now(self) -> float:
        return time.time() + (self.offset or 0.0)
