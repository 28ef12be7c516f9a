"""The installed units under a real systemd (a host booted by systemd-nspawn): the master
and the minion start as their units, the minion converges at start and after a crash, the
master comes back with its minions, and the master's sandbox still lets it back itself up."""
from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostlib.systemd import SystemdHost, available
from tests.hostlib.vault import Vault
from tests.packaging.conftest import REPO, install

pytestmark = [pytest.mark.host,
              pytest.mark.skipif(not available(), reason="systemd-nspawn missing: scripts/setup.sh")]

MASTER_CFG = "/etc/linkpeek-ops/master.yaml"
MASTER_ROOT = "/var/lib/linkpeek-ops/master"
STATES = "/srv/linkpeek-ops/states"
MOTD = "/etc/motd.d/linkpeek"


@pytest.fixture(scope="module")
def box(deb: Path) -> Iterator[SystemdHost]:
    with SystemdHost.boot("lp-systemd") as host:
        install(host, deb)
        host.write_text(f"{STATES}/top.sls", "base:\n  '*':\n    - motd\n")
        host.write_text(f"{STATES}/motd.sls",
                        f"{MOTD}:\n  file.managed:\n    - makedirs: true\n    - contents: managed by linkpeek-ops\n")
        init = host.run(["lpmaster", "-c", MASTER_CFG, "init", "--dir", MASTER_ROOT, "--interface", "127.0.0.1",
                         "--states", STATES, "--pillar", "/srv/linkpeek-ops/pillar"])
        assert init.returncode == 0, init.stderr
        enabled = host.systemctl("enable", "--now", "lpmaster")
        assert enabled.returncode == 0, enabled.stderr
        wait(host, lambda: host.systemctl("is-active", "lpmaster").stdout.strip() == "active", "lpmaster active")
        finger = host.run(["lpmaster", "keys", "finger", "--master"]).stdout.strip()
        code, out = lp(host, "keys", "gen", "box1", "--out", "/root/handout")
        assert code == 0, out
        shutil.copyfile(REPO / "packaging" / "bootstrap.sh", host.path("/tmp/bootstrap.sh"))
        boot = host.run(["bash", "/tmp/bootstrap.sh", "--master", "127.0.0.1", "--master-finger", finger,
                         "--key", "/root/handout/box1.key"])
        assert boot.returncode == 0, boot.stdout + boot.stderr
        yield host


def lp(box: SystemdHost, *argv: str) -> tuple[int, str]:
    proc = box.run(["lpmaster", *argv], timeout=60)
    return proc.returncode, proc.stdout + proc.stderr


def pinged(box: SystemdHost) -> bool:
    code, out = lp(box, "run", "box1", "test.ping", "--json", "--timeout", "3")
    return code == 0 and json.loads(out) == {"box1": True}


def wait(box: SystemdHost, predicate, what: str, timeout: float = 60) -> None:
    try:
        box.wait_for(predicate, what, timeout=timeout)
    except Exception as exc:
        raise AssertionError(f"{exc}\nlpmaster:\n{box.journal('lpmaster')}\n"
                             f"lpminion:\n{box.journal('lpminion')}") from None


def test_both_units_start_and_the_minion_converges_at_start(box: SystemdHost):
    wait(box, lambda: box.exists(MOTD), "the minion's converge at start")
    assert box.read_text(MOTD) == "managed by linkpeek-ops\n"
    wait(box, lambda: pinged(box), "box1 answering")
    assert box.systemctl("is-enabled", "lpmaster", "lpminion").stdout.split() == ["enabled", "enabled"]
    master = box.main_pid("lpmaster")
    caps = box.run(["grep", "^CapEff", f"/proc/{master}/status"]).stdout.split()
    assert caps == ["CapEff:", "0000000000000001"]   # CAP_CHOWN only, as the unit says


def test_a_killed_minion_is_restarted_and_converges_again(box: SystemdHost):
    box.run(["rm", "-f", MOTD], check=True)
    before = box.main_pid("lpminion")
    assert before > 0
    box.systemctl("kill", "-s", "KILL", "lpminion")
    wait(box, lambda: box.main_pid("lpminion") not in (0, before), "systemd restarting lpminion", timeout=30)
    wait(box, lambda: box.exists(MOTD), "the restarted minion's converge")
    wait(box, lambda: pinged(box), "box1 answering after its restart")


def test_a_restarted_master_gets_its_minion_back(box: SystemdHost):
    before = box.main_pid("lpmaster")
    restarted = box.systemctl("restart", "lpmaster")
    assert restarted.returncode == 0, restarted.stderr
    assert box.main_pid("lpmaster") != before
    wait(box, lambda: pinged(box), "box1 answering the restarted master")


def test_the_sandboxed_master_backs_itself_up_over_sftp(box: SystemdHost):
    """The README's self-backup (an sftp repository, secrets in /etc/linkpeek-ops) under the
    unit's sandbox: restic and ssh run with its system-call filter, /root and /home hidden."""
    vault = Vault.start("vault-sd")
    try:
        password, key, known = (f"/etc/linkpeek-ops/{name}" for name in
                                ("master-backup.pass", "backup-ssh.key", "backup-ssh.known_hosts"))
        box.write_text(password, "correct horse battery staple\n", mode=0o600)
        box.write_text(key, vault.private_key, mode=0o600)
        box.write_text(known, vault.known_hosts)
        box.write_text(MASTER_CFG, box.read_text(MASTER_CFG) + (
            f"backup:\n  repository: {vault.repository('lp-master')}\n  password_file: {password}\n"
            f"  ssh: {{key_file: {key}, known_hosts_file: {known}}}\n"), mode=0o600)
        assert box.systemctl("restart", "lpmaster").returncode == 0
        wait(box, lambda: pinged(box), "box1 answering the restarted master")

        code, out = lp(box, "backup", "run", "(master)", "master", "--json", "--timeout", "120")
        assert code == 0, out + box.journal("lpmaster")
        assert json.loads(out)["(master)"]["snapshot_id"]
        files = vault.files("lp-master")
        assert any(path.startswith("snapshots/") for path in files) and "config" in files
    finally:
        vault.stop()
