"""`lpmaster drill` and `lpmaster drills` through a real master and minions on loopback."""
from __future__ import annotations

import json

from tests.cluster import wait_for
from tests.drills.conftest import REPO_PASSWORD, SCRATCH_VALUE, WEB_SECRET

LINKS = "https://example.org/a\nhttps://example.org/b\n"


def repo_listing(fleet) -> dict[str, int]:
    return {str(p.relative_to(fleet.repository)): p.stat().st_mtime_ns
            for p in fleet.repository.rglob("*")}


def test_a_host_not_marked_scratch_is_refused_and_receives_nothing(fleet):
    res = fleet.drill("drill", "web1", "--onto", "plain1", "--yes")
    assert res.returncode == 1
    assert "plain1 is not marked scratch" in res.stderr and "scratch=true" in res.stderr
    assert not (fleet.outdirs["plain1"] / "app.conf").exists()


def test_the_cli_says_scratch_gets_the_secrets_and_asks(fleet):
    res = fleet.drill("drill", "web1", "--onto", "scratch1", input="n\n")
    assert res.returncode == 1
    assert "scratch1 will receive web1's role, pillar and secrets" in res.stderr
    assert "nothing done" in res.stderr
    assert not (fleet.outdirs["scratch1"] / "app.conf").exists()


def test_a_drill_converges_scratch_as_source_restores_and_records_its_phases(fleet):
    assert fleet.cli("apply", "web1").returncode == 0
    (fleet.minion_dir("web1") / "links.txt").write_text(LINKS)
    code, data, err = fleet.run_json("web1", "backup.run", "links", "--timeout", "60")
    assert code == 0 and data["web1"]["success"], (data, err)
    repo = repo_listing(fleet)
    source_file = fleet.outdirs["web1"] / "app.conf"
    before = (source_file.read_text(), source_file.stat().st_mtime_ns)

    res = fleet.drill("drill", "web1", "--onto", "scratch1", "--yes", "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    result = json.loads(res.stdout)
    assert result["passed"] and result["failed_phase"] is None
    assert [p["name"] for p in result["phases"]] == ["converge", "restore", "verify"]
    assert all(p["passed"] and p["duration"] > 0 for p in result["phases"] if p["name"] != "restore")
    assert abs(result["total"] - sum(p["duration"] for p in result["phases"])) < 0.01

    # SCRATCH got SOURCE's role and pillar (the pillar rendered for web1, secret included) and
    # rendered as web1 (grains['id']), writing under its own outdir grain
    drilled = (fleet.outdirs["scratch1"] / "app.conf").read_text()
    assert drilled == f"role=web\nname=web1\nhost=web1\napi_key={WEB_SECRET}\n"
    # ... and restored SOURCE's latest backup there
    restore = result["phases"][1]
    assert restore["detail"] == "1/1 backup jobs restored (links)"
    assert restore["items"][0]["ret"]["snapshot_id"].startswith(data["web1"]["snapshot_id"])
    assert (fleet.minion_dir("scratch1") / "links.txt").read_text() == LINKS
    # SOURCE untouched, its repository only read
    assert (source_file.read_text(), source_file.stat().st_mtime_ns) == before
    assert repo_listing(fleet) == repo
    # the secret is nowhere in what the master keeps or prints
    listed = fleet.drills_json("web1")
    assert listed[0]["id"] == result["id"] and listed[0]["passed"]
    for secret in (WEB_SECRET, REPO_PASSWORD):
        assert secret not in res.stdout + res.stderr + json.dumps(listed)
        for path in list(fleet.master_dir.glob("master.db*")) + fleet.logs():
            assert secret.encode() not in path.read_bytes()


def test_a_drill_whose_restore_fails_names_the_phase_and_leaves_source_untouched(fleet):
    source_file = fleet.outdirs["web1"] / "app.conf"
    before = (source_file.read_text(), source_file.stat().st_mtime_ns)
    repo = repo_listing(fleet)
    wrong = fleet.backup_pillar.replace(fleet.backup_pillar.split("password: ")[1].split("\n")[0],
                                        fleet.secret("backup:password", "not-the-password"))
    pillar = fleet.master_dir / "pillar" / "backup1.sls"
    try:
        pillar.write_text(wrong)
        res = fleet.drill("drill", "web1", "--onto", "scratch1", "--yes")
    finally:
        pillar.write_text(fleet.backup_pillar)
    assert res.returncode == 1
    assert "FAIL restore" in res.stdout and "FAILED in phase restore" in res.stdout
    assert "wrong password" in res.stdout or "password is incorrect" in res.stdout, res.stdout
    last = fleet.drills_json("web1")[0]
    assert not last["passed"] and last["failed_phase"] == "restore"
    assert [p["name"] for p in last["phases"]] == ["converge", "restore"]   # verify never ran

    gone = fleet.repository.with_name("repo-web1.gone")
    fleet.repository.rename(gone)
    try:
        res = fleet.drill("drill", "web1", "--onto", "scratch1", "--yes", "--json")
    finally:
        gone.rename(fleet.repository)
    result = json.loads(res.stdout)
    assert res.returncode == 1 and result["failed_phase"] == "restore"
    assert "links" in result["reason"]
    assert (source_file.read_text(), source_file.stat().st_mtime_ns) == before
    assert repo_listing(fleet) == repo


def test_the_grant_ends_with_the_drill_jobs(fleet):
    """After the drill, SCRATCH's own jobs get its own pillar again, not SOURCE's."""
    assert fleet.cli("apply", "scratch1").returncode == 0
    assert (fleet.outdirs["scratch1"] / "own.conf").read_text().strip() == f"own={SCRATCH_VALUE}"


def test_drills_table_lists_phases_and_times(fleet):
    res = fleet.cli("drills", "web1")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].split()[:6] == ["ID", "WHEN", "KIND", "SOURCE", "ONTO", "RESULT"]
    assert any("web1" in line and "scratch1" in line and "passed" in line and "converge=" in line
               for line in lines[1:])


