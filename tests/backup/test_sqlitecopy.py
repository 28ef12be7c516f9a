"""core.sqlitecopy: SQLite's online backup into a new file or a live database, and the
integrity checks that keep a damaged copy out of a live database."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from core.sqlitecopy import online_copy


def _db(path: Path, rows: int) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
        db.executemany("INSERT INTO t (body) VALUES (?)", [("x" * 300,)] * rows)
    db.close()


def _count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM t").fetchone()[0])


def test_into_a_live_database_its_open_connection_sees_the_copy(tmp_path: Path) -> None:
    _db(tmp_path / "new.db", 50)
    _db(tmp_path / "live.db", 3)
    reader = sqlite3.connect(tmp_path / "live.db")
    assert _count(reader) == 3
    online_copy(str(tmp_path / "new.db"), str(tmp_path / "live.db"), check="source")
    assert _count(reader) == 50
    online_copy(str(tmp_path / "live.db"), str(tmp_path / "copy.db"), check="copy")
    assert _count(sqlite3.connect(tmp_path / "copy.db")) == 50


def test_a_damaged_source_is_refused_before_the_live_database_is_touched(tmp_path: Path) -> None:
    _db(tmp_path / "bad.db", 200)
    data = bytearray((tmp_path / "bad.db").read_bytes())
    data[4096 * 2:4096 * 3] = b"\xff" * 4096           # a page of the table, overwritten
    (tmp_path / "bad.db").write_bytes(bytes(data))
    _db(tmp_path / "live.db", 3)
    with pytest.raises(sqlite3.DatabaseError):
        online_copy(str(tmp_path / "bad.db"), str(tmp_path / "live.db"), check="source")
    assert _count(sqlite3.connect(tmp_path / "live.db")) == 3


def test_a_missing_source_is_an_error_and_makes_no_file(tmp_path: Path) -> None:
    with pytest.raises(sqlite3.Error):
        online_copy(str(tmp_path / "nothing.db"), str(tmp_path / "copy.db"))
    assert not (tmp_path / "copy.db").exists()


@pytest.mark.parametrize("name", ["app#1.db", "what?.db", "50%20off.db"])
def test_a_source_whose_name_uri_syntax_would_cut_is_copied_not_an_empty_one(tmp_path: Path, name: str) -> None:
    _db(tmp_path / name, 7)
    online_copy(str(tmp_path / name), str(tmp_path / "copy.db"), check="copy")
    assert _count(sqlite3.connect(tmp_path / "copy.db")) == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "copy.db"]), "no stray database made"
