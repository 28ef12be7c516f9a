"""The one undelivered drift report a minion keeps on disk, and how the master takes it late."""
from __future__ import annotations

import os
import stat

from core.drift import CLEAN, DRIFTED, STALE, build_report, report_to_wire, summarize
from core.errors import TransportError
from master.drift.service import DriftService
from minion.drift_remote import clear_spooled_report, send_report, spool_report, spooled_report

MOTD = {"file_|-motd_|-/etc/motd_|-managed": {"name": "/etc/motd", "result": None, "changes": {"diff": "+x"}}}


def _report(seq: int, at: float, states=MOTD):
    return build_report("web1", states, revision="r", applied_revision="r", seq=seq, reported_at=at)


def _master_away(message):
    raise TransportError("the master did not answer in time")


def test_an_undelivered_report_is_kept_and_only_a_newer_one_replaces_it(tmp_path):
    spool = str(tmp_path / "spool")
    reply = send_report(_master_away, _report(5, 50.0), spool)
    assert "error" in reply and reply["spooled"].endswith("drift-report.json")
    assert stat.S_IMODE(os.stat(reply["spooled"]).st_mode) == 0o600
    assert spooled_report(spool)["seq"] == 5
    spool_report(spool, report_to_wire(_report(4, 40.0)))       # older: does not replace it
    assert spooled_report(spool)["seq"] == 5
    send_report(_master_away, _report(7, 70.0, {}), spool)       # newer: replaces it
    assert spooled_report(spool)["seq"] == 7
    clear_spooled_report(spool, 6)                               # the master got an older one only
    assert spooled_report(spool)["seq"] == 7
    acks = []
    send_report(lambda m: acks.append(m) or {"type": "ack", "seq": 8, "stored": True}, _report(8, 80.0), spool)
    assert acks and spooled_report(spool) is None               # delivered newer: the kept one is moot


def test_without_a_spool_dir_an_undelivered_report_is_only_reported_back(tmp_path):
    assert send_report(_master_away, _report(5, 50.0)) == {"error": "the master did not answer in time"}


def test_the_master_keeps_a_late_report_only_when_newer_and_ages_it_by_its_own_time(tmp_path):
    svc = DriftService(str(tmp_path / "master.db"))
    late = _report(5, 1000.0)
    assert svc.receive_report("web1", report_to_wire(_report(6, 1100.0, {})), now=1100.0)[0]
    assert not svc.receive_report("web1", report_to_wire(late), now=1200.0)[0]   # older than what it has
    assert svc.store.get("web1").status == CLEAN
    svc.forget("web1")
    assert svc.receive_report("web1", report_to_wire(late), now=5000.0)[0]       # nothing newer: kept
    (row,) = summarize(svc.store.all(), ["web1"], now=5000.0, max_age=3600)
    assert row.status == STALE and row.age == 4000.0        # its check time counts, not its arrival
    (row,) = summarize(svc.store.all(), ["web1"], now=5000.0, max_age=86400)
    assert row.status == DRIFTED
    svc.close()
