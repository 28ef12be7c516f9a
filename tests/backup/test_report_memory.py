"""Issue 17.2 for backup reports, with real processes: two backups finish while the master is
away and the minion's spool cannot be written; their reports wait in the daemon's one spool (in
memory) and both reach the catalogue once the disk and the master are back."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from tests.backup.conftest import PASSWORD
from tests.cluster import Cluster, wait_for

MID = "web1"
GATE = """#!/bin/sh
touch "{d}/waiting-$1"
i=0
while [ ! -e "{d}/released" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
echo "dump of $1"
"""


@pytest.fixture
def site(tmp_path: Path, lpmaster_bin: str, lpminion_bin: str) -> Iterator[Cluster]:
    c = Cluster(tmp_path, lpmaster_bin, lpminion_bin, minion_args=["--heartbeat", "0.5", "--startup-states", "none"],
                minion_config="register_backoff_max: 0.5\nrequest_timeout: 2\ndrift:\n  enabled: false\n")
    try:
        yield c
    finally:
        c.close()


def _good_jobs(site: Cluster) -> set[str]:
    proc = site.cli("backups", "--json")
    rows = json.loads(proc.stdout) if proc.stdout.strip() else []
    return {r["job"] for r in rows if r["minion"] == MID and r["status"] == "ok"}


def test_reports_kept_in_memory_while_the_spool_is_unwritable_are_delivered(site: Cluster, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    gate.mkdir()
    (gate / "gate.sh").write_text(GATE.format(d=gate))
    pillar = site.master_dir / "pillar"
    pillar.mkdir(exist_ok=True)
    (pillar / "top.sls").write_text(f"base:\n  '{MID}':\n    - backup\n")
    jobs = "".join(f"    {j}: {{source: command, command: 'sh {gate}/gate.sh {j}', filename: {j}.txt, "
                   f"cron: '0 3 * * *'}}\n" for j in ("one", "two"))
    (pillar / "backup.sls").write_text(f"backup:\n  repository: {tmp_path}/repo\n  password: {PASSWORD}\n"
                                       f"  jobs:\n{jobs}")
    subprocess.run(["restic", "init", "--repo", str(tmp_path / "repo")], env={**os.environ, "RESTIC_PASSWORD": PASSWORD},
                   check=True, capture_output=True, timeout=60)     # two first runs at once would race to init
    site.start_master()
    site.add_minions(MID)
    for job in ("one", "two"):
        site.start_process(f"run-{job}", [site.lpmaster, "-c", site.master_cfg, "run", MID, "backup.run", job,
                                          "--timeout", "60"])
    wait_for(lambda: all((gate / f"waiting-{j}").exists() for j in ("one", "two")), 60, "both backups running")

    site.stop_master(signal.SIGKILL)
    returns = site.minion_dir(MID) / "spool" / "returns"
    shutil.rmtree(returns)
    returns.write_text("")                  # the spool directory cannot be written any more
    (gate / "released").touch()
    wait_for(lambda: site.minion_log(MID).count("-backup.mp kept in memory") == 2, 60,
             "both reports kept in memory")

    returns.unlink()
    os.mkdir(returns, 0o700)
    site.start_master()
    wait_for(lambda: _good_jobs(site) == {"one", "two"}, 60, "both reports in the catalogue")
