"""Issue 15 with real processes: drift never says `clean` for a host it did not check, an apply
updates the drift record, one daemon per config, pending keys named, Salt's output habits, a
closed pipe, `status` with no master (and 17.6, a minion whose clock is off). The tests share
one master (m1 has a state, m2 none) and run in order; the last stops it."""
from __future__ import annotations

import json
import os
import re
import subprocess

from junitparser import Failure, JUnitXml

from tests.ops.conftest import wait_for


def test_a_host_with_no_states_yet_is_clean_not_failing(ops):
    ops.add("m1", "m2")
    code, rows, err = ops.drift_json("m2", "--refresh", "--timeout", "30")
    assert rows["m2"]["status"] == "clean", (rows, err)
    assert code == 0 and rows["m2"]["report"]["compile_errors"] == []


def test_an_apply_that_converged_a_host_updates_its_drift_record(ops):
    assert ops.cli("apply", "m1", "--timeout", "30").returncode == 0
    (ops.outdir("m1") / "motd").write_text("edited by hand\n")
    code, rows, _ = ops.drift_json("m1", "--refresh", "--timeout", "30")
    assert code == 2 and rows["m1"]["status"] == "drifted"
    proc = ops.cli("apply", "m1", "--timeout", "30")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    code, rows, _ = ops.drift_json("m1")                  # no --refresh: the record itself
    assert rows["m1"]["status"] == "clean" and code == 0, rows


def test_a_host_whose_check_failed_on_refresh_is_not_checked_rather_than_its_old_status(ops):
    ops.init_minion("badcfg", "--grain", f"outdir={ops.outdir('badcfg')}",
                    config="drift:\n  enabled: false\n  cert_window_days: soon\n")   # its check cannot run
    ops.start_minion("badcfg")
    ops.wait_pending("badcfg")
    ops.accept_keys("badcfg")
    ops.wait_answering("badcfg")
    code, rows, err = ops.drift_json("badcfg", "--refresh", "--timeout", "20")
    assert code == 2 and rows["badcfg"]["status"] == "not checked", (rows, err)
    assert "answered the refresh but was not checked" in err
    ops.stop_minion("badcfg")


