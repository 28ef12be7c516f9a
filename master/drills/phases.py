"""The phases of a drill, each one job (or a few) on SCRATCH as SOURCE; runner.py times them.

Each takes (runner, plan, onto) and returns a Phase: passed, what it did, and why it failed.
"""
from __future__ import annotations

from typing import Any, Mapping

from master.drills.jobs import run_on
from master.drills.plan import RecoveryPlan
from master.drills.record import Phase

RESTORE_FUNCTION = "backup.restore"
DATABASE_SOURCES = ("postgres", "mongodb", "sqlite")
MAX_REASON_LINES = 8


async def converge(runner: Any, plan: RecoveryPlan, onto: str) -> Phase:
    """SCRATCH applies SOURCE's SLS with SOURCE's pillar."""
    phase = Phase("converge", 0.0)
    ret, why = await run_on(runner.daemon, onto, "state.apply", [",".join(plan.sls)], {},
                            as_source=plan.source, timeout=runner.phase_timeout,
                            user=f"drill:{plan.source}")
    if ret is None:
        phase.error = why
        return phase
    total, changed, failed = _state_counts(ret.ret)
    phase.detail = (f"{', '.join(plan.sls)}: {total} state{'' if total == 1 else 's'}, {changed} changed, "
                    f"{len(failed)} failed")
    phase.passed = bool(ret.success) and not failed and isinstance(ret.ret, Mapping)
    if not phase.passed:
        phase.error = _reason(failed or _lines(ret.ret))
    return phase


async def restore(runner: Any, plan: RecoveryPlan, onto: str) -> Phase:
    """SCRATCH restores each of SOURCE's backup jobs from its latest good snapshot, read-only."""
    phase = Phase("restore", 0.0)
    if not plan.backup_jobs:
        phase.passed = True
        phase.detail = f"{plan.source} declares no backup jobs: nothing to restore"
        return phase
    restored = []
    for job, spec in sorted(plan.backup_jobs.items()):
        ret, why = await run_on(runner.daemon, onto, RESTORE_FUNCTION, [job], restore_kwargs(plan),
                                as_source=plan.source, timeout=runner.phase_timeout,
                                user=f"drill:{plan.source}")
        item: dict[str, Any] = {"job": job, "source": str(spec.get("source", "")),
                                "passed": ret is not None and bool(ret.success)}
        if ret is None:
            item["error"] = why
        elif not ret.success:
            item["error"] = _reason(_lines(ret.ret))
        else:
            item["ret"] = _brief(ret.ret)
            if isinstance(ret.ret, Mapping) and ret.ret.get("skipped"):
                item["skipped"] = ret.ret["skipped"]
        phase.items.append(item)
        if not item["passed"]:
            phase.error = f"backup job {job}: {item['error']}"
            break
        restored.append(job)
    phase.passed = len(restored) == len(plan.backup_jobs)
    phase.detail = f"{len(restored)}/{len(plan.backup_jobs)} backup jobs restored" + (
        f" ({', '.join(restored)})" if restored else "")
    return phase


def restore_kwargs(plan: RecoveryPlan) -> dict[str, Any]:
    """backup.restore's options for a drill: SOURCE's latest good snapshot (by its restic host),
    back where it came from (a database loaded, files to their paths, but never over SCRATCH's
    identity or its minion's own config, key and state: the result's `skipped`). backup.restore
    only ever reads the repository (--no-lock; never init, forget, prune or backup)."""
    return {"snapshot": "latest", "in_place": True, "force": True, "host": plan.backup_host}


async def verify(runner: Any, plan: RecoveryPlan, onto: str) -> Phase:
    """SOURCE's health checks against SCRATCH (master/health, when present); without any, the
    converged states must check clean in test mode."""
    from master.drills import verify as verifying

    return await verifying.verify(runner, plan, onto)


async def takeover(runner: Any, plan: RecoveryPlan, onto: str) -> Phase:
    from master.drills.takeover import take_over

    return await take_over(runner, plan.source, onto)


def _state_counts(ret: Any) -> tuple[int, int, list[str]]:
    if not isinstance(ret, Mapping):
        return 0, 0, []
    total = changed = 0
    failed: list[str] = []
    for tag, state in ret.items():
        if not isinstance(state, Mapping):
            continue
        total += 1
        if state.get("result") is False:
            failed.append(f"{state.get('name', tag)}: {str(state.get('comment', '')).strip()}")
        elif state.get("changes"):
            changed += 1
    return total, changed, failed


def _lines(ret: Any) -> list[str]:
    if isinstance(ret, (list, tuple)):
        return [str(x) for x in ret]
    if isinstance(ret, Mapping):
        for key in ("error", "comment", "message"):
            if ret.get(key):
                return str(ret[key]).splitlines()
    return str(ret).splitlines()


def _reason(lines: list[str]) -> str:
    lines = [line for line in lines if line.strip()] or ["(no reason given)"]
    more = len(lines) - MAX_REASON_LINES
    return "\n".join(lines[:MAX_REASON_LINES]) + (f"\n... and {more} more" if more > 0 else "")


def _brief(ret: Any) -> Any:
    if isinstance(ret, Mapping):
        return {k: v for k, v in ret.items() if isinstance(v, (str, int, float, bool)) or v is None}
    return ret if isinstance(ret, (str, int, float, bool)) else None
