"""mongodb jobs. No MongoDB server can be installed on these machines (Debian ships none), so
this test uses STAND-IN `mongodump` and `mongorestore` scripts on PATH: it checks the command
lines we run, the exit-status handling (a failed dump never becomes a good snapshot) and the
restore path (`restic dump | mongorestore --archive --drop`), with real restic."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from minion.backup.restore import restore
from minion.backup.run import run_backup
from tests.backup.conftest import make_spec

MONGODUMP = """#!/bin/sh
echo "$@" > "$STANDIN_DIR/mongodump.argv"
[ -e "$STANDIN_DIR/fail" ] && { echo "Failed: connection refused" >&2; exit 1; }
printf 'ARCHIVE-OF-%s' "$(date +%s%N)"
"""
MONGORESTORE = """#!/bin/sh
echo "$@" > "$STANDIN_DIR/mongorestore.argv"
cat > "$STANDIN_DIR/restored.archive"
"""


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name, body in (("mongodump", MONGODUMP), ("mongorestore", MONGORESTORE)):
        path = bindir / name
        path.write_text(body)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    monkeypatch.setenv("STANDIN_DIR", str(tmp_path))
    return tmp_path


def test_mongodb_dump_restore_and_a_failed_dump(repo: Path, standin: Path) -> None:
    spec = make_spec(str(repo), {"mongo": {"source": "mongodb", "database": "linkpeek", "cron": "0 2 * * *"}})
    cache = str(standin / "cache")
    good = run_backup(spec, spec.job("mongo"), cache)
    assert good["success"], good["error"]
    assert (standin / "mongodump.argv").read_text().split() == ["--archive", "--db=linkpeek"]
    (standin / "fail").write_text("")
    bad = run_backup(spec, spec.job("mongo"), cache)
    assert not bad["success"] and "mongodump exited 1: Failed: connection refused" in bad["error"]

    out = restore(spec, spec.job("mongo"), cache, to=str(standin / "copy"))
    archive = Path(out["restored_to"]).read_bytes()
    assert out["restored_to"].endswith("/linkpeek.archive") and archive.startswith(b"ARCHIVE-OF-")
    loaded = restore(spec, spec.job("mongo"), cache, in_place=True)
    assert loaded["snapshot_id"].startswith(good["snapshot_id"]) and loaded["loader"] == "mongorestore"
    assert (standin / "mongorestore.argv").read_text().split() == ["--archive", "--drop", "--nsInclude=linkpeek.*"]
    assert (standin / "restored.archive").read_bytes() == archive
