"""The drift lifecycle with real processes: converge on boot, hand edits, CI output, stale minions,
missed scheduled jobs. The tests run in order on one master with two minions (conftest.py)."""
from __future__ import annotations

import json
import subprocess
import threading
import time

import yaml
from junitparser import Failure, JUnitXml

from tests.drift.conftest import MINIONS, MOTD, SECRET, wait_for


def motd_case(fleet, mid: str) -> str:
    return f"file.managed {fleet.outdirs[mid] / 'motd'}"


def test_each_minion_converges_on_start_without_a_command(fleet):
    for mid in MINIONS:
        wait_for(lambda: (fleet.outdirs[mid] / "motd").exists(), 90, f"{mid} to converge on boot")
    assert (fleet.outdirs["web1"] / "motd").read_text() == MOTD + "\n"
    assert (fleet.outdirs["web2"] / "tls" / "site.pem").read_bytes().startswith(b"-----BEGIN CERTIFICATE")
    wait_for(lambda: (fleet.outdirs["web1"] / "app.conf").exists(), 30, "web1's app.conf")
    assert (fleet.outdirs["web1"] / "app.conf").read_text() == f"api_key={SECRET}\n"
    for mid in MINIONS:   # the pillar's `schedule:` job with run_on_start ran once at start
        wait_for(lambda: (fleet.outdirs[mid] / "pillar-job").exists(), 30, f"{mid}'s pillar job")

    def boot_jobs_returned():
        jobs = json.loads(fleet.cli("jobs", "list", "--json").stdout)
        boot = [j for j in jobs if j["fun"] == "state.highstate" and j["user"] == "startup"]
        return len(boot) == 2 and all(j["returned"] == 1 for j in boot) and boot

    boot = wait_for(boot_jobs_returned, 60, "both boot converges in the job store")
    assert sorted(j["minions"][0] for j in boot) == sorted(MINIONS)

    def lifecycle_events():
        kinds = {(e["kind"], e["minion_id"]) for e in fleet.events()}
        want = {(k, m) for k in ("minion_started", "converged", "key_accepted") for m in MINIONS}
        return want <= kinds

    wait_for(lifecycle_events, 30, "started, converged and key_accepted events")

    def both_reported():   # a drift check follows the boot converge, without --refresh
        code, rows = fleet.drift_json()
        return rows if all(rows[m]["report"] for m in MINIONS) else None

    rows = wait_for(both_reported, 60, "a first drift report from each minion")
    assert rows["web1"]["status"] == "clean" and rows["web2"]["status"] == "drifted"   # web2: its certificate


def test_hand_edit_is_corrective_drift_with_its_diff_and_a_junit_failure(fleet, tmp_path):
    motd = fleet.outdirs["web1"] / "motd"
    motd.write_text("edited by hand at 3am\n")
    junit = tmp_path / "report.xml"
    proc = fleet.cli("drift", "--refresh", "--timeout", "60", "--junit", str(junit))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "-edited by hand at 3am" in proc.stdout and f"+{MOTD}" in proc.stdout
    assert "corrective" in proc.stdout
    assert motd.read_text() == "edited by hand at 3am\n"          # the check changed nothing

    xml = JUnitXml.fromfile(str(junit))
    web1_failures = [(c.name, r) for suite in xml for c in suite if c.classname == "web1"
                     for r in c.result if isinstance(r, Failure)]
    assert len(web1_failures) == 1
    name, failure = web1_failures[0]
    assert name == motd_case(fleet, "web1")
    assert "corrective" in failure.message and "-edited by hand at 3am" in failure.message

    code, rows = fleet.drift_json("web1")
    (drifted,) = rows["web1"]["report"]["drifted"]
    assert code == 2 and rows["web1"]["status"] == "drifted" and drifted["kind"] == "corrective"


def test_apply_puts_it_back_and_the_next_report_is_clean(fleet):
    proc = fleet.cli("apply", "web1", "--timeout", "60")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (fleet.outdirs["web1"] / "motd").read_text() == MOTD + "\n"
    proc = fleet.cli("drift", "web1", "--refresh", "--timeout", "60")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "clean" in proc.stdout
    kinds = [e["kind"] for e in fleet.events() if e["minion_id"] == "web1" and e["kind"].startswith("drift")]
    assert kinds == ["drift_found", "drift_cleared"]


def test_blueprint_change_not_applied_yet_is_pending(fleet):
    web = fleet.states / "web.sls"
    original = web.read_text()
    web.write_text(original.replace("'none') }}", "'none') }} (v2)"))
    try:
        code, rows = fleet.drift_json("web1", "--refresh", "--timeout", "60")
        assert code == 2
        (drifted,) = rows["web1"]["report"]["drifted"]
        assert drifted["kind"] == "pending" and f"+{MOTD} (v2)" in drifted["diff"]
        assert (fleet.outdirs["web1"] / "motd").read_text() == MOTD + "\n"
    finally:
        web.write_text(original)
    code, rows = fleet.drift_json("web1", "--refresh", "--timeout", "60")
    assert code == 0 and rows["web1"]["status"] == "clean"


