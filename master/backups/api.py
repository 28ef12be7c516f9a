"""The library behind `lpmaster backups`, `backup run|snapshots` and `restore` (tests and drills call it).

    rows = catalogue(cfg, "web*")                      # [JobStatus]: one per host and job, with its status
    good = latest_good(cfg, "web1", "db-nightly")      # the last good run's record, or None
    for event in run_backup(cfg, "web1", "db-nightly"): ...     # job / progress / return / done events
    for event in snapshots(cfg, "web1", "db-nightly"): ...
    for event in restore(cfg, "web1", "db-nightly", to="/srv/restore"): ...

The catalogue is read from the master's SQLite file (read-only, as `jobs` and `drift` do);
runs go through the running master's control socket as `backup.*` jobs.
"""
from __future__ import annotations

import time
from contextlib import closing
from typing import Any, Iterator

from core.config import MasterConfig
from master.backups.status import JobStatus, job_statuses

MASTER_ROW = "(master)"
DEFAULT_RUN_TIMEOUT = 6 * 3600.0


def catalogue(cfg: MasterConfig, target: str = "*", tgt_type: str = "glob", *,
              now: float | None = None, include_master: bool = True) -> list[JobStatus]:
    """Every declared job of the targeted minions (and the master's own, when the target is
    `*` or names it) with its status; see master/backups/status.py."""
    from master.backups.catalogue import Catalogue
    from master.drift.api import targeted_minions

    with closing(Catalogue(cfg.db_path, readonly=True)) as cat:
        declared, last = cat.declared(), cat.last_runs()
    minions = set(targeted_minions(cfg, target, tgt_type))
    if include_master and (target in ("*", MASTER_ROW)) and tgt_type == "glob":
        minions.add(MASTER_ROW)
    return job_statuses(declared, last, time.time() if now is None else now, minions)


def latest_good(cfg: MasterConfig, minion_id: str, job: str) -> dict[str, Any] | None:
    """The record of `minion_id`'s last good run of `job` (snapshot_id, finished_at, total_bytes...)."""
    from master.backups.catalogue import Catalogue

    with closing(Catalogue(cfg.db_path, readonly=True)) as cat:
        return cat.last_runs().get((minion_id, job), (None, None))[1]


def run_backup(cfg: MasterConfig, minion_id: str, job: str,
               timeout: float = DEFAULT_RUN_TIMEOUT) -> Iterator[dict[str, Any]]:
    """Run one job now on one minion; events: job, progress (restic's status), return, done."""
    from master import api

    yield from api.run_job(cfg, minion_id, "backup.run", [job], {}, "list", timeout)


def snapshots(cfg: MasterConfig, minion_id: str, job: str, timeout: float = 600.0) -> Iterator[dict[str, Any]]:
    from master import api

    yield from api.run_job(cfg, minion_id, "backup.snapshots", [job], {}, "list", timeout)


def restore(cfg: MasterConfig, minion_id: str, job: str, *, snapshot: str = "latest", to: str | None = None,
            in_place: bool = False, force: bool = False, host: str | None = None,
            timeout: float = DEFAULT_RUN_TIMEOUT) -> Iterator[dict[str, Any]]:
    from master import api

    kwarg: dict[str, Any] = {"snapshot": snapshot, "in_place": in_place, "force": force}
    if to:
        kwarg["to"] = to
    if host:
        kwarg["host"] = host
    yield from api.run_job(cfg, minion_id, "backup.restore", [job], kwarg, "list", timeout)
