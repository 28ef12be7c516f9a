"""Fixtures for the foundation tests: real lpmaster/lpminion processes on loopback.

`Cluster` makes a master dir with free random ports, starts `lpmaster serve`, and adds
minions (`lpminion init` + `lpminion start`) with short heartbeats and backoff. Every
wait polls with a generous deadline; nothing sleeps a fixed time to pass.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

import pytest

STARTUP_TIMEOUT = 30.0


def free_ports(n: int) -> list[int]:
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def wait_for(predicate: Callable[[], Any], timeout: float = STARTUP_TIMEOUT, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Cluster:
    """A master and its minions as real processes under one temp dir."""

    def __init__(self, tmp: Path, lpmaster: str, lpminion: str) -> None:
        self.tmp, self.lpmaster, self.lpminion = tmp, lpmaster, lpminion
        self.pub_port, self.req_port, self.key_port = free_ports(3)
        self.master_dir = tmp / "master"
        self.master_cfg = str(self.master_dir / "master.yaml")
        self.master_proc: subprocess.Popen[bytes] | None = None
        self.minions: dict[str, subprocess.Popen[bytes]] = {}
        out = self.cli("init", "--dir", str(self.master_dir), "--interface", "127.0.0.1",
                       "--publish-port", str(self.pub_port), "--request-port", str(self.req_port),
                       "--key-port", str(self.key_port), config=False)
        assert out.returncode == 0, out.stderr
        with open(self.master_cfg, "a") as fh:
            fh.write("minion_down_after: 3\n")
        self.finger = self.cli("keys", "finger", "--master").stdout.strip()

    # -- commands ------------------------------------------------------------------------

    def cli(self, *args: str, config: bool = True, input: str | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
        argv = [self.lpmaster] + (["-c", self.master_cfg] if config else []) + list(args)
        return subprocess.run(argv, capture_output=True, text=True, input=input, timeout=timeout)

    def run_json(self, *args: str) -> tuple[int, dict[str, Any], str]:
        res = self.cli("run", *args, "--json")
        data = json.loads(res.stdout) if res.stdout.strip() else {}
        return res.returncode, data, res.stderr

    def keys(self) -> dict[str, list[str]]:
        return json.loads(self.cli("keys", "list", "--json").stdout)

    # -- processes -----------------------------------------------------------------------

    def start_master(self) -> None:
        log = open(self.tmp / "master.log", "ab")
        self.master_proc = subprocess.Popen([self.lpmaster, "-c", self.master_cfg, "--log-level", "info",
                                             "serve"], stdout=log, stderr=log)
        sock = str(self.master_dir / "run" / "master.sock")
        wait_for(lambda: os.path.exists(sock) and self._control_ok(sock), what="master control socket")

    @staticmethod
    def _control_ok(path: str) -> bool:
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path)
            s.sendall(b'{"op": "ping"}\n')
            return b"done" in s.recv(100)
        except OSError:
            return False
        finally:
            s.close()

    def stop_master(self, sig: int = signal.SIGTERM) -> int:
        assert self.master_proc is not None
        self.master_proc.send_signal(sig)
        code = self.master_proc.wait(timeout=30)
        self.master_proc = None
        return code

    def minion_dir(self, mid: str) -> Path:
        return self.tmp / f"minion-{mid}"

    def init_minion(self, mid: str, *extra: str, finger: str | None = None) -> str:
        d = self.minion_dir(mid)
        trust = ["--master-finger", finger or self.finger] if "--trust-first-use" not in extra else []
        res = subprocess.run([self.lpminion, "init", "--dir", str(d), "--id", mid,
                              "--master", f"127.0.0.1:{self.req_port}", "--key-port", str(self.key_port),
                              "--heartbeat", "0.5", *trust, *extra], capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
        with open(d / "minion.yaml", "a") as fh:
            fh.write("register_backoff_max: 0.5\nrequest_timeout: 2\n")
        return str(d / "minion.yaml")

    def start_minion(self, mid: str) -> subprocess.Popen[bytes]:
        log = open(self.tmp / f"minion-{mid}.log", "ab")
        proc = subprocess.Popen([self.lpminion, "-c", str(self.minion_dir(mid) / "minion.yaml"),
                                 "--log-level", "info", "start"], stdout=log, stderr=log)
        self.minions[mid] = proc
        return proc

    def add_minions(self, *mids: str, accept: bool = True) -> None:
        for mid in mids:
            self.init_minion(mid)
            self.start_minion(mid)
        wait_for(lambda: set(mids) <= set(self.keys()["pending"]), what="minions pending")
        if accept:
            for mid in mids:
                assert self.cli("keys", "accept", mid, "--yes").returncode == 0
            self.wait_answering(*mids)

    def wait_answering(self, *mids: str, timeout: float = STARTUP_TIMEOUT) -> None:
        def all_answer() -> bool:
            code, data, _ = self.run_json(",".join(mids), "test.ping", "-t", "list", "--timeout", "1")
            return code == 0 and set(data) == set(mids)
        wait_for(all_answer, timeout, what=f"minions {mids} answering")

    def minion_log(self, mid: str) -> str:
        return (self.tmp / f"minion-{mid}.log").read_text(errors="replace")

    def master_log(self) -> str:
        return (self.tmp / "master.log").read_text(errors="replace")

    def close(self) -> None:
        procs = list(self.minions.values()) + ([self.master_proc] if self.master_proc else [])
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def cluster(tmp_path: Path, lpmaster_bin: str, lpminion_bin: str):
    c = Cluster(tmp_path, lpmaster_bin, lpminion_bin)
    c.start_master()
    try:
        yield c
    finally:
        c.close()


@pytest.fixture(scope="module")
def trio(tmp_path_factory: pytest.TempPathFactory, lpmaster_bin: str, lpminion_bin: str):
    """One master with three accepted, answering minions (m1, m2, m3), shared by a module."""
    c = Cluster(tmp_path_factory.mktemp("trio"), lpmaster_bin, lpminion_bin)
    c.start_master()
    try:
        c.add_minions("m1", "m2", "m3")
        yield c
    finally:
        c.close()
