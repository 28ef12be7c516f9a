"""Nothing is lost while the master is away: a drift report and the returns of scheduled jobs
are kept on the minion's disk and delivered once the master is back (real processes)."""
from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from tests.cluster import Cluster, wait_for

GATE = """#!/bin/sh
# `unless` of the last state: while ARMED exists, say WAITING and hold the check until RELEASED.
if [ -e "{d}/armed" ]; then
    touch "{d}/waiting"
    i=0
    while [ ! -e "{d}/released" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done
fi
exit 0
"""


@pytest.fixture
def cluster(tmp_path: Path, lpmaster_bin: str, lpminion_bin: str):
    c = Cluster(tmp_path, lpmaster_bin, lpminion_bin, minion_args=["--heartbeat", "0.5"],
                minion_config="register_backoff_max: 0.5\nrequest_timeout: 2\n")
    try:
        yield c
    finally:
        c.close()


def _jobs(cluster: Cluster) -> list[dict]:
    res = cluster.cli("jobs", "list", "--json")
    return json.loads(res.stdout) if res.returncode == 0 else []


def _returns(cluster: Cluster, jid: str) -> dict:
    res = cluster.cli("jobs", "show", jid, "--json")
    return json.loads(res.stdout)["returns"] if res.returncode == 0 else {}


def test_a_drift_report_made_while_the_master_is_down_reaches_it_once_it_is_back(cluster, tmp_path):
    out, gate = tmp_path / "out", tmp_path / "gate"
    out.mkdir()
    gate.mkdir()
    (gate / "gate.sh").write_text(GATE.format(d=gate))
    states = cluster.master_dir / "states"
    states.mkdir(parents=True, exist_ok=True)
    (states / "top.sls").write_text("base:\n  'lp1':\n    - motd\n    - gate\n")
    (states / "motd.sls").write_text(f"{out}/motd:\n  file.managed:\n    - contents: hello\n")
    (states / "gate.sls").write_text(f"gate:\n  cmd.run:\n    - name: 'true'\n    - unless: sh {gate}/gate.sh\n")
    cluster.start_master()
    cluster.init_minion("lp1", config="drift:\n  interval: 3600\n  splay: 0\n")
    cluster.start_minion("lp1")
    cluster.wait_pending("lp1")
    cluster.accept_keys("lp1")

    def clean_report():   # the boot converge, then its drift check
        rows = json.loads(cluster.cli("drift", "--json").stdout)
        return rows["lp1"]["report"] and rows["lp1"]["status"] == "clean"

    wait_for(clean_report, 90, "lp1's first, clean report")
    (out / "motd").write_text("edited by hand\n")
    (gate / "armed").touch()
    # a check starts while the master is up (it needs the tree and pillar), and is held in the gate
    cluster.start_process("refresh", [cluster.lpmaster, "-c", cluster.master_cfg, "drift", "--refresh",
                                      "--timeout", "5"])
    wait_for((gate / "waiting").exists, 60, "the drift check to reach the gate")
    cluster.stop_master(signal.SIGKILL)
    (gate / "armed").unlink()
    (gate / "released").touch()
    kept = cluster.minion_dir("lp1") / "spool" / "drift-report.json"
    wait_for(kept.exists, 60, "the undelivered report kept on disk")
    seq = json.loads(kept.read_text())["seq"]

    cluster.start_master()
    wait_for(lambda: not kept.exists(), 60, "the kept report delivered")
    proc = cluster.cli("drift", "--json")   # no --refresh: what the master holds
    assert proc.returncode == 2, proc.stdout + proc.stderr
    row = json.loads(proc.stdout)["lp1"]
    assert row["status"] == "drifted" and row["report"]["seq"] == seq
    assert str(out / "motd") in json.dumps(row["report"]["drifted"])
    table = cluster.cli("drift").stdout
    assert "lp1" in table and "motd" in table


def test_scheduled_jobs_land_in_the_job_store_also_when_they_ran_while_the_master_was_down(cluster):
    cluster.start_master()
    cluster.init_minion("lp1", config=("startup_states: none\ndrift:\n  enabled: false\n"
                                       "schedule:\n  tick:\n    function: cmd.run\n"
                                       "    job_args: ['date +%s%N']\n    seconds: 1\n"))
    cluster.start_minion("lp1")
    cluster.wait_pending("lp1")
    cluster.accept_keys("lp1")

    def scheduled_with_return():
        jobs = [j for j in _jobs(cluster) if j["user"] == "schedule:tick" and j["returned"] == 1]
        return jobs

    (job, *_) = wait_for(scheduled_with_return, 60, "a scheduled job with its return in the job store")
    assert job["fun"] == "cmd.run" and job["minions"] == ["lp1"]
    ret = _returns(cluster, job["jid"])["lp1"]
    assert ret["success"] is True and str(ret["ret"]).strip().isdigit()

    cluster.stop_master(signal.SIGKILL)
    spool = cluster.minion_dir("lp1") / "spool" / "returns"
    wait_for(lambda: any(n.endswith("-schedule.mp") for n in os.listdir(spool)), 60,
             "a scheduled job's return spooled while the master is down")
    from core import wire
    spooled = [wire.decode((spool / n).read_bytes()) for n in sorted(os.listdir(spool)) if n.endswith(".mp")]
    outputs = {str(m["return"]["ret"]) for m in spooled if m.get("type") == "scheduled_job"}
    assert outputs

    cluster.start_master()
    wait_for(lambda: not any(n.endswith(".mp") for n in os.listdir(spool)), 60, "the spool emptied")

    def stored_outputs():
        jids = [j["jid"] for j in _jobs(cluster) if j["user"] == "schedule:tick"]
        return {str(r["ret"]) for jid in jids for r in _returns(cluster, jid).values()}

    assert outputs <= stored_outputs()
