"""A real master with three real minions (web1, web2, db1) on loopback, for remote converges.

The state tree writes under each minion's own `outdir` grain; the pillar gives web* and
db* different data and one encrypted secret each (canary values the tests grep for).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

WEB_SECRET = "canary-web-7f3a91"
DB_SECRET = "canary-db-c04e27"
MINIONS = {"web1": "web", "web2": "web", "db1": "db"}

STATES = {
    "top.sls": "base:\n  'web*':\n    - web\n  'db*':\n    - db\n",
    "web/init.sls": (
        "{{ grains['outdir'] }}/app.conf:\n"
        "  file.managed:\n"
        "    - source: salt://web/app.conf.j2\n"
        "    - template: jinja\n"
        "    - makedirs: True\n"
        "{{ grains['outdir'] }}/motd:\n"
        "  file.managed:\n"
        "    - contents: web node {{ grains['id'] }}\n"
        "    - makedirs: True\n"),
    "web/app.conf.j2": ("# app config for {{ grains['id'] }}\n"
                        "listen={{ pillar['app']['port'] }}\n"
                        "api_key={{ pillar['app']['api_key'] }}\n"),
    "db/init.sls": (
        "{{ grains['outdir'] }}/db.conf:\n"
        "  file.managed:\n"
        "    - contents: \"password={{ pillar['db']['password'] }}\"\n"
        "    - makedirs: True\n"),
}


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@dataclass
class Fleet:
    root: Path
    cfg: str
    lpmaster: str
    lpminion: str
    outdirs: dict[str, Path]
    logs: list[Path] = field(default_factory=list)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    request_port: int = 0

    def lp(self, *args: str, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([self.lpmaster, "-c", self.cfg, *args], input=stdin,
                              capture_output=True, text=True, timeout=timeout)

    def apply(self, *args: str) -> subprocess.CompletedProcess:
        return self.lp("apply", *args)

    def pillar_file(self, name: str) -> Path:
        return self.root / "pillar" / name

    def secret(self, key: str, value: str) -> str:
        proc = self.lp("secret", "encrypt", "--key", key, stdin=value)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()


def _wait(predicate, timeout: float, what: str, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(step)


@pytest.fixture(scope="package")
def fleet(tmp_path_factory, lpmaster_bin, lpminion_bin):
    # Our own temp dir: pytest's basetemp rotation (other sessions run on this machine too)
    # must not remove it under running daemons.
    root = Path(tempfile.mkdtemp(prefix="lp-converge-"))
    pub_port, req_port, key_port = _free_ports(3)
    subprocess.run([lpmaster_bin, "init", "--dir", str(root / "master"), "--interface", "127.0.0.1",
                    "--publish-port", str(pub_port), "--request-port", str(req_port),
                    "--key-port", str(key_port)], check=True, capture_output=True, timeout=60)
    mroot = root / "master"
    f = Fleet(root=mroot, cfg=str(mroot / "master.yaml"), lpmaster=lpmaster_bin,
              lpminion=lpminion_bin, outdirs={}, request_port=req_port)
    assert f.lp("secret", "keygen").returncode == 0
    for rel, text in STATES.items():
        path = mroot / "states" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    pillar = mroot / "pillar"
    pillar.mkdir(exist_ok=True)
    (pillar / "top.sls").write_text("base:\n  'web*':\n    - web\n  'db*':\n    - db\n")
    (pillar / "web.sls").write_text(
        f"app:\n  port: 8080\n  api_key: {f.secret('app:api_key', WEB_SECRET)}\n")
    (pillar / "db.sls").write_text(f"db:\n  password: {f.secret('db:password', DB_SECRET)}\n")

    finger = f.lp("keys", "finger", "--master").stdout.strip()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    master_log = root / "master.log"
    f.logs.append(master_log)
    f.procs["master"] = subprocess.Popen([lpmaster_bin, "-c", f.cfg, "--log-level", "info", "serve"],
                                         stdout=subprocess.DEVNULL, stderr=open(master_log, "w"),
                                         env=env)
    # The parent of every outdir exists, as /etc does on a host (minions share this machine).
    (root / "out").mkdir()
    try:
        for mid, role in MINIONS.items():
            mdir = root / mid
            outdir = root / "out" / mid
            f.outdirs[mid] = outdir
            subprocess.run([lpminion_bin, "init", "--dir", str(mdir), "--id", mid,
                            "--master", f"127.0.0.1:{req_port}", "--key-port", str(key_port),
                            "--master-finger", finger, "--grain", f"outdir={outdir}",
                            "--grain", f"role={role}", "--heartbeat", "2",
                            "--startup-states", "none"],
                           check=True, capture_output=True, timeout=60)
            with open(mdir / "minion.yaml", "a", encoding="utf-8") as fh:
                fh.write("drift:\n  enabled: false\n")  # only the tests' own jobs run states
            log = root / f"{mid}.log"
            f.logs.append(log)
            f.procs[mid] = subprocess.Popen([lpminion_bin, "-c", str(mdir / "minion.yaml"),
                                             "--log-level", "info", "start"],
                                            stdout=subprocess.DEVNULL, stderr=open(log, "w"), env=env)

        def pending() -> bool:
            out = f.lp("keys", "list", "--json")
            return out.returncode == 0 and set(json.loads(out.stdout).get("pending", [])) >= set(MINIONS)

        _wait(pending, 60, "three pending keys")
        assert f.lp("keys", "accept", "*", "--yes").returncode == 0

        def all_ping() -> bool:
            out = f.lp("run", "*", "test.ping", "--json", "--timeout", "3")
            return out.returncode == 0 and json.loads(out.stdout) == {m: True for m in MINIONS}

        _wait(all_ping, 90, "three minions answering a ping", step=0.3)
        yield f
    finally:
        for proc in f.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in f.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if os.environ.get("LP_KEEP_TMP") != "1":
            shutil.rmtree(root, ignore_errors=True)
