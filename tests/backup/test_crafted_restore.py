"""Restores of crafted snapshots, made with real restic: a source host controls its own
repository, so a drill or rebuild that restores its snapshots must write only the job's
paths (in place) or inside the target (--to), never through a symlink, never a device."""
from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from core.errors import UnsafePathError
from core.restic import Restic
from minion.backup.restore import restore
from minion.backup.run import job_tags, run_backup
from tests.backup.conftest import make_spec


def _backup(spec, name: str, cache: Path) -> str:
    record = run_backup(spec, spec.job(name), str(cache))
    assert record["success"], record
    return record["snapshot_id"]


def test_in_place_never_writes_through_a_symlink_an_earlier_snapshot_left(repo: Path, tmp_path: Path) -> None:
    app, outside, cache = tmp_path / "srv" / "app", tmp_path / "outside", tmp_path / "cache"
    app.mkdir(parents=True)
    outside.mkdir()
    (app / "a").write_text("data")
    (app / "link").symlink_to(outside)
    spec = make_spec(str(repo), {"app": {"source": "files", "cron": "0 3 * * *", "paths": [str(app)]}})
    first = _backup(spec, "app", cache)
    (app / "link").unlink()
    (app / "link").mkdir()
    (app / "link" / "pwned").write_text("evil")
    _backup(spec, "app", cache)
    shutil.rmtree(app)
    restore(spec, spec.job("app"), str(cache), snapshot=first, in_place=True)
    assert os.readlink(app / "link") == str(outside)
    with pytest.raises(UnsafePathError, match="symlink"):
        restore(spec, spec.job("app"), str(cache), in_place=True)
    assert list(outside.iterdir()) == []


def test_in_place_writes_only_the_jobs_paths(repo: Path, tmp_path: Path) -> None:
    app, elsewhere, cache = tmp_path / "srv" / "app", tmp_path / "root" / ".ssh", tmp_path / "cache"
    app.mkdir(parents=True)
    (app / "a").write_text("data")
    elsewhere.mkdir(parents=True)
    (elsewhere / "authorized_keys").write_text("ssh-ed25519 AAAA attacker")
    spec = make_spec(str(repo), {"app2": {"source": "files", "cron": "0 3 * * *", "paths": [str(app)]}})
    _backup(spec, "app2", cache)
    with Restic(spec, str(cache)) as restic:   # the source host backs up more than its pillar says
        outcome = restic.backup_paths([str(app), str(elsewhere)], [], job_tags(spec.job("app2")))
    assert outcome.returncode == 0, outcome.stderr
    shutil.rmtree(elsewhere)
    with pytest.raises(UnsafePathError, match="outside the job's paths"):
        restore(spec, spec.job("app2"), str(cache), in_place=True)
    assert not elsewhere.exists()


def test_a_device_node_is_never_restored(repo: Path, tmp_path: Path) -> None:
    src, cache, to = tmp_path / "src", tmp_path / "cache", tmp_path / "to"
    src.mkdir()
    os.mknod(src / "mem", 0o666 | stat.S_IFCHR, os.makedev(1, 1))
    spec = make_spec(str(repo), {"devs": {"source": "files", "cron": "0 3 * * *", "paths": [str(src)]}})
    _backup(spec, "devs", cache)
    with pytest.raises(UnsafePathError, match="device"):
        restore(spec, spec.job("devs"), str(cache), to=str(to))
    assert not any(stat.S_ISCHR(os.lstat(Path(d, f)).st_mode) for d, _, fs in os.walk(to) for f in fs)


def test_setuid_programs_go_only_into_a_private_directory(repo: Path, tmp_path: Path) -> None:
    src, cache, shared = tmp_path / "srv" / "tools", tmp_path / "cache", tmp_path / "shared"
    src.mkdir(parents=True)
    shutil.copy("/bin/true", src / "rootsh")
    os.chmod(src / "rootsh", 0o4755)
    spec = make_spec(str(repo), {"tools": {"source": "files", "cron": "0 3 * * *", "paths": [str(src)]}})
    _backup(spec, "tools", cache)
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    with pytest.raises(UnsafePathError, match="setuid"):
        restore(spec, spec.job("tools"), str(cache), to=str(shared))
    assert list(shared.iterdir()) == []
    shutil.rmtree(src)
    with pytest.raises(UnsafePathError, match="setuid"):
        restore(spec, spec.job("tools"), str(cache), in_place=True)
    assert not src.exists()
