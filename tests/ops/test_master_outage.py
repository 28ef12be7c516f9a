"""Issue 17 with real processes: the master away or restarted while minions work.
The tests share one master and minion m1 (a drift check every 2 s) and run in order."""
from __future__ import annotations

import json
import re
import subprocess
import time

import pytest

from tests.ops.conftest import OpsCluster, wait_for


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory, lpmaster_bin: str, lpminion_bin: str):
    c = OpsCluster(tmp_path_factory.mktemp("outage"), lpmaster_bin, lpminion_bin,
                   drift="drift:\n  interval: 2\n  splay: 0\n")
    try:
        c.start_master()
        c.add("m1")
        yield c
    finally:
        c.close()


def events(cluster: OpsCluster, kind: str) -> list[dict]:
    proc = cluster.cli("events", "--json", "--limit", "1000")
    return [e for e in json.loads(proc.stdout) if e["kind"] == kind]


def test_a_drift_check_that_could_not_reach_the_master_makes_no_report(outage):
    assert outage.cli("apply", "m1", "--timeout", "30").returncode == 0
    wait_for(lambda: outage.drift_json("m1")[1]["m1"]["status"] == "clean", 30, "a clean report from m1")
    failed_checks = outage.minion_log("m1").count("(drift.check) finished: failed")
    outage.stop_master()
    wait_for(lambda: outage.minion_log("m1").count("(drift.check) finished: failed") > failed_checks,
             30, "a drift check to run while the master is away", step=0.2)
    outage.start_master()
    back = time.time()

    def fresh_report():
        code, rows, _ = outage.drift_json("m1")
        report = rows["m1"]["report"]
        return report and report["reported_at"] > back and rows["m1"]

    row = wait_for(fresh_report, 30, "a check after the master is back")
    assert row["status"] == "clean", row
    assert events(outage, "drift_found") == []             # no false alarm, no false all-clear


def start_minion_with_a_full_spool(cluster: OpsCluster, mid: str) -> None:
    """Start `mid` in a private mount namespace whose tmpfs over its spool is full."""
    spool = cluster.minion_dir(mid) / "spool"
    script = (f"set -e; mkdir -p {spool}; mount -t tmpfs -o size=64k,mode=0700 lp-test-spool {spool}; "
              f"mkdir -m 0700 {spool}/returns; cat /dev/zero > {spool}/filler 2>/dev/null || true; exec \"$@\"")
    argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
            *cluster._daemon(cluster.lpminion, str(cluster.minion_dir(mid) / "minion.yaml"), "start")]
    cluster.minions[mid] = cluster._spawn(mid, argv)


