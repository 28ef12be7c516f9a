"""packaging/bootstrap.sh on a fresh test host: installs, configures, enables; a second run
with the same arguments changes nothing; a run asking for something else refuses."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cluster import Cluster
from tests.hostlib import Host
from tests.packaging.conftest import REPO, copy_in

pytestmark = pytest.mark.host


def _with_times(host: Host) -> set[str]:
    """What bootstrap could change (dpkg's status included: a reinstall shows there)."""
    proc = host.run(["find", "/etc", "/var/lib/linkpeek-ops", "/var/lib/dpkg/status",
                     "/usr/lib/linkpeek-ops", "/usr/bin/lpminion", "/lib/systemd/system",
                     "-xdev", "-printf", "%p %y %m %s %T@\\n"])
    return set(proc.stdout.splitlines())


def test_bootstrap_twice_changes_nothing_the_second_time(fresh_host: Host, deb: Path,
                                                         tmp_path: Path):
    host = fresh_host
    with Cluster(tmp_path / "c") as master:
        gen = master.cli("keys", "gen", "web7", "--out", str(tmp_path / "handout"))
        assert gen.returncode == 0, gen.stderr
        finger = master.finger
    shutil.copyfile(tmp_path / "handout" / "web7.key", host.path("/tmp/web7.key"))
    host.run(["chmod", "600", "/tmp/web7.key"], check=True)
    shutil.copyfile(REPO / "packaging" / "bootstrap.sh", host.path("/tmp/bootstrap.sh"))
    argv = ["bash", "/tmp/bootstrap.sh", "--master", "10.231.0.1:4606", "--master-finger", finger,
            "--key", "/tmp/web7.key", "--deb", copy_in(host, deb), "--grain", "role=web"]

    first = host.run(argv)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "installed linkpeek-ops" in first.stdout and "wrote /etc/linkpeek-ops/minion.yaml" in first.stdout
    assert "enabled lpminion.service" in first.stdout
    assert "next, on the master: lpmaster run 'web7' test.ping" in first.stdout
    assert host.exists("/etc/systemd/system/multi-user.target.wants/lpminion.service")
    assert host.read_text("/var/lib/linkpeek-ops/minion/pki/minion.key") == host.read_text("/tmp/web7.key")
    config = host.read_text("/etc/linkpeek-ops/minion.yaml")
    assert "id: web7" in config and "role: web" in config and "master: 10.231.0.1" in config
    before = _with_times(host)

    second = host.run(argv)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "is installed already" in second.stdout and "written already" in second.stdout
    assert "is enabled already" in second.stdout
    assert _with_times(host) == before

    other = host.run([*argv[:3], "10.231.0.9", *argv[4:]])
    assert other.returncode == 64 and "differs" in other.stderr and "10.231.0.9" in other.stderr
    assert _with_times(host) == before


def test_bootstrap_without_the_master_finger_is_a_usage_error(fresh_host: Host):
    shutil.copyfile(REPO / "packaging" / "bootstrap.sh", fresh_host.path("/tmp/b.sh"))
    proc = fresh_host.run(["bash", "/tmp/b.sh", "--master", "lp.example.org"])
    assert proc.returncode == 64 and "--master-finger" in proc.stderr


def test_bootstrap_help_teaches(tmp_path: Path):
    proc = subprocess.run(["bash", str(REPO / "packaging" / "bootstrap.sh"), "--help"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0 and "--master-finger FP" in proc.stdout and "--key FILE" in proc.stdout
