"""An in-place restore races a local user (a real process running as uid 65534) who owns a
directory under the job's path and keeps planting symlinks there (a file link to a root-only
file, a directory link to a root-only directory). The checks before the restore cannot see
what is planted after them; restic (0.14) writes through what it finds. The restore goes
through a root-only staging directory and renameat() between O_NOFOLLOW descriptors
(minion/backup/staging.py): the victims are never written, and what the snapshot holds lands."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import UnsafePathError
from core.restic import ResticError
from minion.backup.restore import restore
from minion.backup.run import run_backup
from tests.backup.conftest import make_spec

NOBODY = 65534
ROUNDS = 8

RACER = """
import os, sys, time
victim_file, victim_dir = sys.argv[1], sys.argv[2]
os.setgid(65534); os.setuid(65534)   # started inside the directory it owns, then nobody
print("ready", flush=True)
i = 0
while True:
    i += 1
    try:
        os.symlink(victim_file, f".n{i}")
        os.replace(f".n{i}", "notes.txt")
    except OSError:
        pass
    try:
        if os.path.islink("cache"):
            os.unlink("cache")
        else:
            if os.path.isdir("cache"):
                os.rename("cache", f".c{i}")
            os.symlink(victim_dir, "cache")
    except OSError:
        pass
    time.sleep(0.001)
"""


@pytest.fixture()
def scene(repo: Path, tmp_path: Path):
    app, victim_dir = tmp_path / "srv" / "app", tmp_path / "victim"
    uploads = app / "uploads"
    (uploads / "cache").mkdir(parents=True)
    (app / "app.ini").write_text("port = 80\n")
    (uploads / "notes.txt").write_text("restored notes\n")
    (uploads / "cache" / "page.html").write_text("<p>restored</p>\n")
    for path in (uploads, uploads / "cache", uploads / "notes.txt", uploads / "cache" / "page.html"):
        os.chown(path, NOBODY, NOBODY)
    victim_dir.mkdir(mode=0o755)
    victim_file = victim_dir / "shadow"
    victim_file.write_text("root:only\n")
    victim_file.chmod(0o600)
    spec = make_spec(str(repo), {"race": {"source": "files", "cron": "0 3 * * *", "paths": [str(app)]}})
    record = run_backup(spec, spec.job("race"), str(tmp_path / "cache"))
    assert record["success"], record
    yield spec, tmp_path / "cache", app, victim_dir, victim_file


def _untouched(victim_dir: Path, victim_file: Path) -> bool:
    return sorted(os.listdir(victim_dir)) == ["shadow"] and victim_file.read_text() == "root:only\n"


def test_a_local_user_racing_symlinks_into_a_restore_never_redirects_roots_writes(scene):
    spec, cache, app, victim_dir, victim_file = scene
    uploads = app / "uploads"
    racer = subprocess.Popen([sys.executable, "-c", RACER, str(victim_file), str(victim_dir)],
                             cwd=uploads, stdout=subprocess.PIPE, text=True)
    done = refused = 0
    try:
        assert racer.stdout is not None and racer.stdout.readline() == "ready\n"
        for _ in range(ROUNDS):
            try:
                restore(spec, spec.job("race"), str(cache), in_place=True)
                done += 1
            except UnsafePathError:       # a link seen by the checks before the restore
                refused += 1
            except ResticError:           # the old code: restic tripped over the race (or wrote through it)
                pass
            assert _untouched(victim_dir, victim_file), sorted(os.listdir(victim_dir))
        assert racer.poll() is None       # it raced all along
    finally:
        racer.kill()
        racer.wait()
    assert _untouched(victim_dir, victim_file)
    assert done + refused == ROUNDS and done > 0
    for leftover in [*uploads.glob(".[cn]*"), *[p for p in uploads.iterdir() if p.is_symlink()]]:
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover)
        else:
            leftover.unlink()
    result = restore(spec, spec.job("race"), str(cache), in_place=True)
    assert result["skipped"] == []
    assert (uploads / "notes.txt").read_text() == "restored notes\n" and not (uploads / "notes.txt").is_symlink()
    assert (uploads / "cache" / "page.html").read_text() == "<p>restored</p>\n"
    assert os.lstat(uploads).st_uid == NOBODY and (app / "app.ini").read_text() == "port = 80\n"
    assert not list((app.parent).glob(".lp-restore-*")), "the staging directory is removed"


def test_a_planted_file_link_is_replaced_not_written_through(scene):
    spec, cache, app, victim_dir, victim_file = scene
    notes = app / "uploads" / "notes.txt"
    notes.unlink()
    os.symlink(victim_file, notes)
    os.lchown(notes, NOBODY, NOBODY)
    result = restore(spec, spec.job("race"), str(cache), in_place=True)
    assert _untouched(victim_dir, victim_file)
    assert not notes.is_symlink() and notes.read_text() == "restored notes\n" and result["skipped"] == []


def test_to_a_non_empty_directory_with_force_replaces_a_planted_link(scene, tmp_path: Path):
    spec, cache, app, victim_dir, victim_file = scene
    target = tmp_path / "restore"
    first = restore(spec, spec.job("race"), str(cache), to=str(target))
    notes = target / str(app / "uploads" / "notes.txt").lstrip("/")
    assert notes.read_text() == "restored notes\n" and not list(target.glob(".lp-restore-*"))
    notes.unlink()                 # the restored tree keeps uploads/ owned by 65534: plant as that user
    os.symlink(victim_file, notes)
    os.lchown(notes, NOBODY, NOBODY)
    again = restore(spec, spec.job("race"), str(cache), to=str(target), force=True)
    assert _untouched(victim_dir, victim_file)
    assert not notes.is_symlink() and notes.read_text() == "restored notes\n"
    assert first["skipped"] == again["skipped"] == []


def test_staging_is_made_only_where_no_other_user_can_swap_it(tmp_path: Path):
    from minion.backup.staging import staging_parent

    shared, sticky, mine = tmp_path / "shared", tmp_path / "sticky", tmp_path / "mine"
    for d, mode in ((shared, 0o777), (sticky, 0o1777), (mine, 0o755)):
        d.mkdir()
        d.chmod(mode)
    (shared / "app").mkdir()
    (sticky / "app").mkdir()
    (mine / "app").mkdir()
    (mine / "users").mkdir()
    os.chown(mine / "users", NOBODY, NOBODY)
    assert staging_parent(str(shared / "app")) == str(tmp_path)      # anyone could rename it away in shared/
    assert staging_parent(str(sticky / "app")) == str(sticky)        # a sticky one (like /tmp) is fine
    assert staging_parent(str(mine / "app" / "new" / "deeper")) == str(mine / "app")
    assert staging_parent(str(mine / "users" / "x")) == str(mine)    # never inside a user's directory


def test_a_staging_directory_left_by_a_killed_restore_is_removed_by_the_next(tmp_path):
    from minion.backup.staging import _make_stage

    dead = subprocess.Popen(["true"])
    dead.wait()
    left = tmp_path / f".lp-restore-{dead.pid}-0123456789ab"   # as a minion killed mid-restore leaves it
    (left / "var" / "lib").mkdir(parents=True)
    (left / "var" / "lib" / "big.db").write_bytes(b"x" * 4096)
    running = tmp_path / f".lp-restore-{os.getpid()}-ba9876543210"   # another restore, still running
    running.mkdir()
    stage = _make_stage(str(tmp_path))
    assert not left.exists() and running.is_dir() and os.path.isdir(stage)
    assert os.path.basename(stage).startswith(f".lp-restore-{os.getpid()}-")


def test_directories_a_restore_makes_above_a_job_path_get_the_snapshots_owner_and_mode(repo: Path, tmp_path: Path):
    """A restore onto a host where the job path's parents are gone (a fresh host, no states yet)."""
    import stat

    app = tmp_path / "srv" / "app2"
    uploads = app / "uploads"
    uploads.mkdir(parents=True)
    (uploads / "a.txt").write_text("a\n")
    os.chown(app, NOBODY, NOBODY)
    app.chmod(0o750)
    spec = make_spec(str(repo), {"up": {"source": "files", "cron": "0 3 * * *", "paths": [str(uploads)]}})
    assert run_backup(spec, spec.job("up"), str(tmp_path / "cache"))["success"]
    shutil.rmtree(app)
    result = restore(spec, spec.job("up"), str(tmp_path / "cache"), in_place=True)
    assert result["skipped"] == [] and (uploads / "a.txt").read_text() == "a\n"
    st = os.lstat(app)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (NOBODY, NOBODY, 0o750)