def test_a_return_the_full_spool_cannot_hold_is_kept_in_memory_and_delivered(outage):
    outage.init_minion("m2", "--grain", f"outdir={outage.outdir('m2')}")
    start_minion_with_a_full_spool(outage, "m2")
    outage.wait_pending("m2")
    outage.accept_keys("m2")
    outage.wait_answering("m2")
    marker = outage.outdir("m2") / "ran"
    outage.outdir("m2").mkdir(parents=True, exist_ok=True)
    waiting = subprocess.Popen([outage.lpmaster, "-c", outage.master_cfg, "run", "m2", "cmd.run",
                                f"touch {marker}; sleep 2; echo finished", "--timeout", "20"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(marker.exists, 20, "the job to start on m2")
        outage.stop_master()
    finally:
        waiting.wait(timeout=30)
    wait_for(lambda: any(w in outage.minion_log("m2") for w in ("kept in memory", "spooling it")), 30,
             "m2 to find the master away and its spool full")
    outage.start_master()
    (job,) = [j for j in json.loads(outage.cli("jobs", "list", "--json").stdout)
              if j["fun"] == "cmd.run" and j["minions"] == ["m2"]]

    def delivered():
        return json.loads(outage.cli("jobs", "show", job["jid"], "--json").stdout)["returns"].get("m2")
    ret = wait_for(delivered, 30, "the return kept in memory to reach the job store", step=0.3)
    assert ret["success"] and ret["ret"] == "finished"
    assert "kept in memory" in outage.minion_log("m2")    # the full spool, not the disk, held it


def start_run(cluster: OpsCluster, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([cluster.lpmaster, "-c", cluster.master_cfg, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def job_return(cluster: OpsCluster, jid: str, mid: str) -> dict | None:
    return json.loads(cluster.cli("jobs", "show", jid, "--json").stdout)["returns"].get(mid)


def kill_minion(cluster: OpsCluster, mid: str) -> None:
    proc = cluster.minions.pop(mid)
    proc.kill()
    proc.wait(timeout=10)


def test_a_cli_waiting_when_the_master_stops_exits_2_with_the_job_id(outage):
    outage.outdir("m1").mkdir(parents=True, exist_ok=True)
    marker = outage.outdir("m1") / "long-job"
    waiting = start_run(outage, "run", "m1", "cmd.run", f"touch {marker}; sleep 60", "--timeout", "120")
    wait_for(marker.exists, 20, "the job to start on m1")
    outage.stop_master()
    _, err = waiting.communicate(timeout=30)
    shown = re.search(r"lpmaster jobs show (\S+)", err)
    assert waiting.returncode == 2 and shown, err
    jid = shown.group(1)
    assert "CancelledError" not in outage.master_log() and "Traceback" not in outage.master_log()

    kill_minion(outage, "m1")                        # cut off mid-job, while the master is away
    outage.start_master()
    outage.start_minion("m1")
    ret = wait_for(lambda: job_return(outage, jid, "m1"), 30, "m1 to report the cut-off job", step=0.3)
    assert ret["success"] is False and ret["ret"].startswith("Lost: the minion stopped"), ret


def test_the_first_publish_after_a_master_restart_reaches_the_minions(outage):
    outage.wait_answering("m1")
    missed = outage.minion_log("m1").count("heartbeat: ")
    outage.stop_master()        # long enough for m1's reconnect attempts to back off to seconds
    wait_for(lambda: outage.minion_log("m1").count("heartbeat: ") >= missed + 2, 30, "m1 to miss two beats")
    outage.start_master()
    code, data, err = outage.run_json("m1", "test.ping", "--timeout", "20")
    assert code == 0 and data == {"m1": True}, err


def test_a_minion_killed_mid_job_is_lost_at_once_and_the_cli_stops_waiting(outage):
    outage.wait_answering("m1")
    marker = outage.outdir("m1") / "long-job-2"
    waiting = start_run(outage, "run", "m1", "cmd.run", f"touch {marker}; sleep 60", "--timeout", "120")
    wait_for(marker.exists, 20, "the job to start on m1")
    kill_minion(outage, "m1")
    try:
        _, err = waiting.communicate(timeout=30)     # far less than the job's 120 s timeout
    except subprocess.TimeoutExpired:
        waiting.kill()
        raise AssertionError("the CLI kept waiting for a minion whose connection dropped") from None
    assert waiting.returncode == 2 and "lost" in err, err
    (job,) = [j for j in json.loads(outage.cli("jobs", "list", "--json").stdout)
              if j["arg"] == [f"touch {marker}; sleep 60"]]
    ret = job_return(outage, job["jid"], "m1")
    assert ret and ret["success"] is False and "Lost: the connection to m1 dropped" in ret["ret"], ret


def test_no_waiting_on_a_minion_the_master_knows_is_gone(outage):
    waiting = start_run(outage, "apply", "m1", "--timeout", "120")
    try:
        _, err = waiting.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        waiting.kill()
        raise AssertionError("apply waited for a minion with no connection") from None
    assert waiting.returncode == 2 and "m1 did not answer (not connected)" in err, err


def test_scheduled_runs_done_while_the_master_was_away_keep_when_they_ran_and_count_once(outage):
    from core import wire
    from tests.foundation.rawclient import RawClient, minion_keypair

    ticks = outage.outdir("m3") / "ticks"
    outage.outdir("m3").mkdir(parents=True, exist_ok=True)
    outage.init_minion("m3", "--grain", f"outdir={outage.outdir('m3')}",
                       config=f"schedule:\n  tick:\n    function: cmd.run\n    job_args: ['echo x >> {ticks}']\n"
                              "    seconds: 1\n")
    outage.start_minion("m3")
    outage.wait_pending("m3")
    outage.accept_keys("m3")
    outage.wait_answering("m3")

    def tick_jobs() -> list[dict]:
        jobs = json.loads(outage.cli("jobs", "list", "--json", "--limit", "500").stdout)
        return [j for j in jobs if j["user"] == "schedule:tick"]

    wait_for(tick_jobs, 30, "a scheduled run recorded while the master is up")
    outage.stop_master()
    away = time.time()
    done = len(ticks.read_text().splitlines())
    wait_for(lambda: len(ticks.read_text().splitlines()) >= done + 2, 30, "two runs while the master is away")
    outage.start_master()
    back = time.time()

    def offline_runs() -> list[dict]:
        during = [j for j in tick_jobs() if away < j["created"] < back]
        return during if len(during) >= 2 else []
    during = wait_for(offline_runs, 30, "the runs done while away, recorded at the time they ran", step=0.3)
    assert max(j["created"] for j in during) - min(j["created"] for j in during) >= 0.5   # not one burst

    client = RawClient(outage, minion_keypair(outage, "m3"))   # a spooled run sent twice (ack lost)
    try:
        run_id = wire.new_jid(away)
        request = {"type": "scheduled_job", "name": "tick", "fun": "cmd.run", "arg": ["echo x"], "kwarg": {},
                   "return": {"success": True, "ret": "x", "retcode": 0}, "run_id": run_id, "ran_at": away}
        first, again = client.ask({**request, "rid": 1}), client.ask({**request, "rid": 2})
    finally:
        client.close()
    assert first["type"] == again["type"] == "started" and first["jid"] == again["jid"], (first, again)
    assert sum(1 for j in tick_jobs() if j["jid"] == first["jid"]) == 1
