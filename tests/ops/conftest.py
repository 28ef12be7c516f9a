"""A real master with real minions on loopback, for what an operator meets in the first hour
(issue 15) and for faults (issue 17): fast heartbeats, no boot converge, no scheduled drift."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cluster import Cluster, wait_for

__all__ = ["OpsCluster", "wait_for"]

STATES = {
    "top.sls": "base:\n  'm1':\n    - motd\n",
    "motd.sls": ("{{ grains['outdir'] }}/motd:\n"
                 "  file.managed:\n"
                 "    - contents: hello from {{ grains['id'] }}\n"
                 "    - makedirs: True\n"),
}


class OpsCluster(Cluster):
    """The shared cluster with fast timings; each minion writes under ROOT/out/<id>."""

    def __init__(self, root: Path, lpmaster: str, lpminion: str,
                 drift: str = "drift:\n  enabled: false\n") -> None:
        super().__init__(root, lpmaster, lpminion,
                         minion_args=["--heartbeat", "0.5", "--startup-states", "none"],
                         minion_config="register_backoff_max: 0.5\nrequest_timeout: 2\n" + drift)
        self.add_master_config("minion_down_after: 3\n")
        self.write_states(STATES)

    def outdir(self, mid: str) -> Path:
        return self.root / "out" / mid

    def add(self, *mids: str) -> None:
        self.add_minions(*mids, args=lambda mid: ("--grain", f"outdir={self.outdir(mid)}"))

    def drift_json(self, *args: str) -> tuple[int, dict[str, Any], str]:
        proc = self.cli("drift", *args, "--json")
        return proc.returncode, json.loads(proc.stdout) if proc.stdout.strip() else {}, proc.stderr


@pytest.fixture(scope="module")
def ops(tmp_path_factory: pytest.TempPathFactory, lpmaster_bin: str, lpminion_bin: str):
    c = OpsCluster(tmp_path_factory.mktemp("ops"), lpmaster_bin, lpminion_bin)
    try:
        c.start_master()
        yield c
    finally:
        c.close()
