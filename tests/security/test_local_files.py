"""A local unprivileged user against the files the CLI writes: `lpmaster keys gen --out`."""
from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.cluster import Cluster

NOBODY = 65534


@pytest.fixture(scope="module")
def offline(tmp_path_factory, lpmaster_bin, lpminion_bin):
    """A master's directory (not running: `keys gen` works offline)."""
    with Cluster(tmp_path_factory.mktemp("local") / "c", lpmaster_bin, lpminion_bin) as c:
        yield c


def _accepted(c: Cluster) -> list[str]:
    return json.loads(c.cli("keys", "list", "--json").stdout)["accepted"]


@pytest.mark.parametrize("how", ["their directory", "a link to their directory"])
def test_keys_gen_refuses_an_out_directory_another_user_controls(offline: Cluster, tmp_path: Path, how: str):
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o777)
    os.chmod(theirs, 0o777)
    os.chown(theirs, NOBODY, NOBODY)
    out = theirs
    if how != "their directory":
        out = tmp_path / "handout"
        out.symlink_to(theirs)
    res = offline.cli("keys", "gen", "web7", "--out", str(out))
    assert res.returncode == 64, (res.returncode, res.stdout, res.stderr)
    assert "another user" in res.stderr
    assert list(theirs.iterdir()) == []
    assert "web7" not in _accepted(offline)


def test_keys_gen_into_a_new_directory_is_private(offline: Cluster, tmp_path: Path):
    res = offline.cli("keys", "gen", "web8", "--out", str(tmp_path / "new"), "--json")
    assert res.returncode == 0, res.stderr
    made = json.loads(res.stdout)
    key = Path(made["key"])
    assert (key.stat().st_uid, key.stat().st_mode & 0o777) == (os.geteuid(), 0o600)
    assert sorted(p.name for p in key.parent.iterdir()) == ["web8.key", "web8.pub"]   # no temporary left
    assert "web8" in _accepted(offline)


@pytest.mark.parametrize("how", ["their directory", "a link"])
def test_minion_init_refuses_a_root_another_user_controls(offline: Cluster, tmp_path: Path, how: str):
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    os.chmod(theirs, 0o777)
    os.chown(theirs, NOBODY, NOBODY)
    root = theirs if how == "their directory" else tmp_path / "lp"
    if how == "a link":
        root.symlink_to(theirs)
    res = subprocess.run([offline.lpminion, "init", "--dir", str(root), "--id", "web9", "--master", "127.0.0.1",
                          "--master-finger", offline.finger], capture_output=True, text=True)
    assert res.returncode == 64, (res.returncode, res.stdout, res.stderr)
    assert "another user" in res.stderr
    assert list(theirs.iterdir()) == [] and stat.S_IMODE(theirs.stat().st_mode) == 0o777
