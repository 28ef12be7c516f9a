"""Backups through a real master and minion on loopback: pillar-declared jobs, the CLI, the
catalogue, drift, restore, the scheduler's catch-up, and the password canary."""
from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from tests.backup.conftest import PASSWORD
from tests.cluster import Cluster, wait_for

MID = "web1"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, lpmaster_bin: str, lpminion_bin: str) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("bk")
    data = root / "data"
    (data / "sub").mkdir(parents=True)
    (data / "a.txt").write_text("alpha\n")
    (data / "sub" / "big").write_bytes(os.urandom(3_000_000))
    c = Cluster(root, lpmaster_bin, lpminion_bin, minion_args=["--heartbeat", "2", "--startup-states", "none"])
    try:
        assert c.cli("secret", "keygen").returncode == 0
        token = c.secret("backup:password", PASSWORD)
        assert token.startswith("ENC[")
        pillar = c.master_dir / "pillar"
        pillar.mkdir(exist_ok=True)
        (pillar / "top.sls").write_text(f"base:\n  '{MID}':\n    - backup\n")
        (pillar / "backup.sls").write_text(
            "backup:\n"
            f"  repository: {root}/repo\n"
            "  password: |-\n"
            f"    {token}\n"
            "  env: {RESTIC_PROGRESS_FPS: '4'}\n"
            "  jobs:\n"
            f"    data: {{source: files, paths: ['{data}'], cron: '0 4 * * *'}}\n"
            "    export: {source: command, command: 'echo exported', filename: export.json, cron: '30 3 * * *'}\n"
            "    broken: {source: command, command: 'echo half; exit 7', filename: b.txt, cron: '0 3 * * *'}\n")
        c.write_states({"top.sls": "base: {}\n"})
        pw = root / "master-backup.pass"
        pw.write_text(PASSWORD + "-master\n")
        pw.chmod(0o600)
        config = yaml.safe_load(Path(c.master_cfg).read_text())
        config["backup"] = {"repository": str(root / "master-repo"), "password_file": str(pw), "cron": "15 2 * * *"}
        Path(c.master_cfg).write_text(yaml.safe_dump(config))
        c.start_master()
        c.add_minions(MID)
        yield c
    finally:
        c.close()


def _backups(site: Cluster) -> tuple[int, dict[str, dict]]:
    proc = site.cli("backups", "--json")
    assert proc.returncode in (0, 2), proc.stderr
    return proc.returncode, {row["job"]: row for row in json.loads(proc.stdout)}


def _outputs(site: Cluster, *procs: subprocess.CompletedProcess[str]) -> None:
    for proc in procs:
        assert PASSWORD not in proc.stdout + proc.stderr


def test_declared_jobs_are_never_run_until_run_then_ok(site: Cluster, tmp_path: Path) -> None:
    wait_for(lambda: len(_backups(site)[1]) == 4, what="the declared jobs (and the master's own) in the catalogue")
    code, rows = _backups(site)
    assert code == 2 and {r["status"] for r in rows.values()} == {"never run"}
    table = site.cli("backups")
    assert "never run" in table.stdout and table.returncode == 2

    run = site.cli("backup", "run", MID, "data")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "backup data ok: snapshot" in run.stdout
    assert f"{MID} data:" in run.stderr and "%" in run.stderr    # restic's progress, relayed by the master
    code, rows = _backups(site)
    assert rows["data"]["status"] == "ok" and rows["data"]["last_good"]["snapshot_id"]
    assert rows["data"]["last_good"]["total_bytes"] >= 3_000_000

    snaps = site.cli("backup", "snapshots", MID, "data", "--json")
    assert snaps.returncode == 0, snaps.stderr
    (snap,) = json.loads(snaps.stdout)[MID]
    assert snap["short_id"] == rows["data"]["last_good"]["snapshot_id"] and snap["good"]

    out = tmp_path / "restored"
    res = site.cli("restore", MID, "data", "--to", str(out))
    assert res.returncode == 0, res.stdout + res.stderr
    data = site.root / "data"
    assert (out / str(data).lstrip("/") / "sub" / "big").read_bytes() == (data / "sub" / "big").read_bytes()
    again = site.cli("restore", MID, "data", "--to", str(out))
    assert again.returncode == 1 and "not empty" in again.stderr
    in_place = site.cli("restore", MID, "data", "--in-place")
    assert in_place.returncode == 64 and "--yes" in in_place.stderr
    _outputs(site, table, run, snaps, res, again, in_place)


def test_a_failing_job_exits_1_and_shows_its_error(site: Cluster) -> None:
    run = site.cli("backup", "run", MID, "broken")
    assert run.returncode == 1
    assert "FAILED" in run.stdout and "exited 7" in run.stdout
    _, rows = _backups(site)
    assert rows["broken"]["status"] == "never run" and "exited 7" in rows["broken"]["last_error"]
    snaps = json.loads(site.cli("backup", "snapshots", MID, "broken", "--json").stdout)
    assert snaps[MID] == []


