"""The pure parts of drills: grants, the drift check, the schedule, the store, the view."""
from __future__ import annotations

import pytest

from core.config import MasterConfig
from core.errors import ConfigError
from master.drills.checks import drill_checks
from master.drills.grants import PillarGrants
from master.drills.record import DrillResult, Phase
from master.drills.schedule import next_run, parse_schedule
from master.drills.store import DrillStore
from master.drills.view import result_text


def test_a_grant_serves_source_only_to_its_scratch_for_its_job_until_it_expires():
    grants = PillarGrants()
    grants.grant("20261201000000000000000001", "scratch1", "web1", expires=100.0)
    assert grants.source_for("20261201000000000000000001", "scratch1", now=50.0) == "web1"
    assert grants.source_for("20261201000000000000000001", "plain1", now=50.0) is None   # another key
    assert grants.source_for("20261201000000000000000002", "scratch1", now=50.0) is None  # another job
    assert grants.source_for(None, "scratch1", now=50.0) is None
    assert grants.source_for("20261201000000000000000001", "scratch1", now=100.0) is None  # expired
    grants.grant("20261201000000000000000003", "scratch1", "web1", expires=1e12)
    grants.revoke("20261201000000000000000003")
    assert grants.source_for("20261201000000000000000003", "scratch1") is None
    grants.grant("20261201000000000000000004", "scratch1", "web1", expires=1e12, key="K1")
    assert grants.source_for("20261201000000000000000004", "scratch1", key="K1") == "web1"
    assert grants.source_for("20261201000000000000000004", "scratch1", key="K2") is None  # re-keyed id


def _drill(store: DrillStore, source: str, finished: float, passed: bool = True) -> None:
    result = DrillResult("drill", source, "scratch1", started=finished - 10)
    result.phases = [Phase("converge", finished - 10, 5.0, True), Phase("restore", finished - 5, 5.0, passed,
                                                                       error="" if passed else "no repo")]
    result.finish(finished)
    store.add(result)


def test_drift_check_never_drilled_stale_and_failing(tmp_path):
    now = 1_000_000_000.0
    cfg = MasterConfig(root=str(tmp_path), drills={"db1": {"onto": "scratch1", "cron": "0 6 * * 1"}})
    store = DrillStore(cfg.db_path)
    _drill(store, "web1", now - 3600)                 # fresh
    _drill(store, "web2", now - 9 * 86400)            # stale
    _drill(store, "web3", now - 3600, passed=False)   # drilled, never passed
    store.close()
    checks = drill_checks(cfg, ["web1", "web2", "web3", "db1", "other"], now)
    assert {mid: [c.kind for c in found] for mid, found in checks.items()} == {
        "web2": ["stale drill"], "web3": ["no passing drill"], "db1": ["never drilled"]}
    assert "lpmaster drill db1 --onto SCRATCH" in checks["db1"][0].message
    loose = MasterConfig(root=str(tmp_path), drill_max_age="10d")
    assert "web2" not in drill_checks(loose, ["web2"], now)


def test_drill_required_holds_never_drilled_hosts_but_not_scratch_hosts(tmp_path):
    now = 1_000_000_000.0
    cfg = MasterConfig(root=str(tmp_path), drill_required="web*,db1", scratch="web9")
    store = DrillStore(cfg.db_path)
    _drill(store, "web1", now - 3600)
    store.close()
    checks = drill_checks(cfg, ["web1", "web2", "db1", "db2", "web9"], now)
    assert {mid: [c.kind for c in found] for mid, found in checks.items()} == {
        "web2": ["never drilled"], "db1": ["never drilled"]}


def test_store_lists_newest_first_and_by_host(tmp_path):
    store = DrillStore(str(tmp_path / "m.db"))
    _drill(store, "web1", 100.0)
    _drill(store, "web1", 200.0, passed=False)
    _drill(store, "db1", 150.0)
    assert [(r.source, r.finished) for r in store.list()] == [("web1", 200.0), ("db1", 150.0), ("web1", 100.0)]
    assert [r.finished for r in store.list("web*")] == [200.0, 100.0]
    assert store.list("scratch1", limit=1)[0].failed_phase.name == "restore"
    assert store.last_passed() == {"web1": 100.0, "db1": 150.0}


