"""Item 8 of issue 14: drift freshness is the master's to judge.

A report dated a year ahead is refused (not stored as fresh); a report with a huge sequence
number is refused and cannot lock out the minion's later genuine reports; a report dated
a little ahead (within the clock skew) is stored with the master's receipt time.
"""
from __future__ import annotations

import json
import time

from core.drift import build_report, report_to_wire
from tests.security.conftest import assert_unharmed, snapshot
from tests.security.rogue import Rogue, minion_keypair

YEAR = 365 * 86400


def _report(seq: int, reported_at: float) -> dict:
    return {"type": "drift", "report": report_to_wire(build_report(
        "ignored", {}, revision="r1", applied_revision="r1", seq=seq, reported_at=reported_at))}


def _drift(c, mid: str) -> dict:
    res = c.cli("drift", mid, "--json", "--max-age", "1h")
    return json.loads(res.stdout)[mid]


def test_a_report_from_the_future_or_with_a_jumped_sequence_is_refused(guarded):
    before = snapshot(guarded)
    client = Rogue(guarded, minion_keypair(guarded, "web1"))
    try:
        now = time.time()
        genuine = int(now * 1000)               # what a minion's ledger sends (a time-based floor)
        reply = client.ask_until_answered(_report(genuine, now))
        assert reply["type"] == "ack" and reply["stored"] is True, reply
        reply = client.ask(_report(genuine + 1, now + YEAR))
        assert reply["type"] == "error" and "future" in reply["error"], reply
        reply = client.ask(_report(2 ** 62, now))
        assert reply["type"] == "error" and "sequence" in reply["error"], reply
        reply = client.ask(_report(genuine + 2, time.time()))
        assert reply["type"] == "ack" and reply["stored"] is True, reply  # not locked out
        ahead = time.time() + 200                # within the allowed skew: stamped by the master
        reply = client.ask(_report(genuine + 3, ahead))
        assert reply["type"] == "ack" and reply["stored"] is True, reply
        row = _drift(guarded, "web1")
        assert row["status"] == "clean" and row["report"]["seq"] == genuine + 3
        assert row["report"]["reported_at"] <= time.time() and row["age"] >= 0
        # a replay of an older report is still refused
        reply = client.ask(_report(genuine + 2, time.time()))
        assert reply["type"] == "ack" and reply["stored"] is False, reply
    finally:
        client.close()
    assert_unharmed(guarded, before)


def test_sequences_count_per_key_and_boot(tmp_path):
    """A report of a new boot or a new key may start its count over; within one, no replay."""
    import pytest

    from core import keys
    from core.errors import WireError
    from master.drift.service import DriftService

    k1 = keys.generate_keypair(str(tmp_path / "a"), "m").public
    k2 = keys.generate_keypair(str(tmp_path / "b"), "m").public
    svc = DriftService(str(tmp_path / "master.db"))
    now = time.time()

    def send(seq: int, key: str = k1, at: float | None = None) -> bool:
        return svc.receive_report("web1", _report(seq, now if at is None else at)["report"], key=key)[0]

    assert send(500) and not send(400)                 # one boot: only up
    svc.minion_started("web1", "none")                 # it restarted, its ledger lost
    assert send(7) and not send(6)                     # counts again from where it is now
    assert send(3, key=k2)                             # a rebuilt machine with its own key
    with pytest.raises(WireError, match="future"):
        send(8, key=k2, at=now + 3600)
    assert svc.store.get("web1").seq == 3
    svc.close()
    again = DriftService(str(tmp_path / "master.db"))  # the master restarted: the boot is remembered
    assert not again.receive_report("web1", _report(2, now)["report"], key=k2)[0]
    again.close()