def test_a_second_minion_daemon_with_the_same_config_is_refused_naming_the_first(ops):
    cfg = str(ops.minion_dir("m1") / "minion.yaml")
    try:
        proc = subprocess.run([ops.lpminion, "-c", cfg, "start"], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        raise AssertionError("a second lpminion with the same config kept running") from None
    assert proc.returncode == 64, proc.stderr
    assert f"pid {ops.minions['m1'].pid}" in proc.stderr and "already running" in proc.stderr
    ops.wait_answering("m1")                                # the first one is undisturbed


def events_of(ops, mid: str) -> list[str]:
    return [e["kind"] for e in json.loads(ops.cli("events", "--json", "--limit", "1000").stdout)
            if e["minion_id"] == mid]


def test_errors_name_what_the_user_wrote_once_and_a_failed_apply_is_an_event(ops):
    proc = ops.cli("apply", "m1", "nosuchsls", "--timeout", "30")
    assert proc.returncode == 1
    assert "SLS 'nosuchsls' not found in the master's state tree" in proc.stdout, proc.stdout
    assert str(ops.minion_dir("m1")) not in proc.stdout
    assert "apply_failed" in events_of(ops, "m1")
    top = ops.master_dir / "states" / "top.sls"
    good = top.read_text()
    top.write_text("base:\n  '*':\n    - {{ motd\n")
    try:
        proc = ops.cli("apply", "m*", "--timeout", "30")
    finally:
        top.write_text(good)
    assert proc.returncode == 1
    assert proc.stdout.count("top.sls") == 1, proc.stdout             # once, not once per minion
    assert re.search(r"m[12]: not compiled, the same error\(s\) as m[12]", proc.stdout)


def test_a_stopped_minion_is_unreachable_on_refresh_not_clean(ops, tmp_path):
    assert "minion_connected" in events_of(ops, "m2")
    ops.stop_minion("m2")
    wait_for(lambda: "minion_gone" in events_of(ops, "m2"), 20, "a minion_gone event for m2")
    junit = tmp_path / "drift.xml"
    proc = ops.cli("drift", "--refresh", "--timeout", "5", "--junit", str(junit), "--json")
    rows = json.loads(proc.stdout)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert rows["m2"]["status"] == "unreachable" and rows["m1"]["status"] == "clean"
    failures = [c for suite in JUnitXml.fromfile(str(junit)) for c in suite
                if c.classname == "m2" and any(isinstance(r, Failure) for r in c.result)]
    assert len(failures) == 1
    table = ops.cli("drift", "--refresh", "--timeout", "5")
    assert table.returncode == 2 and "unreachable" in table.stdout


def test_a_target_matching_only_pending_keys_says_so_and_records_no_job(ops):
    ops.init_minion("p1", "--grain", f"outdir={ops.outdir('p1')}")
    ops.start_minion("p1")
    ops.wait_pending("p1")
    jobs_before = len(json.loads(ops.cli("jobs", "list", "--json", "--limit", "1000").stdout))
    proc = ops.cli("run", "p*", "test.ping")
    assert proc.returncode == 2
    assert "1 key(s) pending (p1)" in proc.stderr and "lpmaster keys accept 'p*'" in proc.stderr, proc.stderr
    assert len(json.loads(ops.cli("jobs", "list", "--json", "--limit", "1000").stdout)) == jobs_before
    ops.accept_keys("p1")
    code, data, err = ops.run_json("p1", "test.ping", "--timeout", "20")   # waits for it to connect
    assert (code, data) == (0, {"p1": True}), err
    ops.stop_minion("p1")


def test_run_json_keeps_a_failure_and_out_prints_salts_shapes(ops):
    proc = ops.cli("run", "m1", "cmd.run", "echo oops; exit 3", "--json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout) == {"m1": {"ret": "oops", "retcode": 3, "success": False}}
    salt_json = ops.cli("run", "m1", "cmd.run", "echo oops; exit 3", "--out", "json")
    assert json.loads(salt_json.stdout) == {"m1": "oops"} and salt_json.returncode == 1
    assert ops.cli("run", "m1", "test.ping", "--out", "yaml").stdout == "m1: true\n"
    highstate = ops.cli("apply", "m1", "--out", "highstate")
    assert "Summary for m1" in highstate.stdout and highstate.returncode == 0


def test_a_closed_pipe_ends_a_command_quietly(ops):
    for args in (("keys", "list"), ("jobs", "list"), ("events",), ("run", "m1", "test.ping")):
        read, write = os.pipe()
        os.close(read)                                   # the reader is gone, as after `| head -1`
        try:
            proc = subprocess.run([ops.lpmaster, "-c", ops.master_cfg, *args], stdout=write,
                                  stderr=subprocess.PIPE, text=True, timeout=60)
        finally:
            os.close(write)
        assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, (args, proc.stderr)


def test_a_second_host_claiming_a_taken_id_is_told_and_only_its_key_is_deleted(ops):
    twin = ops.root / "m1-twin"
    init = subprocess.run([ops.lpminion, "init", "--dir", str(twin), "--id", "m1", "--master",
                           f"127.0.0.1:{ops.req_port}", "--key-port", str(ops.key_port), "--master-finger",
                           ops.finger, *ops.minion_args], capture_output=True, text=True, timeout=60)
    assert init.returncode == 0, init.stderr
    with open(twin / "minion.yaml", "a", encoding="utf-8") as fh:
        fh.write(ops.minion_config)
    proc = ops.start_process("m1-twin", ops._daemon(ops.lpminion, str(twin / "minion.yaml"), "start"))
    try:
        wait_for(lambda: "m1" in ops.keys()["denied"], 20, "the twin's key to be denied")
        wait_for(lambda: "already accepted on the master with another key" in
                 (ops.root / "m1-twin.log").read_text(), 20, "the twin to say why")
        kinds = [e["kind"] for e in json.loads(ops.cli("events", "--json").stdout) if e["minion_id"] == "m1"]
        assert kinds.count("key_denied") == 1
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert ops.master_log().count("already accepted with another key; denied") == 1   # not at every retry
    deleted = ops.cli("keys", "delete", "m1", "--denied", "--yes")
    assert deleted.returncode == 0 and "Key for minion m1 deleted." in deleted.stdout, deleted
    keys = ops.keys()
    assert "m1" in keys["accepted"] and "m1" not in keys["denied"]
    ops.wait_answering("m1")


LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"   # scripts/setup.sh installs it


def test_a_minion_whose_clock_is_ten_minutes_ahead_gets_its_jobs_and_the_master_warns(ops):
    assert os.path.exists(LIBFAKETIME), "libfaketime is missing: run scripts/setup.sh (it installs faketime)"
    ops.init_minion("ahead", "--grain", f"outdir={ops.outdir('ahead')}")
    log = open(ops.root / "ahead.log", "ab")
    ops.log_paths["ahead"] = ops.root / "ahead.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "LD_PRELOAD": LIBFAKETIME, "FAKETIME": "+600",
           "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    try:
        ops.minions["ahead"] = subprocess.Popen(
            ops._daemon(ops.lpminion, str(ops.minion_dir("ahead") / "minion.yaml"), "start"),
            stdout=log, stderr=log, env=env)
    finally:
        log.close()
    ops.wait_pending("ahead")
    ops.accept_keys("ahead")
    ops.wait_answering("ahead", timeout=20)                  # today: "refusing job: ... expired"
    proc = ops.cli("run", "ahead", "test.ping")
    assert proc.returncode == 0 and "ahead +600 s" in proc.stderr, proc.stderr
    status = ops.cli("status")
    assert "clock +600s off" in status.stdout and "clock off the master's" in status.stderr, status
    kinds = [e["kind"] for e in json.loads(ops.cli("events", "--json").stdout) if e["minion_id"] == "ahead"]
    assert "clock_skew" in kinds
    ops.stop_minion("ahead")


def test_status_with_the_master_stopped_says_so_and_fails(ops):
    wait_for(lambda: json.loads(ops.cli("status", "--json").stdout)["m1"]["up"], 10, "m1 up")
    ops.stop_master()
    proc = ops.cli("status")
    assert proc.returncode != 0
    assert "master is not running" in proc.stderr
    assert " up " not in proc.stdout.splitlines()[0] and "0 up" in proc.stdout
