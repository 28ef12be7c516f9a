"""Issue 14.2: root never writes through a symlink a local user planted.

The attacker is uid 65534 (nobody): it owns a directory under the managed tree, as a service
user owns its data directory, and plants links there (made with lchown to its uid, or by a
real process running as that uid for the race). The victim is a root-owned file outside.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.runner.conftest import Harness, chunk

NOBODY = 65534
SECRET = "root:secret-hash\n"


@pytest.fixture
def scene(harness: Harness, tmp_path: Path) -> tuple[Harness, Path, Path]:
    """(harness, the attacker's directory, the victim file)."""
    attic = harness.root / "srv" / "app"
    attic.mkdir(parents=True)
    os.chown(attic, NOBODY, NOBODY)
    victim = tmp_path / "etc" / "shadow"
    victim.parent.mkdir()
    victim.write_text(SECRET)
    os.chmod(victim, 0o600)
    return harness, attic, victim


def plant(link: Path, target: Path | str) -> None:
    os.symlink(str(target), link)
    os.lchown(link, NOBODY, NOBODY)


def one(harness: Harness, c, test: bool = False) -> dict:
    (res,) = harness.run([c], test=test).values()
    return res


def untouched(victim: Path) -> bool:
    st = victim.stat()
    return victim.read_text() == SECRET and stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0


def test_file_managed_refuses_a_link_planted_by_another_user(scene):
    harness, attic, victim = scene
    plant(attic / "app.ini", victim)
    c = chunk("file.managed", "ini", str(attic / "app.ini"), contents="owned", mode="0644")
    dry = one(harness, c, test=True)
    assert dry["result"] is False and SECRET.strip() not in str(dry)  # no diff of the victim
    res = one(harness, c)
    assert res["result"] is False
    assert "symlink owned by nobody" in res["comment"] and "refusing to follow" in res["comment"]
    assert untouched(victim)
    assert os.readlink(attic / "app.ini") == str(victim)


def test_file_managed_refuses_a_link_in_a_directory_others_can_write(scene):
    harness, attic, victim = scene
    os.symlink(str(victim), attic / "app.ini")  # root's link, but nobody can swap it
    res = one(harness, chunk("file.managed", "ini", str(attic / "app.ini"), contents="x"))
    assert res["result"] is False and "it is owned by nobody" in res["comment"]
    assert untouched(victim)


def test_a_link_root_planted_in_roots_directory_is_followed_as_salt_does(harness: Harness):
    real = Path(harness.path("sites-available/site"))
    real.parent.mkdir()
    real.write_text("old\n")
    link = Path(harness.path("site"))
    os.symlink(str(real), link)
    res = one(harness, chunk("file.managed", "s", str(link), contents="new"))
    assert res["result"] is True and real.read_text() == "new\n" and link.is_symlink()
    res = one(harness, chunk("file.managed", "s", str(link), contents="mine",
                             follow_symlinks=False))
    assert res["changes"]["diff"] == "Replace symbolic link with regular file"
    assert not link.is_symlink() and link.read_text() == "mine\n" and real.read_text() == "new\n"


def test_a_users_link_to_their_own_file_is_followed_for_that_user_only(scene):
    harness, attic, victim = scene
    own = attic / "dotfiles.rc"
    own.write_text("old\n")
    os.chown(own, NOBODY, NOBODY)
    plant(attic / ".rc", own)
    res = one(harness, chunk("file.managed", "rc", str(attic / ".rc"), contents="new", user=NOBODY))
    assert res["result"] is True and own.read_text() == "new\n"
    (attic / "releases" / "7").mkdir(parents=True)
    os.chown(attic / "releases" / "7", NOBODY, NOBODY)
    plant(attic / "current", attic / "releases" / "7")  # a deploy's own link, to its own dir
    res = one(harness, chunk("file.managed", "c", str(attic / "current" / "app.yml"),
                             contents="new", user=NOBODY))
    assert res["result"] is True and (attic / "releases" / "7" / "app.yml").read_text() == "new\n"
    plant(attic / "current2", victim.parent)
    res = one(harness, chunk("file.managed", "c2", str(attic / "current2" / "app.yml"),
                             contents="x", user=NOBODY))
    assert res["result"] is False and "does not own" in res["comment"]
    plant(attic / ".evil", victim)
    res = one(harness, chunk("file.managed", "e", str(attic / ".evil"), contents="x", user=NOBODY))
    assert res["result"] is False and "refusing to write there as root" in res["comment"]
    assert untouched(victim)


def test_a_directory_link_on_the_way_is_not_followed(scene, tmp_path: Path):
    harness, attic, victim = scene
    plant(attic / "conf", victim.parent)
    res = one(harness, chunk("file.managed", "i", str(attic / "conf" / "cron.ini"), contents="x"))
    assert res["result"] is False and "symlink owned by nobody" in res["comment"]
    assert sorted(os.listdir(victim.parent)) == ["shadow"]


@pytest.mark.parametrize("state", ["file.append", "file.replace"])
def test_edits_refuse_a_planted_link(scene, state):
    harness, attic, victim = scene
    plant(attic / "hosts", victim)
    args = {"text": "x"} if state == "file.append" else {"pattern": "secret", "repl": "pwned"}
    res = one(harness, chunk(state, "h", str(attic / "hosts"), **args))
    assert res["result"] is False and "symlink owned by nobody" in res["comment"]
    assert untouched(victim)


def test_file_replace_backup_replaces_a_planted_link_instead_of_writing_through_it(scene):
    harness, attic, victim = scene
    conf = attic / "sshd_config"
    conf.write_text("PermitRootLogin yes\n")
    plant(attic / "sshd_config.bak", victim)
    res = one(harness, chunk("file.replace", "r", str(conf), pattern="yes", repl="no"))
    assert res["result"] is True and conf.read_text() == "PermitRootLogin no\n"
    assert untouched(victim)
    assert (attic / "sshd_config.bak").read_text() == "PermitRootLogin yes\n"


def test_file_recurse_refuses_a_planted_directory_link(scene):
    harness, attic, victim = scene
    (harness.tree / "app" / "conf").mkdir(parents=True)
    (harness.tree / "app" / "conf" / "evil.conf").write_text("x\n")
    plant(attic / "conf", victim.parent)
    res = one(harness, chunk("file.recurse", "r", str(attic), source="salt://app"))
    assert res["result"] is False and "symlink owned by nobody" in res["comment"]
    assert sorted(os.listdir(victim.parent)) == ["shadow"]


def test_file_directory_does_not_chown_through_a_planted_link(scene):
    harness, attic, victim = scene
    plant(attic / "data", victim.parent)
    res = one(harness, chunk("file.directory", "d", str(attic / "data"), user=NOBODY, mode=777))
    assert res["result"] is False and "refusing to write there as root" in res["comment"]
    st = victim.parent.stat()
    assert st.st_uid == 0 and stat.S_IMODE(st.st_mode) != 0o777


def test_a_mode_change_never_reaches_a_hard_linked_victim(scene):
    harness, attic, victim = scene
    os.link(victim, attic / "f")  # as if fs.protected_hardlinks were off
    res = one(harness, chunk("file.managed", "f", str(attic / "f"), contents=SECRET.rstrip("\n"),
                             mode="0666"))
    assert res["result"] is False and "hard links" in res["comment"]
    assert untouched(victim)


RACER = """
import os, sys
d, victim, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.chdir(d)  # tmp_path's parents are root's 0700: start inside, then become nobody
os.setgid(65534); os.setuid(65534)
print("ready", flush=True)
for i in range(n):
    os.symlink(victim, f".l{i}")
    os.replace(f".l{i}", "app.ini")
    with open(f".f{i}", "w") as fh:
        fh.write("bait")
    os.replace(f".f{i}", "app.ini")
"""


def test_racing_a_link_in_during_applies_never_reaches_the_victim(scene):
    harness, attic, victim = scene
    racer = subprocess.Popen([sys.executable, "-c", RACER, str(attic), str(victim), "100000"],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert racer.stdout is not None and racer.stdout.readline() == "ready\n"
        for i in range(200):
            harness.run([chunk("file.managed", "ini", str(attic / "app.ini"), contents=f"v{i}")])
            assert untouched(victim)
        assert racer.poll() is None  # it raced all along
    finally:
        racer.kill()
        racer.wait()
    assert untouched(victim)


def test_file_symlink_is_not_made_through_a_planted_directory_link(scene):
    harness, attic, victim = scene
    plant(attic / "cron.d", victim.parent)
    res = one(harness, chunk("file.symlink", "l", str(attic / "cron.d" / "job"), target="/x"))
    assert res["result"] is False and "symlink owned by nobody" in res["comment"]
    assert sorted(os.listdir(victim.parent)) == ["shadow"]
