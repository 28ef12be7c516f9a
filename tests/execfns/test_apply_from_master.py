"""Issue 15.11: `lpminion apply` without --local asks the master for this minion's highstate
and runs it here (Salt's `salt-call state.apply`), with the minion's own key, beside a
running minion daemon."""
from __future__ import annotations

import json
import subprocess

from tests.cluster import free_ports
from tests.execfns.conftest import SECRET


def lpminion(fleet, mid: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([fleet.lpminion, "-c", str(fleet.minion_dir(mid) / "minion.yaml"), "apply", *args],
                          capture_output=True, text=True, timeout=120)


def test_test_run_then_real_run_then_nothing_to_do(fleet):
    motd = fleet.out / "motd"
    dry = lpminion(fleet, "m1", "--test", "--json")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    results = json.loads(dry.stdout)
    (file_ret,) = [r for tag, r in results.items() if tag.startswith("file_")]
    assert file_ret["result"] is None and file_ret["changes"]
    assert not motd.exists() and SECRET not in dry.stdout

    real = lpminion(fleet, "m1")
    assert real.returncode == 0, real.stdout + real.stderr
    assert "Succeeded: 2 (changed=1)" in real.stdout and SECRET not in real.stdout
    assert motd.read_text() == f"hello m1 {SECRET}\n"
    drift = json.loads(fleet.cli("drift", "m1", "--json").stdout)
    assert drift["m1"]["status"] == "clean", drift

    again = lpminion(fleet, "m1", "--out", "json")  # salt-call's shape: {"local": return}
    assert again.returncode == 0
    assert all(r["result"] is True and not r["changes"] for r in json.loads(again.stdout)["local"].values())
    fleet.wait_answering("m1", timeout=10)  # the daemon is still connected and answering


def test_exit_codes_follow_the_readme(fleet):
    failed = lpminion(fleet, "m1", "fails")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    broken = lpminion(fleet, "m1", "broken", "--json")
    assert broken.returncode == 2 and isinstance(json.loads(broken.stdout), list)
    missing = lpminion(fleet, "m1", "nosuchsls")
    assert missing.returncode == 2 and "nosuchsls" in missing.stdout
    usage = lpminion(fleet, "m1", "--state-tree", "/tmp")
    assert usage.returncode == 64 and "--state-tree needs --local" in usage.stderr


def test_a_key_the_master_has_not_accepted_is_told_what_to_do(fleet):
    fleet.init_minion("m9")
    res = lpminion(fleet, "m9")
    assert res.returncode == 64
    assert "pending on the master" in res.stderr and "lpmaster keys accept m9" in res.stderr
    assert "m9" in fleet.keys()["pending"]


def test_no_master_is_exit_2(fleet, tmp_path):
    (port,) = free_ports(1)
    cfg = (fleet.minion_dir("m1") / "minion.yaml").read_text()
    lonely = tmp_path / "minion.yaml"
    lonely.write_text(cfg.replace(f"master_port: {fleet.req_port}", f"master_port: {port}")
                      + "request_timeout: 1\n")
    res = subprocess.run([fleet.lpminion, "-c", str(lonely), "apply"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "did not answer" in res.stderr
