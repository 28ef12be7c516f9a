"""Per-minion request budgets: a token bucket per authenticated id.

    rate = PerMinionRate("scheduled_job", rate=1.0, burst=30)
    rate.take("web1")          # TooOften (a LinkpeekError with retry = True) when over

The refusal carries `retry: true` on the wire, so a minion keeps what it sent (its spool)
and sends it again later: a limit never loses a job.
"""
from __future__ import annotations

import time

from core.errors import LinkpeekError

SCHEDULED_JOBS_PER_S = 1.0     # sustained, per minion (a schedule of `seconds: 1` fits)
SCHEDULED_JOBS_BURST = 30      # at once (a minion back from an outage delivering kept jobs)


class TooOften(LinkpeekError):
    """A minion asks faster than its limit; it keeps what it sent and retries later."""

    retry = True


class PerMinionRate:
    """A token bucket per minion id."""

    def __init__(self, what: str, rate: float, burst: int) -> None:
        self.what, self.rate, self.burst = what, rate, burst
        self._buckets: dict[str, tuple[float, float]] = {}   # id -> (tokens, when)

    def take(self, minion_id: str) -> None:
        """Spend one token of `minion_id`'s bucket, or raise TooOften."""
        now = time.monotonic()
        tokens, when = self._buckets.get(minion_id, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - when) * self.rate)
        if tokens < 1.0:
            self._buckets[minion_id] = (tokens, now)
            raise TooOften(f"{self.what} sent too often (limit {self.rate:g}/s, {self.burst} at once); "
                           "keep it and retry later")
        self._buckets[minion_id] = (tokens - 1.0, now)
