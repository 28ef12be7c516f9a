"""`lpmaster keys gen`: a host joins already trusted, and the master keeps no secret half."""
from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.cluster import Cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    """One master for the module; each test uses its own minion ids."""
    with Cluster(tmp_path_factory.mktemp("keys") / "c") as c:
        c.start_master()
        yield c


def _gen(cluster: Cluster, mid: str, out: Path, *extra: str) -> dict:
    res = cluster.cli("keys", "gen", mid, "--out", str(out), "--json", *extra)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_a_pregenerated_key_joins_without_accepting(cluster: Cluster, tmp_path: Path):
    out = tmp_path / "handout"
    made = _gen(cluster, "web1", out)
    assert "web1" in cluster.keys()["accepted"]
    key = Path(made["key"])
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    secret = key.read_text().strip()
    master_files = [p for p in cluster.master_dir.rglob("*") if p.is_file()]
    assert not any(secret.encode() in p.read_bytes() for p in master_files)

    cluster.init_minion("web1", "--key", str(key))
    assert (cluster.minion_dir("web1") / "pki" / "minion.pub").read_text() == Path(made["pub"]).read_text()
    cluster.start_minion("web1")
    cluster.wait_answering("web1")
    assert "web1" not in cluster.keys()["pending"]


def test_an_id_with_a_key_is_refused_unless_forced_and_forcing_cuts_the_old_host_off(
        cluster: Cluster, tmp_path: Path):
    first = _gen(cluster, "db1", tmp_path / "a")
    cluster.init_minion("db1", "--key", first["key"])
    cluster.start_minion("db1")
    cluster.wait_answering("db1")

    again = cluster.cli("keys", "gen", "db1", "--out", str(tmp_path / "b"))
    assert again.returncode != 0 and "--force" in again.stderr
    assert not (tmp_path / "b").exists()

    second = _gen(cluster, "db1", tmp_path / "b", "--force")
    assert second["replaced"] == ["accepted"] and second["finger"] != first["finger"]
    code, data, _ = cluster.run_json("db1", "test.ping", "--timeout", "2")
    assert code == 2 and data.get("db1") is not True


def test_the_secret_half_is_never_written_inside_the_master(cluster: Cluster):
    res = cluster.cli("keys", "gen", "web2", "--out", str(cluster.master_dir / "handout"))
    assert res.returncode == 64 and "outside" in res.stderr
    assert "web2" not in cluster.keys()["accepted"]
    assert not (cluster.master_dir / "handout").exists()


def test_an_existing_handout_file_is_not_overwritten(cluster: Cluster, tmp_path: Path):
    out = tmp_path / "h"
    out.mkdir()
    (out / "web3.key").write_text("keep me\n")
    res = cluster.cli("keys", "gen", "web3", "--out", str(out))
    assert res.returncode == 64 and "already exists" in res.stderr
    assert (out / "web3.key").read_text() == "keep me\n"
    assert "web3" not in cluster.keys()["accepted"]


def test_minion_init_refuses_a_key_others_can_read(cluster: Cluster, tmp_path: Path):
    made = _gen(cluster, "web4", tmp_path / "h")
    os.chmod(made["key"], 0o644)
    res = subprocess.run([cluster.lpminion, "init", "--dir", str(tmp_path / "m"), "--id", "web4",
                          "--master", "127.0.0.1", "--master-finger", cluster.finger,
                          "--key", made["key"]], capture_output=True, text=True, timeout=60)
    assert res.returncode == 64 and "chmod 600" in res.stderr
