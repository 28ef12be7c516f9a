"""Scheduled drills from master.yaml, run by the daemon without anyone:

    drills:
      web1: {onto: scratch1, cron: "0 6 * * 1"}       # every Monday at 06:00 (master's local time)

A sixth cron field counts seconds (croniter's), for tests. A drill that cannot start (SCRATCH
not connected, a drill already running there) is logged and recorded as a failed drill event;
one that runs is recorded like a manual drill, with trigger `schedule`.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Mapping

from core.cronexpr import check_cron, next_time
from core.errors import ConfigError, LinkpeekError
from core.wire import MINION_ID_RE

log = logging.getLogger("lp.master.drills")


@dataclass(frozen=True)
class ScheduledDrill:
    source: str
    onto: str
    cron: str


def parse_schedule(drills: Mapping[str, Any], where: str = "master.yaml") -> list[ScheduledDrill]:
    """ConfigError naming the entry when `drills:` is not {SOURCE: {onto: ID, cron: EXPR}}."""
    out = []
    for source, spec in sorted((drills or {}).items()):
        entry = f"{where}: drills: {source}"
        if not isinstance(source, str) or not MINION_ID_RE.match(source):
            raise ConfigError(f"{entry}: not a minion id")
        if not isinstance(spec, Mapping) or set(spec) - {"onto", "cron"}:
            raise ConfigError(f"{entry}: expected {{onto: SCRATCH, cron: \"0 6 * * 1\"}}")
        onto, cron = spec.get("onto"), spec.get("cron")
        if not isinstance(onto, str) or not MINION_ID_RE.match(onto) or onto == source:
            raise ConfigError(f"{entry}: onto must name another minion (the scratch host)")
        out.append(ScheduledDrill(source, onto, check_cron(cron, entry, example="0 6 * * 1")))
    return out


def next_run(cron: str, after: float) -> float:
    """The next time of `cron` after `after`, in the master's local time (as the module doc says)."""
    return next_time(cron, after)


async def run_schedule(runner: Any, schedule: list[ScheduledDrill]) -> None:
    """Forever: wait for the next due drill, run it, and go on (a failure never stops this)."""
    if not schedule:
        return
    now = time.time()
    due = {entry: next_run(entry.cron, now) for entry in schedule}
    while True:
        entry = min(due, key=lambda e: due[e])
        await asyncio.sleep(max(0.0, due[entry] - time.time()))
        try:
            await runner.run(entry.source, entry.onto, trigger="schedule", user="schedule")
        except LinkpeekError as exc:
            _refused(runner, entry, str(exc))
        except Exception:
            log.exception("scheduled drill of %s onto %s failed", entry.source, entry.onto)
        due[entry] = next_run(entry.cron, time.time())


def _refused(runner: Any, entry: ScheduledDrill, why: str) -> None:
    from master.events import DRILL_FAILED

    log.warning("scheduled drill of %s onto %s did not start: %s", entry.source, entry.onto, why)
    runner.daemon.services.drift.events.record(DRILL_FAILED, entry.source,
                                               {"onto": entry.onto, "trigger": "schedule", "refused": why[:200]})
