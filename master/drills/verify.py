"""The verify phase: SOURCE's health checks, run against SCRATCH.

With the health library (master/health/) and checks declared in SOURCE's pillar, those run
with SCRATCH's address in place of SOURCE's. Without any, the converged states must check
clean in test mode on SCRATCH (nothing left to change), which says the role is in place but
not that the service answers: the detail says which it was.
"""
from __future__ import annotations

import asyncio
from typing import Any

from master.drills.jobs import run_on
from master.drills.plan import RecoveryPlan
from master.drills.record import Phase


async def verify(runner: Any, plan: RecoveryPlan, onto: str) -> Phase:
    phase = Phase("verify", 0.0)
    if plan.health:
        health = await _health_checks(runner, plan, onto)
        if health is not None:
            return health
    ret, why = await run_on(runner.daemon, onto, "state.apply", [",".join(plan.sls)], {"test": True},
                            as_source=plan.source, timeout=runner.phase_timeout,
                            user=f"drill:{plan.source}")
    if ret is None:
        phase.error = why
        return phase
    pending = []
    if isinstance(ret.ret, dict):
        pending = [str(s.get("name", tag)) for tag, s in ret.ret.items()
                   if isinstance(s, dict) and (s.get("result") is not True or s.get("changes"))]
    phase.passed = bool(ret.success) and isinstance(ret.ret, dict) and not pending
    phase.detail = "no health checks declared: the converged states check clean" if phase.passed else ""
    if not phase.passed:
        phase.error = "states not converged after the restore: " + ", ".join(pending[:10] or ["(did not compile)"])
    return phase


async def _health_checks(runner: Any, plan: RecoveryPlan, onto: str) -> Phase | None:
    """SOURCE's checks against SCRATCH's address; None while the health library is not there
    (then the fallback above runs)."""
    try:
        from master.health.run import run_checks
    except ImportError:
        return None
    services = _ScratchHealth(runner.daemon, asyncio.get_running_loop(), runner.phase_timeout)
    address = services.address_of(onto)
    report = await asyncio.to_thread(run_checks, services, plan.health, onto, address)
    phase = Phase("verify", 0.0)
    phase.items = [{"check": r.name, "type": r.type, "passed": r.healthy, "detail": r.detail,
                    "duration": r.duration} for r in report.results]
    phase.passed = report.healthy
    passed = sum(1 for r in report.results if r.healthy)
    phase.detail = f"{passed}/{len(report.results)} health checks of {plan.source} passed against {onto} ({address})"
    if not phase.passed:
        failing = [f"{r.name}: {r.detail}" for r in report.results if not r.healthy]
        phase.error = report.error or "; ".join(failing)
    return phase


class _ScratchHealth:
    """master/health's HealthServices inside the daemon: SCRATCH's address from its grains, and
    command checks as jobs on SCRATCH (called from the worker thread the checks run in)."""

    STUCK_AFTER = 30.0   # seconds past a job's own timeout: the daemon's loop is not running it

    def __init__(self, daemon: Any, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self.daemon, self.loop, self.timeout = daemon, loop, timeout

    def address_of(self, minion_id: str) -> str | None:
        from master.health.run import grains_address

        return grains_address(self.daemon.services.grains.get(minion_id))

    def run_command(self, target_id: str, command: str, timeout: float) -> tuple[bool, str]:
        job = run_on(self.daemon, target_id, "cmd.run_all", [command], {}, timeout=timeout, user="drill")
        future = asyncio.run_coroutine_threadsafe(job, self.loop)
        try:
            ret, why = future.result(timeout + self.STUCK_AFTER)
        except TimeoutError:
            future.cancel()
            return False, f"no answer from {target_id} within {timeout + self.STUCK_AFTER:g} s"
        if ret is None:
            return False, why
        from master.health.run import command_outcome

        return command_outcome(ret.success, ret.ret, ret.retcode)
