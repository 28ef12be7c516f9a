"""`lpminion apply` (without --local) against a master that stops answering: the request closure
raises TransportError ("did not answer"), never a raw TimeoutError from the worker thread's
wait (minion/master_call.py, minion/link.call_from_thread), so the apply ends as "not compiled:
the master did not answer" and the CLI exits 2 with what to do."""
from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from core.config import load_minion
from core.errors import TransportError
from tests.cluster import Cluster, wait_for


@pytest.fixture()
def lone(tmp_path: Path, lpmaster_bin: str, lpminion_bin: str):
    c = Cluster(tmp_path, lpmaster_bin, lpminion_bin, minion_args=["--startup-states", "none"])
    try:
        c.write_states({"top.sls": "base:\n  '*':\n    - noop\n", "noop.sls": "nothing:\n  test.nop: []\n"})
        c.start_master()
        cfg = c.init_minion("m1", config="request_timeout: 10\n")
        first = subprocess.run([lpminion_bin, "-c", cfg, "apply"], capture_output=True, text=True, timeout=60)
        assert "pending on the master" in first.stderr, first.stderr
        c.accept_keys("m1")
        yield c, cfg
    finally:
        if c.master_proc is not None and c.master_proc.poll() is None:
            os.kill(c.master_proc.pid, signal.SIGCONT)
        c.close()


def test_a_master_that_stops_answering_mid_apply_is_a_transport_error(lone, monkeypatch):
    import minion.link
    import minion.master_call as master_call

    cluster, cfg_path = lone
    assert cluster.master_proc is not None
    pid = cluster.master_proc.pid
    checked = master_call._check_accepted

    async def accepted_then_master_stops(cfg, link):
        await checked(cfg, link)
        os.kill(pid, signal.SIGSTOP)      # the master is there, and answers nothing more

    monkeypatch.setattr(master_call, "_check_accepted", accepted_then_master_stops)
    # the worker thread gives up before the link's own 10 s timeout: the path a slow link takes
    monkeypatch.setattr(minion.link, "longest_wait", lambda timeout: 0.5)
    monkeypatch.setattr(master_call, "longest_wait", lambda timeout: 0.5, raising=False)   # the old code's copy
    outcome = master_call.apply_from_master(load_minion(cfg_path))   # old code: a raw TimeoutError
    assert not outcome.success and "did not answer" in str(outcome.ret), outcome.ret
    os.kill(pid, signal.SIGCONT)
    monkeypatch.undo()
    outcomes: list = []

    def answers() -> bool:
        try:
            outcomes.append(master_call.apply_from_master(load_minion(cfg_path)))
        except TransportError:
            return False
        return True

    wait_for(answers, timeout=60, what="the master answering again")
    assert outcomes[-1].success, outcomes[-1].ret


def test_lpminion_apply_against_a_stopped_master_says_so_with_exit_2(lone):
    cluster, cfg_path = lone
    assert cluster.master_proc is not None
    text = Path(cfg_path).read_text()
    Path(cfg_path).write_text(text.replace("request_timeout: 10", "request_timeout: 1"))
    os.kill(cluster.master_proc.pid, signal.SIGSTOP)
    try:
        res = subprocess.run([cluster.lpminion, "-c", cfg_path, "apply"], capture_output=True, text=True,
                             timeout=60)
    finally:
        os.kill(cluster.master_proc.pid, signal.SIGCONT)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "did not answer" in res.stderr and "Traceback" not in res.stderr
