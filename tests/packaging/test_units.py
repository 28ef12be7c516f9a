"""The systemd units pass `systemd-analyze verify`, and say what each one protects.

Here the ExecStart paths point at this checkout's console scripts; test_deb.py verifies the
units again as installed by the package, with their real paths."""
from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cluster import VENV_BIN

UNITS = Path(__file__).resolve().parents[2] / "packaging" / "systemd"


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS / name)
    return parser


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")
def test_both_units_verify(tmp_path: Path):
    for name in ("lpmaster.service", "lpminion.service"):
        text = (UNITS / name).read_text().replace("/usr/bin/", f"{VENV_BIN}/")
        (tmp_path / name).write_text(text)
    res = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "lpmaster.service"),
                          str(tmp_path / "lpminion.service")], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stderr.strip() == ""


def test_nothing_starts_before_it_is_configured_and_both_restart_on_failure():
    for name, what in (("lpmaster.service", "master"), ("lpminion.service", "minion")):
        unit = _unit(name)
        assert unit["Unit"]["ConditionPathExists"] == f"/etc/linkpeek-ops/{what}.yaml"
        assert f"-c /etc/linkpeek-ops/{what}.yaml" in unit["Service"]["ExecStart"]
        assert unit["Service"]["Restart"] == "on-failure"
        assert unit["Unit"]["After"] == "network-online.target"


def test_the_master_is_sandboxed_and_can_write_only_its_root():
    service = _unit("lpmaster.service")["Service"]
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == "/var/lib/linkpeek-ops/master"
    assert service["NoNewPrivileges"] == "yes"
    assert service["CapabilityBoundingSet"] == "CAP_CHOWN"
