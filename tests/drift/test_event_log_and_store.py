"""The event log and the drift store on a real SQLite file shared by two connections."""
from __future__ import annotations

import sqlite3

import pytest

from core.drift import CLEAN, DRIFTED, FAILING, build_report
from master.drift.store import DriftStore
from master.events import (DRIFT_CLEARED, DRIFT_FOUND, KEY_ACCEPTED, MINION_STARTED, EventLog,
                           DRIFT_CHANGED, drift_transition, format_event)

MOTD = {"file_|-motd_|-/etc/motd_|-managed": {"name": "/etc/motd", "result": None, "changes": {"diff": "+x"}}}


def test_events_append_and_a_second_reader_follows_by_id(tmp_path):
    db = str(tmp_path / "master.db")
    writer, reader = EventLog(db), EventLog(db)
    first = writer.record(MINION_STARTED, "web1", {"startup_states": "highstate"}, ts=100.0)
    writer.record(KEY_ACCEPTED, "web2", {"fingerprint": "ab:cd"}, ts=101.0)
    assert [(e.kind, e.minion_id) for e in reader.since(0)] == [(MINION_STARTED, "web1"), (KEY_ACCEPTED, "web2")]
    assert [e.kind for e in reader.since(first.id)] == [KEY_ACCEPTED]
    assert reader.latest(1)[0].detail == {"fingerprint": "ab:cd"}
    assert reader.since(first.id + 1) == []
    with pytest.raises(ValueError):
        writer.record("made_up", None)
    line = format_event(writer.record(DRIFT_FOUND, "evil\x1b[2J", {"states": 1}))
    assert "\x1b" not in line and "drift_found" in line and "states=1" in line


@pytest.mark.parametrize("old, new, event", [
    (None, CLEAN, None), (None, DRIFTED, DRIFT_FOUND), (CLEAN, FAILING, DRIFT_FOUND),
    (DRIFTED, FAILING, DRIFT_CHANGED), (DRIFTED, CLEAN, DRIFT_CLEARED), (FAILING, CLEAN, DRIFT_CLEARED),
    (CLEAN, CLEAN, None),
])
def test_drift_transitions(old, new, event):
    assert drift_transition(old, new) == event


def test_drift_store_keeps_the_newest_report_and_refuses_replays(tmp_path):
    db = str(tmp_path / "master.db")
    store = DriftStore(db)
    EventLog(db)                                    # both tables live in the same file
    r1 = build_report("web1", MOTD, revision="r", applied_revision="r", seq=1, reported_at=10.0)
    r2 = build_report("web1", {}, revision="r", applied_revision="r", seq=2, reported_at=20.0)
    assert store.put(r1) == (True, None)
    assert store.put(r2) == (True, DRIFTED)
    assert store.put(r1) == (False, CLEAN)          # replayed: refused
    assert store.get("web1") == r2
    assert DriftStore(db).all() == {"web1": r2}
    tables = {r[0] for r in sqlite3.connect(db).execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"drift_reports", "events"} <= tables
    store.forget("web1")
    assert store.get("web1") is None


def test_drift_service_files_reports_under_the_caller_and_logs_transitions(tmp_path):
    from core.drift import report_to_wire
    from master.drift.service import DriftService

    svc = DriftService(str(tmp_path / "master.db"), mask=lambda s: s.replace("hunter2", "***"))
    svc.note_keys({"web1": "K1"})                                    # start-up snapshot: no events
    drifted = build_report("evil", {**MOTD, "x": {"name": "x", "result": None,
                                                  "changes": {"diff": "+pw=hunter2"}}},
                           revision="r", applied_revision="r", seq=5, reported_at=1.0)
    stored, report = svc.receive_report("web1", report_to_wire(drifted))
    assert stored and report.minion_id == "web1"
    assert "hunter2" not in str(svc.store.get("web1"))
    clean = build_report("web1", {}, revision="r", applied_revision="r", seq=6, reported_at=2.0)
    assert svc.receive_report("web1", report_to_wire(clean))[0]
    assert not svc.receive_report("web1", report_to_wire(drifted))[0]   # replay
    svc.note_keys({"web1": "K1", "db1": "K2"})
    svc.note_keys({"db1": "K2"})
    kinds = [(e.kind, e.minion_id) for e in svc.events.since(0)]
    assert kinds == [(DRIFT_FOUND, "web1"), (DRIFT_CLEARED, "web1"), (KEY_ACCEPTED, "db1"),
                     ("key_revoked", "web1")]


def test_an_id_accepted_with_a_new_key_starts_its_reports_over(tmp_path):
    """A rebuilt minion (same id, new key) counts its sequence from 1 again."""
    from core.drift import report_to_wire
    from master.drift.service import DriftService

    svc = DriftService(str(tmp_path / "master.db"))
    svc.note_keys({"web1": "K1", "db1": "K2"})
    old = build_report("web1", MOTD, revision="r", applied_revision="r", seq=40, reported_at=1.0)
    assert svc.receive_report("web1", report_to_wire(old))[0]
    assert svc.receive_report("db1", report_to_wire(old))[0]
    svc.note_keys({"db1": "K2"})                                  # web1's key deleted
    svc.note_keys({"web1": "K3", "db1": "K2"})                    # the rebuilt web1 accepted
    assert svc.store.get("web1") is None and svc.store.get("db1") is not None
    fresh = build_report("web1", {}, revision="r", applied_revision="r", seq=1, reported_at=2.0)
    assert svc.receive_report("web1", report_to_wire(fresh))[0]
    svc.note_keys({"web1": "K3"})                                 # db1 rejected
    svc.note_keys({"web1": "K3", "db1": "K2"})                    # and accepted again: the same machine
    assert svc.store.get("db1") is not None


@pytest.mark.parametrize("setting, job", [
    ("highstate", ("state.highstate", [])),
    ("none", (None, [])),
    (None, (None, [])),
    ("web.nginx, base", ("state.apply", ["web.nginx", "base"])),
    (["web", "db"], ("state.apply", ["web", "db"])),
])
def test_startup_states_become_the_boot_job(setting, job):
    from master.drift.handlers import startup_job
    assert startup_job(setting) == job


@pytest.mark.parametrize("setting", [[], [""], ["x"] * 101, {"a": 1}, 5])
def test_bad_startup_states_are_refused(setting):
    from core.errors import WireError
    from master.drift.handlers import startup_job
    with pytest.raises(WireError):
        startup_job(setting)


def test_start_and_converged_events_are_rate_limited_per_minion(tmp_path):
    from core.errors import WireError
    from master.drift.service import DriftService

    svc = DriftService(str(tmp_path / "master.db"))
    svc.minion_started("web1", "highstate")
    svc.minion_started("web2", "highstate")          # another minion is not limited by web1
    with pytest.raises(WireError):
        svc.minion_started("web1", "highstate")
    assert [e.minion_id for e in svc.events.since(0)] == ["web1", "web2"]
