"""packaging/bootstrap.sh on a fresh test host: installs, configures, enables; a second run
with the same arguments changes nothing; a run asking for something else refuses."""
from __future__ import annotations

import email.utils
import hashlib
import os
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


APT_REPO = "/srv/lp-apt"


def _publish_signed_repo(host: Host, deb: Path) -> None:
    """A flat apt repository in the host, signed with a throwaway key, as a team publishing
    its own .deb would run one (apt reads it over file: here; the host has no network)."""
    host.run(["mkdir", "-p", APT_REPO, "/etc/apt/keyrings"], check=True)
    shutil.copyfile(deb, host.path(f"{APT_REPO}/{deb.name}"))
    control = host.run(["dpkg-deb", "-f", f"{APT_REPO}/{deb.name}"], check=True).stdout.rstrip("\n")
    data = deb.read_bytes()
    packages = (f"{control}\nFilename: ./{deb.name}\nSize: {len(data)}\n"
                f"SHA256: {hashlib.sha256(data).hexdigest()}\n\n")
    host.write_text(f"{APT_REPO}/Packages", packages)
    release = ("Origin: linkpeek-ops\nLabel: linkpeek-ops\nSuite: stable\n"
               f"Date: {email.utils.formatdate(usegmt=True)}\nSHA256:\n"
               f" {hashlib.sha256(packages.encode()).hexdigest()} {len(packages.encode())} Packages\n")
    host.write_text(f"{APT_REPO}/Release", release)
    gpg = ["gpg", "--batch", "--homedir", "/root/.lp-repo-gpg"]
    host.run(["mkdir", "-m", "700", "-p", "/root/.lp-repo-gpg"], check=True)
    host.run([*gpg, "--passphrase", "", "--quick-gen-key", "lp-repo@example.org", "ed25519", "sign", "never"],
             check=True)
    host.run([*gpg, "--clearsign", "-o", f"{APT_REPO}/InRelease", f"{APT_REPO}/Release"], check=True)
    host.run([*gpg, "-o", "/etc/apt/keyrings/lp.gpg", "--export", "lp-repo@example.org"], check=True)
    for name in os.listdir(host.path("/etc/apt/sources.list.d")):  # the machine's mirrors: unreachable
        os.unlink(host.path(f"/etc/apt/sources.list.d/{name}"))
    host.write_text("/etc/apt/sources.list.d/linkpeek-ops.sources",
                    f"Types: deb\nURIs: file:{APT_REPO}\nSuites: ./\nSigned-By: /etc/apt/keyrings/lp.gpg\n")


def test_bootstrap_installs_from_the_hosts_signed_apt_repository(deb: Path):
    with Host.start("bootstrap-apt") as host:
        _publish_signed_repo(host, deb)
        shutil.copyfile(REPO / "packaging" / "bootstrap.sh", host.path("/tmp/bootstrap.sh"))
        proc = host.run(["bash", "/tmp/bootstrap.sh", "--master", "10.231.0.1:4606",
                         "--master-finger", "ab" * 32, "--id", "web8"])
        assert proc.returncode == 0, proc.stdout + proc.stderr
        version = host.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}${Version}", "linkpeek-ops"]).stdout
        assert version.startswith("ii ") and f"installed linkpeek-ops {version[3:].strip()} from apt" in proc.stdout
        assert "id: web8" in host.read_text("/etc/linkpeek-ops/minion.yaml")
        assert host.run(["/usr/bin/lpminion", "--help"]).returncode == 0

        with open(host.path(f"{APT_REPO}/{deb.name}"), "ab") as swapped:   # not what was signed
            swapped.write(b"\0")
        host.run(["apt-get", "purge", "-y", "-q", "linkpeek-ops"], check=True)
        tampered = host.run(["bash", "/tmp/bootstrap.sh", "--master", "10.231.0.1:4606",
                             "--master-finger", "ab" * 32, "--id", "web8"])
        assert tampered.returncode == 1, tampered.stdout   # its hash is not the signed index's
        assert "Hash Sum mismatch" in tampered.stderr and "apt-get install linkpeek-ops failed" in tampered.stderr
        assert host.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", "linkpeek-ops"]).stdout.strip() != "ii"
