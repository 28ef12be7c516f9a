"""The library behind `lpmaster drill`, `rebuild` and `drills` (tests call it directly).

    for event in drill(cfg, "web1", "scratch1"): ...                  # through the running master
    for event in drill(cfg, "web1", "fresh1", rebuild=True): ...
    list_drills(cfg, "web*")                                          # [result dict], newest first
"""
from __future__ import annotations

from typing import Any, Iterator

from core.config import MasterConfig

DRILL_CONTROL_TIMEOUT_S = 6 * 3600.0   # the whole drill; each phase has its own limit


def drill(cfg: MasterConfig, source: str, onto: str, *, rebuild: bool = False,
          force: bool = False) -> Iterator[dict[str, Any]]:
    """Ask the running master to drill SOURCE onto SCRATCH (or rebuild); yield its events,
    the last one `{"event": "done", "result": {...}}`."""
    from master import api

    request = {"op": "drill", "source": source, "onto": onto, "rebuild": rebuild, "force": force}
    yield from api.control_request(cfg, request, timeout=DRILL_CONTROL_TIMEOUT_S)


def list_drills(cfg: MasterConfig, target: str = "*", limit: int = 50) -> list[dict[str, Any]]:
    from master.drills.store import DrillStore

    store = DrillStore(cfg.db_path, readonly=True)
    try:
        return [r.as_dict() for r in store.list(target, limit)]
    finally:
        store.close()


def secrets_warning(source: str, onto: str, rebuild: bool = False) -> str:
    """What the CLI says before it asks: SCRATCH is about to hold SOURCE's secrets."""
    if rebuild:
        return (f"{onto} will receive {source}'s role, pillar and secrets, restore {source}'s backups, "
                f"and then become {source}: its key is accepted as {source} and {source}'s old key "
                f"is revoked.")
    return (f"{onto} will receive {source}'s role, pillar and secrets (database passwords, keys), and "
            f"restore {source}'s latest backups. {source} itself is not touched, and its backup "
            f"repository is only read.")
