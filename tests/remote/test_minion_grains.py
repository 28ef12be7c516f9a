"""master.minion_grains: the grains the master targets and renders with carry the minion's
authenticated id, never the id its grains claim, and building them never changes the store."""
from __future__ import annotations

from master.minion_grains import grains_of


def test_the_authenticated_id_wins_over_a_claimed_one_and_the_store_is_kept() -> None:
    stored = {"web1": {"id": "db1", "os": "Debian"}}
    grains = grains_of(stored, "web1")
    assert grains == {"id": "web1", "os": "Debian"}
    grains["os"] = "changed"
    assert stored == {"web1": {"id": "db1", "os": "Debian"}}


def test_a_minion_with_no_stored_grains_has_its_id() -> None:
    assert grains_of({}, "new1") == {"id": "new1"}
