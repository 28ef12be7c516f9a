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
from pathlib import Path

import pytest

from tests.cluster import Cluster, wait_for as _wait_for

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


def wait_for(predicate, timeout: float, what: str, step: float = 0.2):
    """Poll `predicate` until it returns something true; fail after `timeout` seconds."""
    return _wait_for(predicate, timeout, what, step)


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


class Fleet(Cluster):
    """The cluster with helpers for the drift lifecycle: outdirs, the state tree, drift and events."""

    def __init__(self, root: Path, lpmaster: str, lpminion: str) -> None:
        super().__init__(root, lpmaster, lpminion, minion_args=["--heartbeat", "2"])
        self.outdirs = {mid: root / "out" / mid for mid in MINIONS}

    @property
    def states(self) -> Path:
        return self.master_dir / "states"

    def drift_json(self, *args: str) -> tuple[int, dict]:
        proc = self.cli("drift", *args, "--json")
        assert proc.returncode in (0, 2), proc.stdout + proc.stderr
        return proc.returncode, json.loads(proc.stdout)


@pytest.fixture(scope="package")
def fleet(tmp_path_factory, lpmaster_bin, lpminion_bin):
    root = tmp_path_factory.mktemp("drift")
    f = Fleet(root, lpmaster_bin, lpminion_bin)
    try:
        for rel, text in STATES.items():
            path = f.states / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        (f.states / "tls").mkdir(exist_ok=True)
        (f.states / "tls" / "site.pem").write_bytes(make_cert_pem(days=5))
        pillar = f.master_dir / "pillar"
        pillar.mkdir(exist_ok=True)
        assert f.cli("secret", "keygen").returncode == 0
        token = f.cli("secret", "encrypt", "--key", "api_key", "-", input=SECRET, timeout=60).stdout.strip()
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
        f.start_master()
        for mid in MINIONS:
            f.init_minion(mid, "--grain", f"outdir={f.outdirs[mid]}")
            f.start_minion(mid)
        f.wait_pending(*MINIONS, timeout=60)
        f.accept_keys("*")
        yield f
    finally:
        f.close()
