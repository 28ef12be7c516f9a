"""Which config a command uses without -c: -c, then $LPMASTER_CONFIG/$LPMINION_CONFIG, then
/etc/linkpeek-ops/NAME.yaml (the default path itself is exercised in the installed package's
test host, tests/packaging/test_deb.py, so this machine's /etc is never written)."""
from __future__ import annotations

import argparse
import os
import subprocess
from pathlib import Path

import pytest

from core import cli
from tests.cluster import Cluster


@pytest.fixture
def etc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(cli, "DEFAULT_CONFIG_DIR", str(tmp_path / "etc"))
    monkeypatch.delenv("LPMASTER_CONFIG", raising=False)
    (tmp_path / "etc").mkdir()
    return tmp_path / "etc"


def _found(config: str | None, what: str = "master") -> tuple[str, str] | None:
    return cli.find_config(argparse.Namespace(config=config), what)


def test_explicit_beats_env_beats_default(etc: Path, monkeypatch: pytest.MonkeyPatch):
    (etc / "master.yaml").write_text("{}\n")
    assert _found(None) == (str(etc / "master.yaml"), "default")
    monkeypatch.setenv("LPMASTER_CONFIG", "/from/env.yaml")
    assert _found(None) == ("/from/env.yaml", "LPMASTER_CONFIG")
    assert _found("/given.yaml") == ("/given.yaml", "-c")
    assert _found(None, "minion") is None  # LPMINION_CONFIG is the minion's own


def test_no_config_anywhere_says_all_three_ways(etc: Path):
    with pytest.raises(cli.ConfigError) as err:
        cli.require_config(argparse.Namespace(config=None), "minion")
    text = str(err.value)
    assert "-c CONFIG" in text and "LPMINION_CONFIG" in text and str(etc / "minion.yaml") in text


def test_the_env_var_reaches_a_real_command(tmp_path: Path):
    with Cluster(tmp_path / "c") as c:
        env = {**os.environ, "LPMASTER_CONFIG": c.master_cfg}
        res = subprocess.run([c.lpmaster, "keys", "finger", "--master"], capture_output=True,
                             text=True, env=env, timeout=60)
        assert res.returncode == 0 and res.stdout.strip() == c.finger
        env["LPMASTER_CONFIG"] = str(tmp_path / "nope.yaml")
        res = subprocess.run([c.lpmaster, "-c", c.master_cfg, "keys", "finger", "--master"],
                             capture_output=True, text=True, env=env, timeout=60)
        assert res.returncode == 0 and res.stdout.strip() == c.finger
