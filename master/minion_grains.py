"""A minion's grains as the master uses them: its stored grains with `id` set to its
authenticated id (whatever it claimed), for targeting, pillar, the mine and templates.

    grains = grains_of(services.grains, "web1")     # in the daemon: the grains it holds
    grains, known = stored_grains(cfg, "web1")      # in a command: the job store's
"""
from __future__ import annotations

from typing import Any, Mapping


def grains_of(stored: Mapping[str, Mapping[str, Any]], minion_id: str) -> dict[str, Any]:
    """A new dict: `minion_id`'s grains in `stored` (none: empty) with its `id`."""
    return {**stored.get(minion_id, {}), "id": minion_id}


def stored_grains(cfg: Any, minion_id: str) -> tuple[dict[str, Any], bool]:
    """(`minion_id`'s grains from the job store with its `id`, whether the store knows it)."""
    from master.api import known_minions

    known = known_minions(cfg).get(minion_id)
    return grains_of({minion_id: known["grains"]} if known else {}, minion_id), known is not None
