"""Item 4 of issue 14: a flood of registrations from fresh keys does not slow accepted minions.

A real flood (1,000 fresh CURVE keys, 100 connections at a time, bounded to a few seconds)
while an accepted minion's key sends heartbeats: every beat is answered within a second,
the pending list fills to its cap, the master says so in its log and events with the
command that clears it, and that command brings the key store back to what it was.
"""
from __future__ import annotations

from tests.cluster import wait_for
from tests.security.conftest import MAX_PENDING, assert_unharmed, snapshot
from tests.security.flood import Prober, flood
from tests.security.rogue import minion_keypair

CLEAR = ["keys", "delete", "flood*", "--state", "pending", "--yes"]


def test_accepted_minions_answer_within_a_second_during_a_registration_flood(guarded):
    before = snapshot(guarded)
    prober = Prober(guarded, minion_keypair(guarded, "vault1"), patience=1.0)
    prober.start()
    try:
        wait_for(lambda: len(prober.times) >= 3, timeout=10, what="prober beating")
        counts = flood(guarded, total=1000, at_once=100)
    finally:
        prober.stop.set()
        prober.join(timeout=10)
    late = sum(1 for t in prober.times if t is None)
    assert late == 0, f"{late} of {len(prober.times)} heartbeats not answered within a second; flood {counts}"
    assert counts.get("unanswered", 0) == 0, counts
    wait_for(lambda: len(guarded.keys()["pending"]) == MAX_PENDING, timeout=10, what="pending list at its cap")
    # a flood that keeps going meets the full list; the operator is told how to clear it
    more = flood(guarded, total=20, at_once=20, id_prefix="flood-late")
    assert any("pending key list is full" in kind for kind in more), more
    log = guarded.master_log()
    assert "pending key list is full" in log and "lpmaster keys delete 'GLOB' --state pending" in log
    full = [e for e in guarded.events() if e["kind"] == "pending_full"]
    assert full and "--state pending" in full[-1]["detail"]["how_to_clear"]
    res = guarded.cli(*CLEAR)
    assert res.returncode == 0, res.stderr
    assert_unharmed(guarded, before)
