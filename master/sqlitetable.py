"""Open the master's SQLite file for one module's own tables (jobs, drift reports, events).

The daemon opens it read-write (WAL, schema created); the CLI opens it read-only, and a
database or table that does not exist yet reads as empty rather than failing.
"""
from __future__ import annotations

import os
import sqlite3

from core.sqlitecopy import readonly_uri


def open_table(db_path: str, schema: str, readonly: bool = False) -> sqlite3.Connection:
    """A connection to `db_path` with `schema` applied (read-write) or visible (read-only)."""
    if readonly:
        if os.path.exists(db_path):
            db = sqlite3.connect(readonly_uri(db_path), uri=True, timeout=30, check_same_thread=False)
            if _has_tables(db, schema):
                return db
            db.close()
        db = sqlite3.connect(":memory:", check_same_thread=False)
        db.executescript(schema)
        return db
    if not os.path.exists(db_path):
        # Create it 0600 before any connection exists. Never open and close the file once one
        # does: closing any descriptor of it drops every POSIX lock this process holds on it, SQLite's
        # included, and another process closing its connection then deletes the WAL under ours.
        try:
            os.close(os.open(db_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
    db = sqlite3.connect(db_path, timeout=30, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")   # no fsync per write on the event loop
    db.executescript(schema)
    return db


def _has_tables(db: sqlite3.Connection, schema: str) -> bool:
    import re

    wanted = set(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", schema))
    have = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return wanted <= have
