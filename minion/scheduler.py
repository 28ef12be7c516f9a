"""The minion's scheduler: runs scheduled jobs on time, remembers their last runs on disk.

    scheduler = Scheduler(jobs, "/var/cache/lp/schedule.json", run_job, salt=minion_id)
    task = asyncio.create_task(scheduler.run())

`run_job(job)` is the daemon's coroutine that executes `job.function(*job.args, **job.kwargs)`.
The plan (what is due, when) lives in `minion.schedule_spec`; this module adds the clock,
the persistence file and the asyncio loop. A job still running when its next slot comes is
not started twice. The record of a run is written (atomically, fsynced) before the job starts,
as anacron does, so a crash mid-job does not make it run again at every restart.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import asdict
from typing import Awaitable, Callable, Iterable

from minion.schedule_spec import JobRecord, ScheduledJob, due_at, mark_started
from minion.statefile import read_json, write_json_atomic

log = logging.getLogger(__name__)

STATE_VERSION = 1
MAX_SLEEP = 30.0          # re-check at least this often (clock jumps, suspend/resume)
FORGET_AFTER = 90 * 86400.0   # a job gone from the schedule is forgotten after this long

RunJob = Callable[[ScheduledJob], Awaitable[object]]


class ScheduleBook:
    """The last-run records of every job, loaded from and saved to one JSON file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.records: dict[str, JobRecord] = {}

    def load(self) -> None:
        """Read the file; a missing or unreadable file starts empty (logged, never fatal)."""
        data = read_json(self.path)
        if data is None:
            return
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            log.warning("schedule state %s has an unknown format; starting afresh", self.path)
            return
        for name, rec in (data.get("jobs") or {}).items():
            try:
                self.records[str(name)] = JobRecord(
                    baseline=float(rec["baseline"]),
                    last_slot=None if rec.get("last_slot") is None else float(rec["last_slot"]),
                    last_run=None if rec.get("last_run") is None else float(rec["last_run"]))
            except (KeyError, TypeError, ValueError):
                log.warning("schedule state: dropping a malformed record for %r", name)

    def record_for(self, job: ScheduledJob, now: float) -> JobRecord:
        """The job's record; a job seen for the first time gets `now` as its baseline."""
        rec = self.records.get(job.name)
        if rec is None:
            rec = self.records[job.name] = JobRecord(baseline=now)
        return rec

    def prune(self, names: Iterable[str], now: float, max_idle: float = FORGET_AFTER) -> None:
        """Drop records of jobs not in `names` that have not run for `max_idle` seconds.

        Records of jobs unknown right now are kept: pillar jobs are only known once the
        pillar arrives, and their missed slots must still count then.
        """
        keep = set(names)
        for name, rec in list(self.records.items()):
            if name not in keep and now - (rec.last_run or rec.baseline) > max_idle:
                del self.records[name]

    def save(self) -> None:
        """Write atomically and durably (minion.statefile)."""
        write_json_atomic(self.path, {"version": STATE_VERSION,
                                      "jobs": {n: asdict(r) for n, r in sorted(self.records.items())}})


class Scheduler:
    """Runs `jobs` on their schedule until cancelled; see the module docstring."""

    def __init__(self, jobs: Iterable[ScheduledJob], state_path: str, run_job: RunJob, *,
                 salt: str = "", clock: Callable[[], float] = time.time) -> None:
        self.jobs: list[ScheduledJob] = [j for j in jobs if j.enabled]
        self.book = ScheduleBook(state_path)
        self._run_job = run_job
        self._salt = salt
        self._clock = clock
        self._running: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self.started_at: float | None = None

    def set_jobs(self, jobs: Iterable[ScheduledJob]) -> None:
        """Replace the schedule (e.g. after a pillar refresh); takes effect at once."""
        self.jobs = [j for j in jobs if j.enabled]
        self._wake.set()

    def due_jobs(self, now: float) -> list[ScheduledJob]:
        """The jobs due at `now` that are not running already."""
        assert self.started_at is not None
        return [job for job in self.jobs
                if job.name not in self._running
                and due_at(job, self.book.record_for(job, now), self.started_at, self._salt) <= now]

    def next_wakeup(self, now: float) -> float:
        """Seconds until the earliest due job (capped at MAX_SLEEP)."""
        assert self.started_at is not None
        times = [due_at(job, self.book.record_for(job, now), self.started_at, self._salt)
                 for job in self.jobs if job.name not in self._running]
        return max(0.0, min([MAX_SLEEP, *(t - now for t in times)]))

    async def run(self) -> None:
        """Load the records, then start due jobs forever; cancelling stops the jobs it started."""
        self.book.load()
        self.started_at = self._clock()
        try:
            while True:
                now = self._clock()
                before = dict(self.book.records)
                started = self.due_jobs(now)
                for job in started:
                    self.book.records[job.name] = mark_started(job, self.book.record_for(job, now), now)
                self.book.prune((j.name for j in self.jobs), now)
                if self.book.records != before:
                    self.book.save()
                for job in started:
                    log.info("scheduled job %s (%s) starting", job.name, job.function)
                    self._running[job.name] = asyncio.create_task(self._guarded(job))
                self._wake.clear()
                # asyncio.timeout, not wait_for: in 3.11 wait_for can swallow a cancel that
                # arrives as the event fires, and the scheduler would then never stop.
                try:
                    async with asyncio.timeout(self.next_wakeup(self._clock())):
                        await self._wake.wait()
                except TimeoutError:
                    pass
        finally:
            tasks = list(self._running.values())
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _guarded(self, job: ScheduledJob) -> None:
        try:
            await self._run_job(job)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("scheduled job %s failed", job.name)
        finally:
            self._running.pop(job.name, None)
            self._wake.set()
