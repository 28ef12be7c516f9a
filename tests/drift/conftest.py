"""A real master with two real minions (web1, web2) on loopback, for the drift lifecycle.

Both minions keep the default `startup_states: highstate`, so they converge on start by
themselves. The state tree writes under each minion's own `outdir` grain: a motd for both,
for web1 an app.conf holding an encrypted pillar secret (a canary the tests grep for), and
for web2 a TLS certificate that expires in 5 days (inside the 21-day window). The pillar
also gives each minion a `schedule:` job that runs once at start.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

MINIONS = ("web1", "web2")
MOTD = "Welcome to LinkPeek"
SECRET = "canary-drift-5e1f0b9a"

STATES = {
    "top.sls": "base:\n  'web1':\n    - web\n    - app\n  'web2':\n    - web\n    - tls\n",
    "app.sls": ("{{ grains['outdir'] }}/app.conf:\n"
                "  file.managed:\n"
                "    - contents: \"api_key={{ pillar['api_key'] }}\"\n"
                "    - makedirs: True\n"),
    "web.sls": ("{{ grains['outdir'] }}/motd:\n"
                "  file.managed:\n"
                "    - contents: {{ pillar.get('motd', 'none') }}\n"
                "    - makedirs: True\n"),
    "tls.sls": ("{{ grains['outdir'] }}/tls/site.pem:\n"
                "  file.managed:\n"
                "    - source: salt://tls/site.pem\n"
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


def wait_for(predicate, timeout: float, what: str, step: float = 0.2):
    """Poll `predicate` until it returns something true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(step)


def make_cert_pem(days: int) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "web2.linkpeek.test")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=days)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class Fleet:
    root: Path
    cfg: str
    lpmaster: str
    lpminion: str
    outdirs: dict[str, Path] = field(default_factory=dict)
    minion_dirs: dict[str, Path] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def states(self) -> Path:
        return self.root / "states"

    def lp(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([self.lpmaster, "-c", self.cfg, *args], capture_output=True, text=True,
                              timeout=timeout)

    def drift_json(self, *args: str) -> tuple[int, dict]:
        proc = self.lp("drift", *args, "--json")
        assert proc.returncode in (0, 2), proc.stdout + proc.stderr
        return proc.returncode, json.loads(proc.stdout)

    def events(self) -> list[dict]:
        proc = self.lp("events", "--json", "--limit", "1000")
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    def start_minion(self, mid: str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.procs[mid] = subprocess.Popen(
            [self.lpminion, "-c", str(self.minion_dirs[mid] / "minion.yaml"), "--log-level", "info", "start"],
            stdout=subprocess.DEVNULL, stderr=open(self.logs[mid], "a"), env=env)

    def stop_minion(self, mid: str) -> None:
        proc = self.procs.pop(mid)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="package")
def fleet(tmp_path_factory, lpmaster_bin, lpminion_bin):
    root = tmp_path_factory.mktemp("drift")
    pub_port, req_port, key_port = _free_ports(3)
    mroot = root / "master"
    subprocess.run([lpmaster_bin, "init", "--dir", str(mroot), "--interface", "127.0.0.1",
                    "--publish-port", str(pub_port), "--request-port", str(req_port),
                    "--key-port", str(key_port)], check=True, capture_output=True, timeout=60)
    f = Fleet(root=mroot, cfg=str(mroot / "master.yaml"), lpmaster=lpmaster_bin, lpminion=lpminion_bin)
    for rel, text in STATES.items():
        path = f.states / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (f.states / "tls").mkdir(exist_ok=True)
    (f.states / "tls" / "site.pem").write_bytes(make_cert_pem(days=5))
    pillar = mroot / "pillar"
    pillar.mkdir(exist_ok=True)
    assert f.lp("secret", "keygen").returncode == 0
    token = subprocess.run([lpmaster_bin, "-c", f.cfg, "secret", "encrypt", "--key", "api_key", "-"],
                           input=SECRET, capture_output=True, text=True, timeout=60).stdout.strip()
    assert token.startswith("ENC[")
    (pillar / "top.sls").write_text("base:\n  '*':\n    - common\n  'web1':\n    - app\n")
    (pillar / "common.sls").write_text(
        f"motd: {MOTD}\n"
        "schedule:\n"
        "  hello:\n"
        "    function: cmd.run\n"
        f"    job_args: [\"mkdir -p {root}/out/{{{{ grains['id'] }}}} && echo hi >> "
        f"{root}/out/{{{{ grains['id'] }}}}/pillar-job\"]\n"
        "    hours: 1\n"
        "    run_on_start: true\n")
    (pillar / "app.sls").write_text(f"api_key: {token}\n")

    finger = f.lp("keys", "finger", "--master").stdout.strip()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    f.logs["master"] = root / "master.log"
    f.procs["master"] = subprocess.Popen([lpmaster_bin, "-c", f.cfg, "--log-level", "info", "serve"],
                                         stdout=subprocess.DEVNULL, stderr=open(f.logs["master"], "w"),
                                         env=env)
    try:
        for mid in MINIONS:
            f.minion_dirs[mid] = root / mid
            f.outdirs[mid] = root / "out" / mid
            f.logs[mid] = root / f"{mid}.log"
            subprocess.run([lpminion_bin, "init", "--dir", str(f.minion_dirs[mid]), "--id", mid,
                            "--master", f"127.0.0.1:{req_port}", "--key-port", str(key_port),
                            "--master-finger", finger, "--grain", f"outdir={f.outdirs[mid]}",
                            "--heartbeat", "2"], check=True, capture_output=True, timeout=60)
            f.start_minion(mid)

        def pending() -> bool:
            out = f.lp("keys", "list", "--json")
            return out.returncode == 0 and set(json.loads(out.stdout).get("pending", [])) >= set(MINIONS)

        wait_for(pending, 60, "two pending keys")
        assert f.lp("keys", "accept", "*", "--yes").returncode == 0
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
