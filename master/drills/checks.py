"""The drift check `drill`: recovery that stopped being rehearsed is drift.

A host is held to it once it is drilled, named as a source under `drills:` in master.yaml, or
matched by a glob in `drill_required` (`drill_required: ['*']` holds every host, scratch hosts
excepted): it fails the check when its last passing drill (or rebuild) ended longer ago than
`drill_max_age` (default 8 days: a weekly drill plus a day), or when none ever passed.

    checks = drill_checks(cfg, ["web1", "db1"], now)     # {minion: [MasterCheck]}
"""
from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Iterable

from core.config import MasterConfig
from core.drift import MasterCheck

CHECK = "drill"
NEVER_DRILLED = "never drilled"
NO_PASSING = "no passing drill"
STALE_DRILL = "stale drill"


def drill_max_age(cfg: MasterConfig) -> float:
    from master.drift.view import parse_duration

    return parse_duration(str(cfg.drill_max_age))


def drill_checks(cfg: MasterConfig, targets: Iterable[str], now: float) -> dict[str, list[MasterCheck]]:
    from master.drift.view import format_age
    from master.drills.store import DrillStore

    store = DrillStore(cfg.db_path, readonly=True)
    try:
        last, drilled = store.last_passed(), store.drilled()
    finally:
        store.close()
    max_age = drill_max_age(cfg)
    required = set(cfg.drills or {}) | drilled
    globs = _csv(cfg.drill_required)
    scratch = set(_csv(cfg.scratch))
    out: dict[str, list[MasterCheck]] = {}
    for mid in targets:
        if mid not in required and (mid in scratch or not any(fnmatchcase(mid, g) for g in globs)):
            continue
        if mid not in last:
            kind = NO_PASSING if mid in drilled else NEVER_DRILLED
            why = ("no drill of it ever passed" if mid in drilled else "it was never drilled")
            out[mid] = [MasterCheck(CHECK, kind, f"{why}: lpmaster drill {mid} --onto SCRATCH")]
        elif now - last[mid] > max_age:
            out[mid] = [MasterCheck(CHECK, STALE_DRILL,
                                    f"last passing drill {format_age(now - last[mid])} ago "
                                    f"(older than drill_max_age {cfg.drill_max_age})")]
    return out


def _csv(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]
