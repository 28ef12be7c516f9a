"""The .deb on a test host: installs with apt from Debian's repository alone, starts nothing,
runs master and minion from the installed files as their units would, and purge leaves
nothing of its own behind (remove keeps keys and the job store)."""
from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.hostlib import Host
from tests.packaging.conftest import exec_start, install, snapshot

pytestmark = pytest.mark.host

MASTER_ROOT = "/var/lib/linkpeek-ops/master"
MINION_ROOT = "/var/lib/linkpeek-ops/minion"


@pytest.fixture(scope="module")
def host(fresh_host: Host, deb: Path):
    before = snapshot(fresh_host)
    install(fresh_host, deb)
    fresh_host.before_install = before  # type: ignore[attr-defined]
    return fresh_host


@pytest.mark.skipif(shutil.which("lintian") is None, reason="lintian missing: scripts/setup.sh")
def test_lintian_reports_no_errors(deb: Path):
    proc = subprocess.run(["lintian", "--no-tag-display-limit", str(deb)], capture_output=True,
                          text=True, timeout=300)
    errors = [line for line in proc.stdout.splitlines() if line.startswith("E:")]
    assert errors == [] and proc.returncode == 0, proc.stdout + proc.stderr


def test_installed_units_verify_and_nothing_is_enabled_or_running(host: Host):
    units = ["/lib/systemd/system/lpmaster.service", "/lib/systemd/system/lpminion.service"]
    proc = host.run(["systemd-analyze", "verify", *units])
    assert proc.returncode == 0 and proc.stderr.strip() == "", proc.stderr
    assert not host.exists("/etc/systemd/system/multi-user.target.wants/lpminion.service")
    assert not host.exists("/etc/systemd/system/multi-user.target.wants/lpmaster.service")
    assert not any("lpm" in cmd for cmd in host.processes().values())
    assert sorted(p.name for p in host.path("/etc/linkpeek-ops").iterdir()) == [
        "master.yaml.example", "minion.yaml.example"]
    for root in (MASTER_ROOT, MINION_ROOT):
        assert oct(host.path(root).stat().st_mode & 0o777) == "0o700"


def test_the_example_configs_load_once_uncommented(host: Host, tmp_path: Path):
    from core.config import load_master, load_minion

    for name, load in (("master", load_master), ("minion", load_minion)):
        text = host.read_text(f"/etc/linkpeek-ops/{name}.yaml.example")
        settings = [line[1:] for line in text.splitlines()
                    if line.startswith("#") and not line.startswith("# ") and line != "#"]
        path = tmp_path / f"{name}.yaml"
        path.write_text("\n".join(settings).replace("00:11:...:ff", "00" * 32) + "\n")
        load(str(path))


def as_the_unit_confines_it(argv: list[str], writable: str) -> list[str]:
    """argv under what lpmaster.service leaves the master, as far as a host without systemd
    can: capabilities CAP_CHOWN alone, no new privileges, `/` read-only but for its root."""
    script = (f"mount --bind {writable} {writable}; mount -o remount,bind,ro /; "
              "exec setpriv --no-new-privs --bounding-set -all,+chown --inh-caps -all -- "
              + shlex.join(argv))
    return ["unshare", "--mount", "--propagation", "private", "sh", "-ec", script]


def _lp(host: Host, *argv: str) -> subprocess.CompletedProcess[str]:
    return host.run(list(argv), timeout=60)


def test_installed_minion_joins_pre_seeded_answers_and_purge_cleans_up(host: Host):
    init = _lp(host, "lpmaster", "-c", "/etc/linkpeek-ops/master.yaml", "init", "--dir",
               MASTER_ROOT, "--interface", "127.0.0.1")
    assert init.returncode == 0, init.stderr
    host.spawn(as_the_unit_confines_it(exec_start(host, "lpmaster.service"), MASTER_ROOT),
               log_name="lpmaster")
    finger = _lp(host, "lpmaster", "keys", "finger", "--master").stdout.strip()  # default config
    gen = _lp(host, "lpmaster", "keys", "gen", "web1", "--out", "/root/handout")
    assert gen.returncode == 0, gen.stderr
    minit = _lp(host, "lpminion", "-c", "/etc/linkpeek-ops/minion.yaml", "init", "--dir",
                MINION_ROOT, "--id", "web1", "--master", "127.0.0.1", "--master-finger", finger,
                "--key", "/root/handout/web1.key", "--startup-states", "none")
    assert minit.returncode == 0, minit.stderr
    host.spawn(exec_start(host, "lpminion.service"), log_name="lpminion")

    def pinged() -> bool:
        proc = _lp(host, "lpmaster", "run", "web1", "test.ping", "--json", "--timeout", "2")
        return proc.returncode == 0 and json.loads(proc.stdout) == {"web1": True}

    try:
        host.wait_for(pinged, "web1 answering test.ping", timeout=30)
    except Exception as exc:
        raise AssertionError(f"{exc}\nmaster:\n{host.log('lpmaster')}\n"
                             f"minion:\n{host.log('lpminion')}") from None
    keys = json.loads(_lp(host, "lpmaster", "keys", "list", "--json").stdout)
    assert keys["accepted"] == ["web1"] and keys["pending"] == []
    master_pid = host.read_text(f"{MASTER_ROOT}/master.pid").split()[0]
    caps = host.run(["grep", "^CapEff", f"/proc/{master_pid}/status"]).stdout.split()
    assert caps == ["CapEff:", "0000000000000001"]  # CAP_CHOWN only

    for root, daemon in ((MINION_ROOT, "minion"), (MASTER_ROOT, "master")):
        pid = host.read_text(f"{root}/{daemon}.pid").split()[0]
        host.run(["kill", pid], check=True)
        host.wait_for(lambda: not host.exists(f"/proc/{pid}/"), f"the {daemon} stopping")
    host.run(["rm", "-rf", "/root/handout"], check=True)

    removed = host.run(["apt-get", "remove", "-y", "-q", "linkpeek-ops"])
    assert removed.returncode == 0, removed.stderr
    assert not host.exists("/usr/bin/lpmaster")
    for kept in (f"{MASTER_ROOT}/pki/minions/web1", f"{MASTER_ROOT}/master.db",
                 f"{MINION_ROOT}/pki/minion.key", "/etc/linkpeek-ops/minion.yaml"):
        assert host.exists(kept), f"remove deleted {kept}"

    purged = host.run(["apt-get", "purge", "-y", "-q", "linkpeek-ops"])
    assert purged.returncode == 0, purged.stderr
    left = snapshot(host) - host.before_install  # type: ignore[attr-defined]
    assert left == set()
