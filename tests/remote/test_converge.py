"""`lpmaster apply` against three real minions: targeting, test mode, idempotence, secrets."""
from __future__ import annotations

import json

from tests.remote.conftest import DB_SECRET, WEB_SECRET


def test_test_mode_shows_the_diff_and_changes_nothing(fleet):
    proc = fleet.apply("web*", "--test")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "would be created" in proc.stdout or "would" in proc.stdout
    assert "web1:" in proc.stdout and "web2:" in proc.stdout and "db1:" not in proc.stdout
    assert not fleet.outdirs["web1"].exists() and not fleet.outdirs["web2"].exists()
    detailed = fleet.apply("web*", "--test", "--detailed-exitcodes")
    assert detailed.returncode == 2  # changes pending, nothing broken


def test_apply_web_converges_only_web_then_nothing_changes(fleet):
    proc = fleet.apply("web*", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    assert sorted(result) == ["web1", "web2"]
    conf = (fleet.outdirs["web1"] / "app.conf").read_text()
    assert f"api_key={WEB_SECRET}" in conf and "listen=8080" in conf
    assert (fleet.outdirs["web2"] / "motd").read_text() == "web node web2\n"
    assert not fleet.outdirs["db1"].exists()

    again = fleet.apply("web*", "--detailed-exitcodes")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Fleet summary" in again.stdout
    assert WEB_SECRET not in again.stdout + again.stderr
