"""The minion's backup engine against a real restic repository (no master): what a user of
`backup.run` / `backup.restore` notices."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest

from core.restic import Restic
from minion.backup.restore import RestoreError, restore
from minion.backup.run import run_backup
from minion.backup.spec import parse_backup
from tests.backup.conftest import PASSWORD, make_spec


def _tree(root: Path) -> dict[str, tuple]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            st = os.lstat(p)
            rel = str(p.relative_to(root))
            body = os.readlink(p) if p.is_symlink() else (None if p.is_dir() else p.read_bytes())
            out[rel] = (st.st_mode, st.st_uid, st.st_gid, body)
    return out


def test_files_job_restores_byte_identical(repo: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("hello\n")
    (src / "sub" / "bin").write_bytes(os.urandom(70_000))
    os.chmod(src / "a.txt", 0o640)
    os.chown(src / "a.txt", 1234, 4321)
    os.chmod(src / "sub", 0o750)
    (src / "link").symlink_to("a.txt")
    (src / "skip.old").write_text("excluded")
    spec = make_spec(str(repo), {"etc": {"source": "files", "paths": [str(src)], "exclude": ["*.old"],
                                         "cron": "0 4 * * 0"}})
    record = run_backup(spec, spec.job("etc"), str(tmp_path / "cache"))
    assert record["success"], record["error"]
    assert record["snapshot_id"] and record["files"] == 2 and record["bytes_added"] > 0
    out = tmp_path / "out"
    result = restore(spec, spec.job("etc"), str(tmp_path / "cache"), to=str(out))
    assert result["snapshot_id"].startswith(record["snapshot_id"])
    want = _tree(src)
    del want["skip.old"]
    assert _tree(out / str(src).lstrip("/")) == want
    with pytest.raises(RestoreError, match="not empty"):
        restore(spec, spec.job("etc"), str(tmp_path / "cache"), to=str(out))


def test_killed_dump_is_no_good_snapshot_and_latest_stays_the_good_one(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "fail"
    cmd = f"echo good-data; if [ -e {marker} ]; then kill -9 $$; fi"
    spec = make_spec(str(repo), {"dump": {"source": "command", "command": cmd, "filename": "d.txt",
                                          "cron": "0 3 * * *", "restore_command": f"cat > {tmp_path}/loaded"}})
    good = run_backup(spec, spec.job("dump"), str(tmp_path / "cache"))
    marker.write_text("")
    bad = run_backup(spec, spec.job("dump"), str(tmp_path / "cache"))
    assert good["success"] and not bad["success"] and "signal 9" in bad["error"]
    result = restore(spec, spec.job("dump"), str(tmp_path / "cache"), in_place=True)
    assert result["snapshot_id"].startswith(good["snapshot_id"])
    assert (tmp_path / "loaded").read_text() == "good-data\n"

    # a drill: a scratch host handed this pillar restores m1's snapshots, read-only, by host=
    scratch = parse_backup({"repository": str(repo), "password": PASSWORD, "jobs": {
        "dump": {"source": "command", "command": cmd, "filename": "d.txt", "cron": "0 3 * * *"}}}, "scratch")
    with pytest.raises(RestoreError, match="no good snapshot"):
        restore(scratch, scratch.job("dump"), str(tmp_path / "cache2"), to=str(tmp_path / "s0"))
    locks_before = sorted(p.name for p in (repo / "locks").iterdir())
    out = restore(scratch, scratch.job("dump"), str(tmp_path / "cache2"), to=str(tmp_path / "s1"), host="m1")
    assert Path(out["restored_to"]).read_text() == "good-data\n"
    assert sorted(p.name for p in (repo / "locks").iterdir()) == locks_before == []


def test_retention_removes_old_snapshots(repo: Path, tmp_path: Path) -> None:
    spec = make_spec(str(repo), {"keep1": {"source": "command", "command": "date +%s%N", "filename": "t",
                                           "cron": "0 * * * *", "keep": {"last": 1}}})
    first = run_backup(spec, spec.job("keep1"), str(tmp_path / "cache"))
    with Restic(spec, str(tmp_path / "cache")) as restic:     # a run killed mid-way leaves a stale lock
        killed = subprocess.Popen(restic.argv("backup", "--stdin"), env=restic.env(), stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert killed.stdin is not None
        while not any((repo / "locks").iterdir()):
            killed.stdin.write(os.urandom(65536))
        killed.kill()
        killed.wait()
    second = run_backup(spec, spec.job("keep1"), str(tmp_path / "cache"))
    assert second["success"] and "warning" not in second, second.get("warning")
    with Restic(spec, str(tmp_path / "cache")) as restic:
        left = [s["short_id"] for s in restic.snapshots(tags=["lp-job=keep1"])]
    assert left == [second["snapshot_id"]] and first["snapshot_id"] not in left


def test_sqlite_job_under_a_writer_restores_a_sound_database(repo: Path, tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    db.commit()
    stop = threading.Event()

    def writer() -> None:
        conn = sqlite3.connect(path, timeout=30)
        while not stop.is_set():
            conn.execute("INSERT INTO t (body) VALUES (?)", ("x" * 500,))
            conn.commit()
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        spec = make_spec(str(repo), {"lite": {"source": "sqlite", "path": str(path), "cron": "0 * * * *"}})
        record = run_backup(spec, spec.job("lite"), str(tmp_path / "cache"))
    finally:
        stop.set()
        thread.join()
    assert record["success"], record["error"]
    (rows_now,) = db.execute("SELECT COUNT(*) FROM t").fetchone()
    result = restore(spec, spec.job("lite"), str(tmp_path / "cache"), in_place=True)
    assert result["loaded_into"] == str(path)
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    (rows_restored,) = check.execute("SELECT COUNT(*) FROM t").fetchone()
    assert 0 < rows_restored <= rows_now
    out = restore(spec, spec.job("lite"), str(tmp_path / "cache"), to=str(tmp_path / "copy"))
    copy = sqlite3.connect(out["restored_to"])
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_verify_passes_then_finds_a_damaged_pack(repo: Path, tmp_path: Path) -> None:
    """Last in this module: it damages the shared repository."""
    from minion.backup.run import run_verify

    spec = make_spec(str(repo), {}, verify={"cron": "0 5 * * 0", "read_data_subset": "100%"})
    ok = run_verify(spec, str(tmp_path / "cache"))
    assert ok["success"] and ok["kind"] == "verify", ok["error"]
    pack = max((p for p in (repo / "data").rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    data = bytearray(pack.read_bytes())
    data[len(data) // 2] ^= 0xFF
    pack.chmod(0o600)
    pack.write_bytes(bytes(data))
    bad = run_verify(spec, str(tmp_path / "cache"))
    assert not bad["success"] and "restic check failed" in bad["error"]