def test_secret_in_a_drifted_file_never_leaves_and_events_follow(fleet, tmp_path):
    follower = subprocess.Popen([fleet.lpmaster, "-c", fleet.master_cfg, "events", "--follow", "--json",
                                 "--limit", "1"],
                                stdout=subprocess.PIPE, text=True)
    seen: list[dict] = []
    reader = threading.Thread(target=lambda: [seen.append(json.loads(x)) for x in follower.stdout], daemon=True)
    reader.start()
    wait_for(lambda: seen, 30, "the follower to print the latest past event")   # it is following now
    try:
        app = fleet.outdirs["web1"] / "app.conf"
        app.write_text("api_key=typed-by-hand\n")
        junit = tmp_path / "report.xml"
        proc = fleet.cli("drift", "web1", "--refresh", "--timeout", "60", "--junit", str(junit))
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert str(app) in proc.stdout and "corrective" in proc.stdout
        code, rows = fleet.drift_json("web1")
        proc_apply = fleet.cli("apply", "web1", "--timeout", "60")
        assert proc_apply.returncode == 0
        assert fleet.cli("drift", "web1", "--refresh", "--timeout", "60").returncode == 0
        wait_for(lambda: [(e["kind"], e["minion_id"]) for e in seen[1:] if e["kind"] != "converged"]
                 == [("drift_found", "web1"), ("drift_cleared", "web1")], 30,
                 "drift_found then drift_cleared on the followed event log")
        # the minion announces `converged` after the drift report that cleared it: it may come later
        wait_for(lambda: ("converged", "web1") in [(e["kind"], e["minion_id"]) for e in seen[1:]], 30,
                 "the apply's converged event on the followed event log")
    finally:
        follower.terminate()
        follower.wait(timeout=10)
    assert SECRET not in proc.stdout + proc.stderr + json.dumps(rows) + junit.read_text()
    assert SECRET.encode() not in b"".join(p.read_bytes() for p in fleet.master_dir.glob("*.db*"))
    assert all(SECRET not in log.read_text() for log in fleet.logs())
    assert app.read_text() == f"api_key={SECRET}\n"


def test_a_managed_certificate_expiring_within_the_window_is_reported(fleet):
    code, rows = fleet.drift_json("web2", "--refresh", "--timeout", "60")
    assert code == 2 and rows["web2"]["status"] == "drifted"
    report = rows["web2"]["report"]
    assert report["drifted"] == [] and report["failed"] == []
    (cert,) = report["expiring_certs"]
    assert cert["path"] == str(fleet.outdirs["web2"] / "tls" / "site.pem")
    assert 4 < cert["days_left"] <= 5 and "web2.linkpeek.test" in cert["subject"]
    table = fleet.cli("drift", "web2").stdout
    assert "site.pem" in table and "expires in 5.0 days" in table


def test_a_stopped_minion_shows_as_stale_once_its_report_is_older_than_max_age(fleet):
    fleet.stop_minion("web2")

    def stale():
        code, rows = fleet.drift_json("--max-age", "3s")
        return rows if rows["web2"]["status"] == "stale report" else None

    rows = wait_for(stale, 60, "web2's report to go stale", step=0.5)
    assert rows["web2"]["age"] > 3
    code, rows = fleet.drift_json("--max-age", "1h")
    assert rows["web2"]["status"] == "drifted"          # still within an hour: its last report stands
    code, rows = fleet.drift_json("--refresh", "--timeout", "3", "--max-age", "1h")
    assert rows["web2"]["status"] == "unreachable"      # but a refresh it did not answer checked nothing
    assert rows["web1"]["status"] == "clean"


def test_a_job_whose_slot_passed_while_the_minion_was_stopped_runs_once_after_start(fleet):
    mdir = fleet.minion_dir("web2")
    marker = fleet.outdirs["web2"] / "backup-ran"
    config_path = mdir / "minion.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["schedule"] = {"nightly": {"function": "cmd.run", "job_args": [f"echo ran >> {marker}"],
                                      "hours": 1}}
    config_path.write_text(yaml.safe_dump(config))
    five_hours_ago = time.time() - 5 * 3600
    state = mdir / "cache" / "schedule.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"version": 1, "jobs": {"nightly": {
        "baseline": five_hours_ago, "last_slot": five_hours_ago, "last_run": five_hours_ago}}}))

    fleet.start_minion("web2")
    wait_for(marker.exists, 60, "the missed job to run after start")

    def recorded():
        jobs = json.loads(state.read_text())["jobs"]
        return jobs["nightly"]["last_run"] > five_hours_ago + 3600 and "__drift_check" in jobs

    wait_for(recorded, 30, "the run recorded in the schedule state")
    # it converged on boot again, announced itself, and the missed job ran exactly once
    wait_for(lambda: sum(1 for e in fleet.events() if (e["kind"], e["minion_id"]) == ("minion_started", "web2")) == 2,
             30, "a second minion_started event for web2")
    assert fleet.cli("run", "web2", "test.ping", "--timeout", "30").returncode == 0
    assert marker.read_text() == "ran\n"
    assert (fleet.outdirs["web1"] / "pillar-job").read_text() == "hi\n"