def test_stale_backups_turn_drift_red(site: Cluster, tmp_path: Path) -> None:
    assert site.cli("backup", "run", MID, "export").returncode == 0
    drift = site.cli("drift", "--json", "--junit", str(tmp_path / "d.xml"))
    checks = {c["job"]: c["status"] for c in json.loads(drift.stdout)["backups"]}
    assert checks["export"] == "ok" and checks["broken"] == "never run"
    assert drift.returncode == 2
    site.stop_master()                                         # three days pass without a run
    db = sqlite3.connect(site.master_dir / "master.db")
    with db:
        db.execute("UPDATE backup_runs SET finished_at = finished_at - 3 * 86400 WHERE job = 'export'")
    db.close()
    site.start_master()
    drift = site.cli("drift")
    assert drift.returncode == 2
    assert "stale" in drift.stdout and "export" in drift.stdout
    junit = site.cli("drift", "--junit", str(tmp_path / "d.xml"))
    xml = (tmp_path / "d.xml").read_text()
    assert 'name="backup:export"' in xml and "backup stale" in xml
    _outputs(site, drift, junit)


def test_a_job_missed_while_the_minion_was_down_runs_at_its_next_start(site: Cluster) -> None:
    site.stop_minion(MID)
    before = _backups(site)[1]["export"]["last_run"]["run_id"]
    state = site.minion_dir(MID) / "cache" / "schedule.json"
    book = json.loads(state.read_text())
    two_days_ago = time.time() - 2 * 86400
    book["jobs"]["backup:export"] = {"baseline": two_days_ago, "last_slot": two_days_ago, "last_run": two_days_ago}
    state.write_text(json.dumps(book))
    site.start_minion(MID)
    site.wait_answering(MID)
    wait_for(lambda: _backups(site)[1]["export"]["last_run"]["run_id"] != before, timeout=60,
             what="the missed export run in the catalogue")
    job = [j for j in json.loads(site.cli("jobs", "list", "--json").stdout) if j["fun"] == "backup.run"]
    assert job, "the scheduled run is recorded in the job store"


def test_the_password_is_in_no_log_store_or_process_list(site: Cluster) -> None:
    seen: list[str] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            seen.append(subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout)

    thread = threading.Thread(target=sample)
    thread.start()
    try:
        run = site.cli("backup", "run", MID, "data", "--json")
    finally:
        stop.set()
        thread.join()
    assert run.returncode == 0 and PASSWORD not in run.stdout + run.stderr
    assert any("restic" in s for s in seen) and not any(PASSWORD in s for s in seen)
    needle = PASSWORD.encode()
    for base in (site.master_dir, site.minion_dir(MID)):
        for dirpath, _, files in os.walk(base):
            for name in files:
                path = Path(dirpath, name)
                if path.is_file() and not path.is_symlink() and not path.is_socket():
                    assert needle not in path.read_bytes(), f"{path} holds the password"
    for log in site.root.glob("*.log"):
        assert needle not in log.read_bytes(), f"{log} holds the password"


def test_a_lost_master_comes_back_with_init_restore(site: Cluster) -> None:
    """Last in this module: it deletes the master's directory."""
    run = site.cli("backup", "run", "(master)", "master")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "backup master ok: snapshot" in run.stdout
    _, rows = _backups(site)
    assert rows["master"]["minion"] == "(master)" and rows["master"]["status"] == "ok"
    good_before = {job: row["last_good"]["snapshot_id"] for job, row in rows.items()
                   if row["last_good"] and job != "master"}    # a self-backup cannot hold its own record
    jids_before = {j["jid"] for j in json.loads(site.cli("jobs", "list", "--json").stdout)}
    finger = site.finger

    site.stop_master()
    shutil.rmtree(site.master_dir)
    res = site.cli("init", "--restore", str(site.root / "master-repo"), "--dir", str(site.master_dir),
                   "--password-file", str(site.root / "master-backup.pass"), config=False)
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"master fingerprint: {finger}" in res.stdout
    site.start_master()
    site.wait_answering(MID)                      # the same running minion, never re-accepted or re-pinned
    assert MID in site.keys()["accepted"]
    assert jids_before <= {j["jid"] for j in json.loads(site.cli("jobs", "list", "--json").stdout)}
    _, rows = _backups(site)
    assert {job: row["last_good"]["snapshot_id"] for job, row in rows.items()
            if row["last_good"] and job != "master"} == good_before
    assert rows["master"]["status"] == "ok"                  # the snapshot it came back from
    assert rows["master"]["last_good"]["snapshot_id"] == re.search(r"snapshot (\w+)", run.stdout).group(1)
    again = site.cli("backup", "run", MID, "export")   # its pillar's ENC[] password still decrypts
    assert again.returncode == 0, again.stdout + again.stderr
    _outputs(site, run, res, again)