@pytest.mark.parametrize("drills, message", [
    ({"web1": {"onto": "web1", "cron": "0 6 * * 1"}}, "onto must name another minion"),
    ({"web1": {"onto": "s1", "cron": "every monday"}}, "cron must be a cron expression like"),
    ({"web1": {"onto": "s1", "cron": "0 6 * * 1", "at": 3}}, "expected {onto: SCRATCH"),
    ({"web 1": {"onto": "s1", "cron": "0 6 * * 1"}}, "not a minion id"),
])
def test_a_bad_schedule_is_a_config_error_naming_the_entry(drills, message):
    with pytest.raises(ConfigError, match=message):
        parse_schedule(drills)


def test_schedule_next_run():
    (entry,) = parse_schedule({"web1": {"onto": "scratch1", "cron": "* * * * * */10"}})
    assert entry.onto == "scratch1"
    assert next_run(entry.cron, 1000.0) == 1010.0


def test_a_scheduled_drill_runs_at_its_cron_time_in_the_masters_local_time_not_utc(monkeypatch):
    import time
    from datetime import datetime

    (entry,) = parse_schedule({"web1": {"onto": "scratch1", "cron": "0 6 * * *"}})
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        due = datetime.fromtimestamp(next_run(entry.cron, 1764590000.0)).astimezone()
    finally:
        monkeypatch.undo()
        time.tzset()
    assert (due.hour, due.minute) == (6, 0)


def test_a_failed_drill_names_its_phase_and_why_and_escapes_minion_text():
    result = DrillResult("drill", "web1", "scratch1", started=0.0)
    result.phases = [Phase("converge", 0.0, 40.0, True, detail="web: 3 states"),
                     Phase("restore", 40.0, 2.0, False, error="restic: wrong password\x1b[2J")]
    result.finish(42.0)
    text = result_text(result.as_dict())
    assert "FAIL restore" in text and "FAILED in phase restore: restic: wrong password" in text
    assert "\x1b" not in text
    assert result.as_dict()["total"] == 42.0 and result.as_dict()["failed_phase"] == "restore"


def test_scratch_renders_as_source_with_its_own_machine_grains():
    from minion.remote_apply import rendering_as

    own = {"id": "scratch1", "scratch": "true", "ipv4": ["10.231.0.9"], "init": "other"}
    source = {"id": "dev1", "grains": {"id": "dev1", "roles": "web,db,", "ipv4": ["10.231.0.5"], "init": "other"}}
    mid, grains = rendering_as(source, "scratch1", own)
    assert mid == "dev1"
    assert grains == {"id": "dev1", "roles": "web,db,", "ipv4": ["10.231.0.9"], "init": "other"}
    assert rendering_as({"id": "../x", "grains": {}}, "scratch1", own) == ("scratch1", own)
    assert rendering_as({"id": "dev1", "grains": "no"}, "scratch1", own) == ("scratch1", own)


def test_a_rebuilt_host_takes_the_lost_hosts_custom_grains_only():
    from types import SimpleNamespace

    from master.drills.takeover import custom_grains

    services = SimpleNamespace(grains={
        "dev1": {"id": "dev1", "roles": "web,db,", "os": "Debian", "scratch": "false"},
        "fresh1": {"id": "fresh1", "os": "Debian", "scratch": "true"}})
    assert custom_grains(services, "dev1", "fresh1") == {"roles": "web,db,"}


def test_master_yaml_marks_scratch_hosts_and_schedules_drills(tmp_path):
    from types import SimpleNamespace

    from core.config import load_master
    from master.drills.runner import is_scratch

    path = tmp_path / "master.yaml"
    path.write_text("scratch: [scratch1, scratch2]\ndrill_max_age: 10d\n"
                    "drills:\n  web1: {onto: scratch1, cron: '0 6 * * 1'}\n")
    cfg = load_master(str(path))
    assert parse_schedule(cfg.drills)[0].onto == "scratch1"
    services = SimpleNamespace(config=cfg, grains={"scratch2": {}, "graincount": {"scratch": True},
                                                   "web1": {"scratch": "no"}})
    assert [m for m in ("scratch1", "scratch2", "graincount", "web1") if is_scratch(services, m)] == \
        ["scratch1", "scratch2", "graincount"]
