"""A consistent copy of a live SQLite database, made with SQLite's online backup API.

    online_copy("/srv/app/app.db", "/tmp/x/copy.db", check="copy")      # a backup source
    online_copy(restored, "/srv/app/app.db", check="source")           # a restore in place

The source is opened read-only and copied page by page under SQLite's own locks, so writers
go on and the copy is what one transaction would see (unlike copying the file and its WAL).
Into a live database, its open connections see the new content. Used by the master's backup
of master.db and the minion's sqlite backups and restores.
"""
from __future__ import annotations

import sqlite3
from typing import Literal

LOCK_TIMEOUT_S = 60.0


class CorruptDatabase(sqlite3.DatabaseError):
    """PRAGMA integrity_check did not say ok; the message is what it said."""


def readonly_uri(path: str) -> str:
    """SQLite's URI opening `path` read-only (quoted: a `#`, `?` or `%` in the name would end or
    change the URI's path, and SQLite would open another file)."""
    from urllib.parse import quote

    return f"file:{quote(path)}?mode=ro"


def online_copy(source: str, dest: str, *, check: Literal["", "source", "copy"] = "",
                timeout: float = LOCK_TIMEOUT_S) -> None:
    """Copy database `source` into `dest` (a new file or a live database).

    check="source": refuse a source that fails PRAGMA integrity_check before `dest` is touched;
    check="copy": check `dest` after the copy. Raises sqlite3.Error (CorruptDatabase for a check).
    """
    src = sqlite3.connect(readonly_uri(source), uri=True, timeout=timeout)
    try:
        if check == "source":
            _check(src)
        dst = sqlite3.connect(dest, timeout=timeout)
        try:
            src.backup(dst)
            if check == "copy":
                _check(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _check(conn: sqlite3.Connection) -> None:
    (result,) = conn.execute("PRAGMA integrity_check").fetchone()
    if result != "ok":
        raise CorruptDatabase(str(result))
