"""Issue 17 with real processes: the master away or restarted while minions work.
The tests share one master and minion m1 (a drift check every 2 s) and run in order."""
from __future__ import annotations

import json
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
