"""`lpmaster drift` and `lpmaster events` as whole processes, without a running master."""
from __future__ import annotations

import json
import subprocess


def run(lpmaster_bin, cfg, *args):
    return subprocess.run([lpmaster_bin, "-c", cfg, *args], capture_output=True, text=True, timeout=60)


def test_exit_codes_without_a_master(tmp_path, lpmaster_bin):
    subprocess.run([lpmaster_bin, "init", "--dir", str(tmp_path / "m")], check=True, capture_output=True,
                   timeout=60)
    cfg = str(tmp_path / "m" / "master.yaml")
    nobody = run(lpmaster_bin, cfg, "drift")
    assert nobody.returncode == 2 and "no minion matched" in nobody.stdout     # nothing was verified
    refresh = run(lpmaster_bin, cfg, "drift", "--refresh")
    assert refresh.returncode == 1 and "not running" in refresh.stderr          # an error, not drift
    bad_age = run(lpmaster_bin, cfg, "drift", "--max-age", "soon")
    assert bad_age.returncode == 1 and "bad duration" in bad_age.stderr
    missing = run(lpmaster_bin, str(tmp_path / "nope.yaml"), "drift")
    assert missing.returncode == 1
    events = run(lpmaster_bin, cfg, "events", "--json")
    assert events.returncode == 0 and json.loads(events.stdout) == []
