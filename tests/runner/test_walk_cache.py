"""The walk cache (minion/providers/walkcache.py): within one state run, safe writes start from
directories already walked, and a directory swapped after it was cached is never written
through: the walk notices and goes on with every rule of a fresh walk.

The attacker is uid 65534 (nobody), owning a directory under the managed tree, as in
test_symlink_attacks.py; the race is a real process running as that uid.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from minion.providers import safefs, walkcache
from tests.runner import test_symlink_attacks as attacks
from tests.runner.conftest import chunk
from tests.runner.test_symlink_attacks import NOBODY, plant, untouched

scene = attacks.scene


def test_a_run_reuses_walked_directories_and_writes_land_where_asked(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    with walkcache.using() as cache:
        for i in range(3):
            safefs.write_file(str(tmp_path / "a" / "b" / f"f{i}"), f"v{i}")
        safefs.ensure_dir(str(tmp_path / "a" / "b" / "c" / "d"), safefs.DirSpec())
        safefs.write_file(str(tmp_path / "a" / "b" / "c" / "d" / "g"), "deep")
        assert safefs.read_file(str(tmp_path / "a" / "b" / "f1")) == b"v1"
        assert cache.hits >= 4
    assert [(tmp_path / "a" / "b" / f"f{i}").read_text() for i in range(3)] == ["v0", "v1", "v2"]
    assert (tmp_path / "a" / "b" / "c" / "d" / "g").read_text() == "deep"


@pytest.mark.parametrize("swapped", ["conf", "conf/sub"])
def test_a_cached_directory_swapped_for_a_planted_link_is_refused(scene, swapped: str) -> None:
    _, attic, victim = scene
    (attic / "conf" / "sub").mkdir(parents=True)
    with walkcache.using():
        safefs.write_file(str(attic / "conf" / "sub" / "one.ini"), "first")
        os.rename(attic / swapped, attic / "moved")
        plant(attic / swapped, victim.parent)
        with pytest.raises(safefs.UnsafeWrite, match="symlink owned by nobody"):
            safefs.write_file(str(attic / "conf" / "sub" / "two.ini"), "second")
    assert sorted(os.listdir(victim.parent)) == ["shadow"] and untouched(victim)
    assert "two.ini" not in {p.name for p in (attic / "moved").rglob("*")}


def test_a_cached_directory_replaced_by_another_directory_is_written_at_its_path(
        tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    conf.mkdir()
    with walkcache.using():
        safefs.write_file(str(conf / "one"), "1")
        conf.rename(tmp_path / "old")
        conf.mkdir()
        safefs.write_file(str(conf / "two"), "2")
    assert sorted(os.listdir(conf)) == ["two"] and sorted(os.listdir(tmp_path / "old")) == ["one"]


def test_a_trusted_link_swapped_in_is_followed_as_in_a_fresh_walk(tmp_path: Path) -> None:
    (tmp_path / "releases" / "1").mkdir(parents=True)
    (tmp_path / "releases" / "2").mkdir()
    os.symlink(tmp_path / "releases" / "1", tmp_path / "current")
    with walkcache.using():
        safefs.write_file(str(tmp_path / "releases" / "1" / "app.yml"), "one")
        os.rename(tmp_path / "releases" / "1", tmp_path / "releases" / "gone")
        os.symlink(tmp_path / "releases" / "2", tmp_path / "releases" / "1")
        safefs.write_file(str(tmp_path / "releases" / "1" / "app.yml"), "two")
    assert (tmp_path / "releases" / "2" / "app.yml").read_text() == "two"
    assert (tmp_path / "releases" / "gone" / "app.yml").read_text() == "one"


SWAPPER = """
import os, sys
d, target, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.chdir(d)
os.setgid(65534); os.setuid(65534)
print("ready", flush=True)
for i in range(n):
    os.symlink(target, f".l{i}")
    os.rename("conf", "real")        # conf (a directory) out of the way,
    os.rename(f".l{i}", "conf")      # a link to the victim's directory in its place,
    os.rename("conf", f".l{i}")
    os.rename("real", "conf")        # and back
    os.unlink(f".l{i}")
"""


def test_racing_a_directory_swap_during_one_run_never_reaches_the_victim(scene) -> None:
    harness, attic, victim = scene
    (attic / "conf").mkdir()
    os.chown(attic / "conf", NOBODY, NOBODY)
    chunks = [chunk("file.managed", f"f{i}", str(attic / "conf" / f"f{i}.ini"), contents=f"v{i}")
              for i in range(300)]
    racer = subprocess.Popen([sys.executable, "-c", SWAPPER, str(attic), str(victim.parent),
                              "1000000"], stdout=subprocess.PIPE, text=True)
    try:
        assert racer.stdout is not None and racer.stdout.readline() == "ready\n"
        results = harness.run(chunks)
        assert racer.poll() is None  # it raced all along
    finally:
        racer.kill()
        racer.wait()
    assert sorted(os.listdir(victim.parent)) == ["shadow"] and untouched(victim)
    assert len(results) == 300
