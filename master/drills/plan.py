"""What recovering SOURCE means, worked out on the master from SOURCE's id and stored grains.

    plan = recovery_plan(services, "web1")
    plan.sls            the SLS names top.sls gives SOURCE (what SCRATCH is converged to)
    plan.backup_jobs    {job: spec} from SOURCE's `backup:` pillar (what the restore phase restores)
    plan.backup_host    whose snapshots: `backup: host:` of that pillar, else SOURCE's id
    plan.health         SOURCE's health checks from pillar (what the verify phase runs)

Grains come from what SOURCE reported; top.sls matches on them as it does for SOURCE itself
(its own converge trusts them the same way). Pillar is compiled as for SOURCE, secrets included:
nothing of it leaves the master here, the drill's jobs fetch it through their grants.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Mapping

from core.errors import CompileError, LinkpeekError
from master.minion_grains import grains_of


@dataclass(frozen=True)
class RecoveryPlan:
    source: str
    sls: list[str]
    backup_jobs: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    backup_host: str = ""     # restic's --host of SOURCE's snapshots (backup:host, else its id)
    health: Any = None


class PlanError(LinkpeekError):
    """SOURCE cannot be recovered as declared (no grains known, nothing in top.sls, ...)."""


def recovery_plan(services: Any, source: str) -> RecoveryPlan:
    """SOURCE's SLS, backup jobs and health checks (PlanError when it has no SLS at all)."""
    from core.top import render_top

    if source not in services.grains:
        raise PlanError(f"the master has no grains for {source} (it never connected): "
                        "its top.sls matches cannot be worked out")
    grains = grains_of(services.grains, source)
    pillar, _ = services.converge.pillar.compile_for(source, grains)
    tree = services.config.state_tree
    top = os.path.join(tree, "top.sls")
    try:
        with open(top, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise PlanError(f"cannot read {top}: {exc.strerror}") from None
    try:
        names = render_top(text, "top.sls", source, grains, pillar, None, tree)
    except (CompileError, LinkpeekError) as exc:
        raise PlanError(f"top.sls for {source}: {exc}") from None
    if not names:
        raise PlanError(f"top.sls gives {source} no SLS: there is no role to recover")
    backup = pillar.get("backup") if isinstance(pillar.get("backup"), Mapping) else {}
    jobs = backup.get("jobs") if isinstance(backup.get("jobs"), Mapping) else {}
    return RecoveryPlan(source=source, sls=list(names),
                        backup_jobs={str(k): (v if isinstance(v, Mapping) else {}) for k, v in jobs.items()},
                        backup_host=str(backup.get("host") or source),
                        health=pillar.get("health"))
