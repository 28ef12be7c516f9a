"""A Salt 3008 fleet on loopback for bench/fanout.py --salt: one salt-master and N salt-minions,
everything (config, keys, caches, logs) under one temporary root; keys are auto-accepted.

    fleet = SaltFleet(Path("/work/saltvenv"), n=20)
    t = fleet.start()                     # seconds until all N answered one `salt '*' test.ping`
    seconds, answered = fleet.ping()      # one whole `salt '*' test.ping` process
    fleet.close()
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.cluster import free_ports


class SaltFleet:
    def __init__(self, venv: Path, n: int) -> None:
        self.venv, self.n = venv, n
        self.root = Path(tempfile.mkdtemp(prefix="lp-saltfleet-"))
        self.pub, self.ret = free_ports(2)
        self.master_conf = self.root / "master-etc"
        self.master_conf.mkdir()
        (self.master_conf / "master").write_text(
            f"root_dir: {self.root / 'master'}\ninterface: 127.0.0.1\npublish_port: {self.pub}\n"
            f"ret_port: {self.ret}\nauto_accept: True\nuser: root\nlog_level: quiet\n"
            f"log_file: {self.root / 'master.log'}\n")
        self.ids = [f"s{i:03d}" for i in range(n)]
        self.master: subprocess.Popen[bytes] | None = None
        self.minions: list[subprocess.Popen[bytes]] = []

    def _bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def start(self, limit: float = 300.0) -> float:
        """Start the master, then the minions; seconds from the minions' start until all answer."""
        self.master = subprocess.Popen([self._bin("salt-master"), "-c", str(self.master_conf)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(3)  # the master's workers come up (Salt has no readiness signal)
        t0 = time.monotonic()
        for mid in self.ids:
            conf = self.root / "minions" / mid
            conf.mkdir(parents=True)
            (conf / "minion").write_text(
                f"id: {mid}\nmaster: 127.0.0.1\nmaster_port: {self.ret}\npublish_port: {self.pub}\n"
                f"root_dir: {conf / 'root'}\nlog_level: quiet\nlog_file: {conf / 'minion.log'}\n"
                "acceptance_wait_time: 1\n")
            self.minions.append(subprocess.Popen([self._bin("salt-minion"), "-c", str(conf)],
                                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        while time.monotonic() - t0 < limit:
            _, answered = self.ping(timeout=5)
            if answered == self.n:
                return time.monotonic() - t0
        raise SystemExit(f"not all {self.n} Salt minions answered within {limit:.0f}s")

    def ping(self, timeout: float = 10) -> tuple[float, int]:
        t0 = time.perf_counter()
        res = subprocess.run([self._bin("salt"), "-c", str(self.master_conf), "*", "test.ping",
                              "--out=json", "--static", "-t", str(int(timeout))],
                             capture_output=True, text=True, check=False)
        took = time.perf_counter() - t0
        try:
            answered = sum(1 for v in json.loads(res.stdout or "{}").values() if v is True)
        except ValueError:
            answered = 0
        return took, answered

    def pids(self) -> tuple[int, list[int]]:
        assert self.master is not None
        return self.master.pid, [p.pid for p in self.minions]

    def close(self) -> None:
        procs = self.minions + ([self.master] if self.master else [])
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)
