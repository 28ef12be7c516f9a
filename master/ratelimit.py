"""Per-minion request budgets: a token bucket per authenticated id (one accepted key each).

    rate = PerMinionRate("scheduled_job", rate=1.0, burst=30)
    rate.take("web1")          # TooOften (a LinkpeekError with retry = True) when over

The refusal carries `retry: true` on the wire, so a minion keeps what it sent (its spool)
and sends it again later: a limit never loses a job. A minion over its limit is logged once
per LOG_WINDOW_S (with how many requests were refused since), not once per request.

`pillar_rate` limits what makes the master compile a minion's pillar (decrypt its secrets,
render its Jinja): `pillar` and `mine_update` share one bucket per minion.
"""
from __future__ import annotations

import logging
import time

from core.errors import LinkpeekError

log = logging.getLogger("lp.master.ratelimit")

SCHEDULED_JOBS_PER_S = 1.0     # sustained, per minion (a schedule of `seconds: 1` fits)
SCHEDULED_JOBS_BURST = 30      # at once (a minion back from an outage delivering kept jobs)
PILLAR_COMPILES_PER_S = 2.0    # sustained, per minion (applies, backups, drift checks, mine)
PILLAR_COMPILES_BURST = 40     # at once (a fleet-wide apply, backup and drift check together)
LOG_WINDOW_S = 10.0


class TooOften(LinkpeekError):
    """A minion asks faster than its limit; it keeps what it sent and retries later."""

    retry = True


class PerMinionRate:
    """A token bucket per minion id."""

    def __init__(self, what: str, rate: float, burst: int, advice: str = "keep it and retry later") -> None:
        self.what, self.rate, self.burst, self.advice = what, rate, burst, advice
        self._buckets: dict[str, tuple[float, float]] = {}   # id -> (tokens, when)
        self._refused: dict[str, tuple[float, int]] = {}     # id -> (last logged, refused since)

    def take(self, minion_id: str) -> None:
        """Spend one token of `minion_id`'s bucket, or raise TooOften."""
        now = time.monotonic()
        tokens, when = self._buckets.get(minion_id, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - when) * self.rate)
        if tokens < 1.0:
            self._buckets[minion_id] = (tokens, now)
            self._note_refused(minion_id, now)
            raise TooOften(f"{self.what} sent too often (limit {self.rate:g}/s, {self.burst} at once); "
                           f"{self.advice}")
        self._buckets[minion_id] = (tokens - 1.0, now)

    def _note_refused(self, minion_id: str, now: float) -> None:
        logged, count = self._refused.get(minion_id, (-LOG_WINDOW_S, 0))
        count += 1
        if now - logged < LOG_WINDOW_S:
            self._refused[minion_id] = (logged, count)
            return
        log.warning("%s from %s over its limit (%g/s, %d at once): refused %d request(s) since the last note",
                    self.what, minion_id, self.rate, self.burst, count)
        self._refused[minion_id] = (now, 0)
