"""A real master with real minions on loopback for drills and rebuilds.

web1 is the host drilled and later rebuilt, scratch1 the scratch host it is drilled onto
(marked by its `scratch=true` grain), plain1 an ordinary minion (no scratch mark). web2 is
drilled onto scratch2 by the master's own schedule, every 5 seconds, without anyone.

The state tree writes under each minion's own `outdir` grain (the minions share this
machine), so a drill writes into SCRATCH's directory with SOURCE's pillar, and SOURCE's
directory shows whether a drill touched it.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.cluster import Cluster

WEB_SECRET = "canary-drill-3c9d51"
REPO_PASSWORD = "canary-restic-8e21f4"
# web1's links live on its "disk" (its minion dir): a command job backs them up, and its
# restore_command writes them back on whichever host restores it (a drill's SCRATCH too)
DISK = '"$(dirname "$LPMINION_CONFIG")/links.txt"'

SCRATCH_VALUE = "scratch-own-pillar"
MINIONS = ("web1", "scratch1", "plain1", "web2", "scratch2")
SCRATCH = ("scratch1", "scratch2")

STATES = {
    "top.sls": "base:\n  'web*':\n    - web\n  'scratch*':\n    - scratch\n  'plain*':\n    - scratch\n",
    "web/init.sls": (
        "{{ grains['outdir'] }}/app.conf:\n"
        "  file.managed:\n"
        "    - source: salt://web/app.conf.j2\n"
        "    - template: jinja\n"
        "    - makedirs: True\n"
        "    - mode: '0600'\n"),
    "web/app.conf.j2": "role=web\nname={{ pillar['app']['name'] }}\nhost={{ grains['id'] }}\napi_key={{ pillar['app']['api_key'] }}\n",
    "scratch.sls": (
        "{{ grains['outdir'] }}/own.conf:\n"
        "  file.managed:\n"
        "    - contents: \"own={{ pillar['own'] }}\"\n"
        "    - makedirs: True\n"),
}


class DrillFleet(Cluster):
    def __init__(self, root: Path, lpmaster: str, lpminion: str) -> None:
        super().__init__(root, lpmaster, lpminion, minion_args=["--heartbeat", "1", "--startup-states", "none"],
                         minion_config="drift:\n  enabled: false\n")
        self.outdirs = {mid: root / "out" / mid for mid in MINIONS}

    def drill(self, *args: str, input: str | None = None):
        return self.cli(*args, input=input, timeout=300)

    def drills_json(self, *args: str) -> list[dict]:
        proc = self.cli("drills", *args, "--json")
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)


@pytest.fixture(scope="package")
def fleet(lpmaster_bin, lpminion_bin):
    root = Path(tempfile.mkdtemp(prefix="lp-drills-"))
    f = DrillFleet(root, lpmaster_bin, lpminion_bin)
    try:
        assert f.cli("secret", "keygen").returncode == 0
        f.write_states(STATES)
        pillar = f.master_dir / "pillar"
        (pillar / "top.sls").write_text("base:\n  'web*':\n    - web\n  'web1':\n    - backup1\n"
                                        "  'scratch*':\n    - scratch\n  'plain*':\n    - scratch\n")
        f.repository = root / "repo-web1"
        f.backup_pillar = (
            "backup:\n"
            f"  repository: {f.repository}\n"
            f"  password: {f.secret('backup:password', REPO_PASSWORD)}\n"
            "  jobs:\n"
            "    links:\n"
            "      source: command\n"
            f"      command: 'cat {DISK}'\n"
            f"      restore_command: 'cat > {DISK}'\n"
            "      filename: links.txt\n"
            "      cron: '0 3 * * *'\n")
        (pillar / "backup1.sls").write_text(f.backup_pillar)
        (pillar / "web.sls").write_text(
            "app:\n  name: {{ grains['id'] }}\n"
            f"  api_key: {f.secret('app:api_key', WEB_SECRET)}\n")
        (pillar / "scratch.sls").write_text(f"own: {SCRATCH_VALUE}\n")
        f.add_master_config('drills:\n  web2: {onto: scratch2, cron: "* * * * * */5"}\n')
        f.start_master()
        (root / "out").mkdir()
        for mid in MINIONS:
            grains = ["--grain", f"outdir={f.outdirs[mid]}"]
            if mid in SCRATCH:
                grains += ["--grain", "scratch=true"]
            f.init_minion(mid, *grains)
            f.start_minion(mid)
        f.wait_pending(*MINIONS, timeout=60)
        f.accept_keys("*")
        f.wait_answering(*MINIONS, timeout=90, ping_timeout=3)
        yield f
    finally:
        f.close()
        if os.environ.get("LP_KEEP_TMP") != "1":
            shutil.rmtree(root, ignore_errors=True)
