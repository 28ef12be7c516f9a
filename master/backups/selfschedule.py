"""The master's self-backup on its cron, in the daemon; and one run now for the CLI.

    tg.create_task(run_schedule(services, config))      # master/daemon.py
    record = await run_now(services, config)             # `lpmaster backup run '(master)' master`

Each run is recorded in the catalogue as the `(master)` row's `master` job. A slot that passed
while the master was down runs once at the next start, as the minions' schedules do.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from core.config import MasterConfig
from core.cronexpr import next_time
from core.errors import ConfigError
from master.backups.api import MASTER_ROW
from master.backups.selfbackup import JOB, run_self_backup, settings

log = logging.getLogger("lp.master.backups")

MAX_SLEEP = 60.0
_lock = asyncio.Lock()


async def run_now(services: Any, config: MasterConfig) -> dict[str, Any]:
    """Back the master up now (one at a time) and file the record; the record."""
    async with _lock:
        record = await asyncio.to_thread(run_self_backup, config)
    services.backups.catalogue.add_run(MASTER_ROW, record)
    log.info("self-backup %s%s", "ok" if record["success"] else "failed: ", record.get("error") or "")
    return record


async def run_schedule(services: Any, config: MasterConfig) -> None:
    try:
        conf = settings(config)
    except ConfigError as exc:
        log.error("self-backup not scheduled: %s", exc)
        return
    catalogue = services.backups.catalogue
    if conf is None:
        catalogue.declare(MASTER_ROW, {})
        return
    catalogue.declare(MASTER_ROW, {JOB: ("backup", conf.cron, "master")})
    started = time.time()
    while True:
        last = catalogue.runs(MASTER_ROW, JOB, limit=1)    # its newest run, by the index
        base = float(last[0]["finished_at"]) if last else started
        due = next_time(conf.cron, base)
        now = time.time()
        if due <= now:
            try:
                await run_now(services, config)
            except Exception:
                log.exception("self-backup failed")
                await asyncio.sleep(MAX_SLEEP)
            continue
        await asyncio.sleep(min(MAX_SLEEP, due - now))