def test_a_dump_restored_to_a_directory_never_goes_through_a_users_symlink_on_the_way(repo: Path, tmp_path: Path):
    home, victim = tmp_path / "home", tmp_path / "victim"
    home.mkdir()
    victim.mkdir(mode=0o755)
    os.chown(home, NOBODY, NOBODY)
    (home / "link").symlink_to(victim)
    os.lchown(home / "link", NOBODY, NOBODY)
    spec = make_spec(str(repo), {"export": {"source": "command", "command": "echo exported",
                                            "filename": "export.txt", "cron": "0 3 * * *"}})
    assert run_backup(spec, spec.job("export"), str(tmp_path / "cache"))["success"]
    with pytest.raises(UnsafePathError, match="not restoring"):
        restore(spec, spec.job("export"), str(tmp_path / "cache"), to=str(home / "link" / "out"))
    assert [f for _, _, files in os.walk(victim) for f in files] == []
    out = restore(spec, spec.job("export"), str(tmp_path / "cache"), to=str(tmp_path / "plain"))
    assert Path(out["restored_to"]).read_text() == "exported\n"


def test_paths_staged_apart_are_kept_out_of_each_others_stage_by_exact_path_not_as_patterns(repo: Path, tmp_path: Path):
    glob_dir, plain_dir = tmp_path / "p?", tmp_path / "p2"      # a real `?` in a directory name
    for d in (glob_dir, plain_dir):
        (d / "data").mkdir(parents=True)
        (d / "data" / "file.txt").write_text(f"from {d.name}\n")
    spec = make_spec(str(repo), {"two": {"source": "files", "cron": "0 3 * * *",
                                         "paths": [str(glob_dir / "data"), str(plain_dir / "data")]}})
    assert run_backup(spec, spec.job("two"), str(tmp_path / "cache"))["success"]
    for d in (glob_dir, plain_dir):
        shutil.rmtree(d / "data")
    result = restore(spec, spec.job("two"), str(tmp_path / "cache"), in_place=True)
    assert result["skipped"] == []
    assert (glob_dir / "data" / "file.txt").read_text() == "from p?\n"
    assert (plain_dir / "data" / "file.txt").read_text() == "from p2\n"   # `p?/data` as a pattern matched it
