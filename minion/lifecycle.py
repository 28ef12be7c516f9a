"""What the minion daemon runs besides jobs: converge on boot and the scheduler.

    life = Lifecycle(config, grains, request_async, run_job)
    await life.on_connected()          # once per process, after the key is accepted
    tg.create_task(life.scheduler.run())

Converge on boot: the minion tells the master it started (`minion_started`, with its
`startup_states`: `highstate` by default, `none`, or comma-separated SLS names); the
master records a job for it and answers with its id, and the minion runs that job like
any job it receives (`run_job(wire.Job)` starts it and returns its task), so the result
lands in the job store. When that converge is done, one drift check runs at once, so the
master has a report without waiting for the first scheduled check.

Scheduled jobs other than the drift check go to the master's job store like any job
(the daemon's `run_recorded`; see MinionDaemon._run_scheduled), spooled while it is away.
The scheduler runs the minion config's `schedule:`, the pillar's `schedule:` and `backup:`
jobs (minion/backup/schedule.py; read at start and again after each drift check) and the
built-in drift check (`drift:` in the config: interval, splay, cert_window_days, or
`enabled: false`) and the built-in mine update (Salt's `mine_interval`, minutes: once at
start with the pillar the start reads, then every interval; `lpmaster run ID mine.update` publishes at once). The built-in
jobs run here, not as jobs in the master's store.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any, Awaitable, Callable, Mapping

from core.errors import ConfigError, LinkpeekError
from minion.schedule_spec import (DEFAULT_MINE_INTERVAL, DRIFT_FUNCTION, ScheduledJob, drift_job, merge_jobs,
                                  mine_job, parse_schedule)
from minion.scheduler import Scheduler

log = logging.getLogger("lp.minion.lifecycle")

AsyncRequest = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
RunJob = Callable[[Any], Awaitable[Any]]
RunScheduled = Callable[[str, str, list[Any], dict[str, Any]], Awaitable[None]]


class Lifecycle:
    """Converge-on-boot and scheduled jobs for one running minion."""

    def __init__(self, config: Any, grains: Mapping[str, Any], request_async: AsyncRequest,
                 run_job: RunJob, run_recorded: RunScheduled | None = None) -> None:
        self.config = config
        self.grains = grains
        self._request = request_async
        self._run_job = run_job
        self._run_recorded = run_recorded
        self._started = False
        self._tasks: set[asyncio.Future[Any]] = set()
        self.config_jobs: list[ScheduledJob] = []
        self.drift: ScheduledJob | None = drift_job(None)
        try:
            self.config_jobs = parse_schedule(getattr(config, "schedule", None) or {}, "minion config")
        except ConfigError as exc:
            log.error("minion config schedule ignored: %s", exc)
        try:
            drift_conf = getattr(config, "drift", None)
            self.drift = drift_job(drift_conf if drift_conf is not None else {})
        except ConfigError as exc:
            log.error("minion config drift settings ignored (defaults used): %s", exc)
        self.mine = mine_job()
        try:
            minutes = getattr(config, "mine_interval", None)
            self.mine = mine_job(DEFAULT_MINE_INTERVAL if minutes is None else minutes)
        except ConfigError as exc:
            log.error("%s; the default (60 minutes) is used", exc)
        self.pillar_jobs: list[ScheduledJob] = []
        self.scheduler = Scheduler(self.jobs(), os.path.join(config.cache_dir, "schedule.json"),
                                   self.run_scheduled, salt=config.id)

    def jobs(self) -> list[ScheduledJob]:
        """The built-in drift check and mine update, then config jobs, then pillar jobs (later ones win by name);
        a job naming a function this minion does not have is left out, with an error logged."""
        from minion.functions import FUNCTIONS

        builtin = [self.drift] if self.drift is not None else []
        builtin.append(self.mine)
        jobs = []
        for job in merge_jobs(builtin, self.config_jobs, self.pillar_jobs):
            if job.function in FUNCTIONS:
                jobs.append(job)
            else:
                log.error("%s schedule job %r: no function %r on this minion; not scheduled",
                          job.source, job.name, job.function)
        return jobs

    async def on_connected(self) -> None:
        """Once per process: announce the start and run the converge-on-boot job the master gives."""
        if self._started:
            return
        self._started = True
        try:
            await self._announce_start()
        except Exception:  # never end the minion's session over this
            log.exception("start-up announcement failed")

    async def _announce_start(self) -> None:
        startup = getattr(self.config, "startup_states", "highstate") or "none"
        try:
            reply = await self._request({"type": "minion_started", "startup_states": startup})
        except LinkpeekError as exc:
            log.warning("could not announce the start to the master: %s", exc)
            self._started = False
            return
        pillar = await self.refresh_pillar_schedule()
        if pillar is not None:
            await self._publish_mine(pillar)   # before the boot converge, with the pillar just read
        if reply.get("error"):
            log.warning("master refused the start announcement: %s", reply["error"])
            return
        jid = reply.get("jid")
        if not jid:
            return
        from core import wire

        now = time.time()
        job = wire.Job(jid=jid, fun=str(reply.get("fun")), arg=tuple(reply.get("arg") or ()), kwarg={},
                       tgt=self.config.id, tgt_type="list", created=now,
                       expires=float(reply.get("expires") or now + 300))
        log.info("converge on boot: %s (job %s)", job.fun, jid)
        started = await self._run_job(job)
        if self.drift is not None and isinstance(started, asyncio.Future):
            check = asyncio.ensure_future(self._drift_after(started))
            self._tasks.add(check)
            check.add_done_callback(self._tasks.discard)

    async def _drift_after(self, boot: asyncio.Future[Any]) -> None:
        """One drift check as soon as the boot converge is done, so the master has a report at once."""
        await asyncio.wait([boot])
        assert self.drift is not None
        try:
            await self.run_scheduled(self.drift)
        except Exception:
            log.exception("drift check after the boot converge failed")

    async def refresh_pillar_schedule(self) -> dict[str, Any] | None:
        """Read `schedule:` from this minion's pillar and apply it (errors are logged, never fatal);
        the pillar read, or None when the master sent none."""
        try:
            reply = await self._request({"type": "pillar"})
        except LinkpeekError as exc:
            log.info("pillar schedule not refreshed: %s", exc)
            return None
        pillar = reply.get("pillar") if isinstance(reply, dict) else None
        if not isinstance(pillar, dict):
            return None
        from minion.backup.schedule import scheduled_jobs

        try:
            self.pillar_jobs = scheduled_jobs(pillar.get("backup")) + parse_schedule(pillar.get("schedule"), "pillar")
        except ConfigError as exc:
            log.warning("pillar schedule ignored: %s", exc)
            return pillar
        self.scheduler.set_jobs(self.jobs())
        return pillar

    async def _publish_mine(self, pillar: dict[str, Any]) -> None:
        """The mine update at start (Salt's): what this pillar's mine_functions name, sent now."""
        if not pillar.get("mine_functions"):
            return   # nothing to send (minion.mine.publish would not either): no import, no thread
        from minion.mine import publish

        stored = await asyncio.to_thread(publish, self._context(f"schedule:{self.mine.name}").request, pillar)
        if stored:
            log.info("mine published at start: %s", ", ".join(stored))

    def _context(self, jid: str) -> Any:
        from minion.functions.context import JobContext

        return JobContext(config=self.config, grains=self.grains, jid=jid,
                          request_async=self._request, loop=asyncio.get_running_loop())

    async def run_scheduled(self, job: ScheduledJob) -> None:
        """Run one scheduled job: through `run_recorded` (the daemon's: the master records it
        and gets its return) when given, except the built-in ones (the drift check, whose report
        is its result, and the mine update); otherwise here, in a worker thread, logging the outcome."""
        if self._run_recorded is not None and job.source != "builtin":
            await self._run_recorded(job.name, job.function, list(job.args), dict(job.kwargs))
            return
        from minion.functions import lookup

        fn = lookup(job.function)
        result = await asyncio.to_thread(fn, self._context(f"schedule:{job.name}"), *job.args, **dict(job.kwargs))
        ok = getattr(result, "success", True)
        log.info("scheduled job %s (%s) finished: %s", job.name, job.function, "ok" if ok else "failed")
        if job.function == DRIFT_FUNCTION:
            await self.refresh_pillar_schedule()
