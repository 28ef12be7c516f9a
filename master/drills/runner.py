"""The phases of a drill or rebuild, run by the master daemon.

    runner = DrillRunner(daemon)
    result = await runner.run("web1", "scratch1", progress=print)              # a drill
    result = await runner.run("web1", "fresh1", rebuild=True, force=False)     # a rebuild

converge  SCRATCH applies SOURCE's SLS (its top.sls matches) with SOURCE's pillar
restore   SCRATCH restores SOURCE's latest good backups: databases in place, files to their
          paths, read-only on SOURCE's repository (no forget, prune or new snapshot)
verify    SOURCE's health checks against SCRATCH
takeover  (rebuild only) NEW takes LOST's id: takeover.py

SCRATCH gets SOURCE's pillar only through the grants of these phases' jobs (grants.py).
A phase that fails ends the drill; the result, passed or failed, goes to the drill store and
the event log, whoever started it (a person or the schedule).
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Awaitable, Callable

from core.errors import LinkpeekError
from master.drills import phases
from master.drills.plan import PlanError, recovery_plan
from master.drills.record import DRILL, REBUILD, DrillResult, Phase

log = logging.getLogger("lp.master.drills")

Progress = Callable[[dict[str, Any]], Awaitable[None] | None]
TRUE_WORDS = ("true", "yes", "1", "on")


class DrillRefused(LinkpeekError):
    """The drill cannot start: SCRATCH is not a scratch host, LOST still answers, ..."""


def is_scratch(services: Any, minion_id: str) -> bool:
    """Marked scratch by a `scratch: true` grain or by master.yaml's `scratch:` list."""
    listed = [s.strip() for s in (services.config.scratch or "").split(",") if s.strip()]
    grain = services.grains.get(minion_id, {}).get("scratch")
    return minion_id in listed or grain is True or str(grain).lower() in TRUE_WORDS


class DrillRunner:
    """Runs drills and rebuilds for one daemon; one at a time per host involved."""

    def __init__(self, daemon: Any) -> None:
        from master.drills.store import DrillStore

        self.daemon = daemon
        self.store = DrillStore(daemon.config.db_path)
        self.busy: set[str] = set()
        self.phase_timeout = 3600.0

    def check(self, source: str, onto: str) -> None:
        """DrillRefused when this drill may not start (what to do next is in the message)."""
        services = self.daemon.services
        accepted = services.keystore.accepted()
        if source == onto:
            raise DrillRefused(f"{source} cannot be drilled onto itself: name a scratch host with --onto")
        if onto not in accepted:
            raise DrillRefused(f"{onto} is not an accepted minion (lpmaster keys accept {onto})")
        if not is_scratch(services, onto):
            raise DrillRefused(f"{onto} is not marked scratch: it would receive {source}'s role and "
                               f"secrets. Mark it with the grain scratch=true (lpminion init --grain "
                               f"scratch=true) or list it under `scratch:` in master.yaml")
        busy = {source, onto} & self.busy
        if busy:
            raise DrillRefused(f"a drill is already running on {', '.join(sorted(busy))}")

    async def run(self, source: str, onto: str, *, rebuild: bool = False, force: bool = False,
                  trigger: str = "manual", user: str = "", progress: Progress | None = None) -> DrillResult:
        """Check, run every phase until one fails, record the result and return it."""
        self.check(source, onto)
        self.busy |= {source, onto}
        try:
            if rebuild and not force:
                await self._refuse_if_alive(source, onto)
            return await self._run(source, onto, rebuild, trigger, user, progress)
        finally:
            self.busy -= {source, onto}

    async def _refuse_if_alive(self, lost: str, new: str) -> None:
        from master.drills.jobs import answers

        if lost in self.daemon.services.subscribed and await answers(self.daemon, lost):
            raise DrillRefused(f"{lost} still answers test.ping: rebuilding would give its id to {new} "
                               f"while the old host runs (two machines, one identity). Stop or delete "
                               f"{lost} first, or pass --force if it is really lost")

    async def _run(self, source: str, onto: str, rebuild: bool, trigger: str, user: str,
                   progress: Progress | None) -> DrillResult:
        result = DrillResult(kind=REBUILD if rebuild else DRILL, source=source, onto=onto,
                             started=time.time(), trigger=trigger, user=user)
        report = _reporter(progress)
        await report({"event": "drill", "kind": result.kind, "source": source, "onto": onto})
        try:
            plan = await asyncio.to_thread(recovery_plan, self.daemon.services, source)
        except (PlanError, LinkpeekError) as exc:
            now = time.time()
            result.phases.append(Phase("converge", now, 0.0, False, error=f"nothing to converge: {exc}"))
            plan = None
        steps = [phases.converge, phases.restore, phases.verify] + ([phases.takeover] if rebuild else [])
        if plan is not None:
            for step in steps:
                name = step.__name__
                await report({"event": "phase_started", "phase": name})
                started = time.time()
                t0 = time.monotonic()
                try:
                    phase = await step(self, plan, onto)
                except Exception as exc:  # a bug in a phase fails the drill, never the master
                    log.exception("drill phase %s failed", name)
                    phase = Phase(name, started, error=f"internal error: {type(exc).__name__}: {exc}")
                phase.started, phase.duration = started, time.monotonic() - t0
                result.phases.append(phase)
                await report({"event": "phase", **_phase_map(phase)})
                if not phase.passed:
                    break
        result.finish(time.time())
        self._record(result)
        return result

    def _record(self, result: DrillResult) -> None:
        from master.events import DRILL_FAILED, DRILL_PASSED

        self.store.add(result)
        failed = result.failed_phase
        detail = {"kind": result.kind, "onto": result.onto, "total": round(result.total, 1),
                  "drill": result.id, "trigger": result.trigger}
        if failed is not None:
            detail["phase"] = failed.name
        self.daemon.services.drift.events.record(DRILL_PASSED if result.passed else DRILL_FAILED,
                                                 result.source, detail)
        log.info("%s of %s onto %s %s in %.1fs", result.kind, result.source, result.onto,
                 "passed" if result.passed else f"failed ({failed.name if failed else '?'})", result.total)

    def close(self) -> None:
        self.store.close()


def _phase_map(phase: Phase) -> dict[str, Any]:
    from dataclasses import asdict
    return asdict(phase)


def _reporter(progress: Progress | None) -> Callable[[dict[str, Any]], Awaitable[None]]:
    async def report(event: dict[str, Any]) -> None:
        if progress is None:
            return
        try:
            outcome = progress(event)
            if asyncio.iscoroutine(outcome):
                await outcome
        except Exception:  # the CLI went away: the drill goes on and is recorded
            log.debug("drill progress not delivered", exc_info=True)
    return report
