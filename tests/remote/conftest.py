"""A real master with three real minions (web1, web2, db1) on loopback, for remote converges.

The state tree writes under each minion's own `outdir` grain; the pillar gives web* and
db* different data and one encrypted secret each (canary values the tests grep for).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.cluster import Cluster

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


class Fleet(Cluster):
    """The cluster with helpers for remote converges: each minion's outdir, the pillar, secrets."""

    def __init__(self, root: Path, lpmaster: str, lpminion: str) -> None:
        super().__init__(root, lpmaster, lpminion, minion_args=["--heartbeat", "2", "--startup-states", "none"],
                         minion_config="drift:\n  enabled: false\n")  # only the tests' own jobs run states
        self.outdirs = {mid: root / "out" / mid for mid in MINIONS}

    def apply(self, *args: str) -> subprocess.CompletedProcess:
        return self.cli("apply", *args)

    def pillar_file(self, name: str) -> Path:
        return self.master_dir / "pillar" / name


@pytest.fixture(scope="package")
def fleet(tmp_path_factory, lpmaster_bin, lpminion_bin):
    # Our own temp dir: pytest's basetemp rotation (other sessions run on this machine too)
    # must not remove it under running daemons.
    root = Path(tempfile.mkdtemp(prefix="lp-converge-"))
    f = Fleet(root, lpmaster_bin, lpminion_bin)
    try:
        assert f.cli("secret", "keygen").returncode == 0
        f.write_states(STATES)
        f.write_pillar({"top.sls": "base:\n  'web*':\n    - web\n  'db*':\n    - db\n",
                        "web.sls": f"app:\n  port: 8080\n  api_key: {f.secret('app:api_key', WEB_SECRET)}\n",
                        "db.sls": f"db:\n  password: {f.secret('db:password', DB_SECRET)}\n"})
        f.start_master()
        # The parent of every outdir exists, as /etc does on a host (minions share this machine).
        (root / "out").mkdir()
        for mid, role in MINIONS.items():
            f.init_minion(mid, "--grain", f"outdir={f.outdirs[mid]}", "--grain", f"role={role}")
            f.start_minion(mid)
        f.wait_pending(*MINIONS, timeout=60)
        f.accept_keys("*")
        f.wait_answering(*MINIONS, timeout=90, ping_timeout=3)
        yield f
    finally:
        f.close()
        if os.environ.get("LP_KEEP_TMP") != "1":
            shutil.rmtree(root, ignore_errors=True)