def test_a_scheduled_drill_runs_without_anyone(fleet):
    """master.yaml schedules web2 onto scratch2; nobody runs a command, the result is recorded."""
    found = wait_for(lambda: [d for d in fleet.drills_json("web2") if d["trigger"] == "schedule"],
                     timeout=60, what="a scheduled drill of web2", step=0.5)
    drill = found[-1]
    assert drill["passed"], drill
    assert drill["onto"] == "scratch2" and drill["user"] == "schedule"
    assert (fleet.outdirs["scratch2"] / "app.conf").read_text().startswith("role=web\nname=web2\nhost=web2\n")
    events = json.loads(fleet.cli("events", "--json", "--limit", "1000").stdout)
    assert any(e["kind"] == "drill_passed" and e["minion_id"] == "web2" for e in events)


def test_a_stale_drill_is_drift(fleet, tmp_path):
    """plain1's last passing drill ended 9 days ago (drill_max_age is 8 days): drift, exit 2."""
    import time

    from master.drills.record import DrillResult, Phase
    from master.drills.store import DrillStore

    old = time.time() - 9 * 86400
    store = DrillStore(str(fleet.master_dir / "master.db"))
    result = DrillResult("drill", "plain1", "scratch1", started=old)
    result.phases = [Phase(name, old, 1.0, True) for name in ("converge", "restore", "verify")]
    result.finish(old + 3)
    store.add(result)
    store.close()

    junit = tmp_path / "drift.xml"
    res = fleet.cli("drift", "plain1", "--json", "--junit", str(junit))
    assert res.returncode == 2
    row = json.loads(res.stdout)["plain1"]
    assert row["checks"] == [{"name": "drill", "kind": "stale drill",
                              "message": "last passing drill 9d ago (older than drill_max_age 8d)"}]
    assert 'name="drill"' in junit.read_text() and 'type="stale drill"' in junit.read_text()
    table = fleet.cli("drift", "plain1").stdout
    assert "stale drill" in table and "last passing drill 9d ago" in table
    # web1 passed a drill minutes ago: no drill check on it
    assert "checks" not in json.loads(fleet.cli("drift", "web1", "--json").stdout)["web1"]


def test_rebuild_refuses_while_lost_still_answers(fleet):
    res = fleet.drill("rebuild", "web1", "--onto", "scratch1", "--yes")
    assert res.returncode == 1
    assert "web1 still answers test.ping" in res.stderr and "--force" in res.stderr
    assert fleet.keys()["accepted"].count("scratch1") == 1


def test_rebuild_gives_new_host_the_lost_id(fleet):
    old_key = (fleet.master_dir / "pki" / "minions" / "web1").read_text()
    new_key = (fleet.master_dir / "pki" / "minions" / "scratch1").read_text()
    fleet.stop_minion("web1")                                 # the server is lost, disk and all
    import shutil
    shutil.rmtree(fleet.outdirs["web1"])
    scratch_proc = fleet.minions["scratch1"]

    res = fleet.drill("rebuild", "web1", "--onto", "scratch1", "--yes", "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    result = json.loads(res.stdout)
    assert [p["name"] for p in result["phases"]] == ["converge", "restore", "verify", "takeover"]
    assert result["kind"] == "rebuild" and result["passed"]

    keys = fleet.keys()
    assert "web1" in keys["accepted"] and "scratch1" not in keys["accepted"]
    assert (fleet.master_dir / "pki" / "minions" / "web1").read_text() == new_key
    assert (fleet.master_dir / "pki" / "minions_rejected" / "web1").read_text() == old_key
    # the same minion process, restarted in place under its new id, answers as web1
    assert scratch_proc.poll() is None
    code, data, _ = fleet.run_json("web1", "test.ping")
    assert (code, data) == (0, {"web1": True})
    import yaml
    config = yaml.safe_load((fleet.minion_dir("scratch1") / "minion.yaml").read_text())
    assert config["id"] == "web1" and "scratch" not in config["grains"]
    # converged as itself: web1's role, with web1's pillar
    assert (fleet.outdirs["scratch1"] / "app.conf").read_text() == f"role=web\nname=web1\nhost=web1\napi_key={WEB_SECRET}\n"
    # the links backed up before the loss are on the new web1, and its backups go on into
    # web1's repository, as web1
    assert (fleet.minion_dir("scratch1") / "links.txt").read_text() == LINKS
    code, data, err = fleet.run_json("web1", "backup.run", "links", "--timeout", "60")
    assert code == 0 and data["web1"]["success"], (data, err)
    code, data, _ = fleet.run_json("web1", "backup.snapshots", "links")
    assert code == 0 and [s["hostname"] for s in data["web1"]] == ["web1", "web1"]
    # a rebuild is a passing drill of web1: no drill check in drift
    assert "checks" not in json.loads(fleet.cli("drift", "web1", "--json").stdout)["web1"]


def test_the_lost_machine_coming_back_is_denied(fleet):
    """web1's old machine starts again with its old key: it cannot act as web1 any more."""
    fleet.start_minion("web1")
    wait_for(lambda: "web1" in fleet.keys()["denied"], timeout=30, what="old web1 key denied", step=0.2)
    code, data, _ = fleet.run_json("web1", "cmd.run", "hostname")
    assert code == 0 and list(data) == ["web1"]
    assert fleet.minions["scratch1"].poll() is None
