"""A real master with one real minion (m1) on loopback, for execution functions and
`lpminion apply` against the master: a small state tree writing under OUT, and a pillar with
one encrypted secret (the canary the tests look for)."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.cluster import Cluster
from tests.hosts.conftest import bridge, deb_cache  # noqa: F401  (fixtures for the whole-host tests)

SECRET = "canary-exec-4d19b2"
STATES = {
    "top.sls": "base:\n  'm1':\n    - web\n",
    "web/init.sls": (
        "{{ grains['outdir'] }}/motd:\n"
        "  file.managed:\n"
        "    - contents: \"hello {{ grains['id'] }} {{ pillar['db']['password'] }}\"\n"
        "    - makedirs: True\n"
        "say-hi:\n"
        "  test.succeed_without_changes:\n"
        "    - require:\n"
        "      - file: {{ grains['outdir'] }}/motd\n"),
    "broken.sls": "oops:\n  file.managed:\n    - name: [\n",
    "fails.sls": "nope:\n  test.fail_without_changes: []\n",
}


class Fleet(Cluster):
    def __init__(self, root: Path, lpmaster: str, lpminion: str) -> None:
        super().__init__(root, lpmaster, lpminion, minion_args=["--heartbeat", "1", "--startup-states", "none"],
                         minion_config="drift:\n  enabled: false\nrequest_timeout: 5\n")
        self.out = root / "out"

    def run_api(self, tgt: str, fun: str, *arg: Any, **kwarg: Any) -> dict[str, Any]:
        """One job through the master's library (no `lpmaster` argv holding the arguments):
        {minion: {"ret", "success", "retcode"}}."""
        from master import api

        cfg = api.load_config(self.master_cfg)
        returns = {}
        for event in api.run_job(cfg, tgt, fun, list(arg), dict(kwarg), "glob", 30):
            if event["event"] == "return":
                returns[event["minion"]] = {k: event.get(k) for k in ("ret", "success", "retcode")}
        return returns


@pytest.fixture(scope="package")
def fleet(lpmaster_bin: str, lpminion_bin: str):
    root = Path(tempfile.mkdtemp(prefix="lp-execfns-"))
    f = Fleet(root, lpmaster_bin, lpminion_bin)
    try:
        assert f.cli("secret", "keygen").returncode == 0
        f.write_states(STATES)
        token = f.secret("db:password", SECRET)
        f.write_pillar({"top.sls": "base:\n  'm1':\n    - data\n",
                        "data.sls": f"app:\n  port: 8080\n  name: linkpeek\ndb:\n  password: {token}\n"})
        f.start_master()
        f.add_minions("m1", args=lambda mid: ["--grain", f"outdir={f.out}"])
        yield f
    finally:
        f.close()
        shutil.rmtree(root, ignore_errors=True)
