"""The library behind `lpmaster drift` and `lpmaster events` (tests call it directly).

    rows = drift_rows(cfg, "web*", max_age=3600)              # [MinionDrift], from the store
    refresh(cfg, "web*", timeout=120)                         # ask minions for a fresh check now
    for event in follow_events(cfg, after_id=0): ...          # the event log, polling

Reads the master's SQLite file directly, read-only (as `jobs` and `status` do); a refresh
goes through the running master's control socket as a `drift.check` job.
"""
from __future__ import annotations

import time
from typing import Any, Iterable, Iterator

from core.config import MasterConfig
from core.drift import MinionDrift, summarize

DRIFT_FUNCTION = "drift.check"


def targeted_minions(cfg: MasterConfig, target: str = "*", tgt_type: str = "glob") -> list[str]:
    """Accepted minions the target names (grain targets use the grains the master stored)."""
    from core import targeting
    from master import api

    accepted = api.list_keys(cfg)["accepted"]
    known = api.known_minions(cfg)
    return targeting.select({mid: (known.get(mid) or {}).get("grains") or {} for mid in accepted}, target, tgt_type,
                            nodegroups=cfg.nodegroups)


def drift_rows(cfg: MasterConfig, target: str = "*", tgt_type: str = "glob", *, max_age: float,
               now: float | None = None, unreachable: Iterable[str] = (),
               not_checked: Iterable[str] = ()) -> list[MinionDrift]:
    """Each targeted minion with its status and newest report; `unreachable` (the minions that
    did not answer a refresh) and `not_checked` (answered it, but the check failed) are shown
    as such whatever they reported before."""
    from master.drift.store import DriftStore

    store = DriftStore(cfg.db_path, readonly=True)
    try:
        reports = store.all()
    finally:
        store.close()
    from core.drift import with_checks
    from master.drills.checks import drill_checks

    targets = targeted_minions(cfg, target, tgt_type)
    now = time.time() if now is None else now
    checks = drill_checks(cfg, targets, now)  # recovery not rehearsed lately is drift too
    return [with_checks(row, checks.get(row.minion_id, ()))
            for row in summarize(reports, targets, now, max_age, unreachable, not_checked)]


def refresh(cfg: MasterConfig, target: str = "*", tgt_type: str = "glob",
            timeout: float | None = None) -> dict[str, Any]:
    """Run `drift.check` on the targeted minions through the running master and wait for them.

    Returns {"answered": [ids], "missing": {id: why}, "not_checked": {id: why}}. Each minion
    sends its report before its job returns, so once this returns the store holds every
    answered minion's new report; one whose check failed (a state run held the lock, a bad
    setting, its report not delivered) is `not_checked`: its stored report is not from now.
    """
    from master import api

    answered: list[str] = []
    missing: dict[str, str] = {}
    not_checked: dict[str, str] = {}
    for event in api.run_job(cfg, target, DRIFT_FUNCTION, [], {}, tgt_type, timeout):
        if event["event"] == "return":
            answered.append(event["minion"])
            if not event.get("success"):
                ret = event.get("ret")
                why = (ret.get("comment") or ret.get("error")) if isinstance(ret, dict) else ret
                not_checked[event["minion"]] = str(why or "the check failed")[:300]
        elif event["event"] == "done":
            missing = dict(event.get("missing") or {})
    return {"answered": sorted(answered), "missing": missing, "not_checked": not_checked}


def list_events(cfg: MasterConfig, limit: int = 100) -> list[Any]:
    from master.events import EventLog

    log = EventLog(cfg.db_path, readonly=True)
    try:
        return log.latest(limit)
    finally:
        log.close()


def follow_events(cfg: MasterConfig, after_id: int = 0, poll: float = 0.5) -> Iterator[Any]:
    """Yield events with an id above `after_id` as they are recorded, forever (Ctrl-C stops)."""
    from master.events import EventLog

    last = after_id
    while True:
        log = EventLog(cfg.db_path, readonly=True)
        try:
            batch = log.since(last)
        finally:
            log.close()
        for event in batch:
            last = event.id
            yield event
        if not batch:
            time.sleep(poll)
