"""The master opens several tables of one SQLite file; another process that opens and closes the
file (a CLI, `sqlite3 master.db`) must not make the master's later writes vanish.

Closing any descriptor of a file drops all of a process's POSIX locks on it, SQLite's too; the
old open_table opened and closed the file for each table, so the other process's close took
itself for the last connection and deleted the WAL the master went on writing into."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from master.sqlitetable import open_table


def _count_from_another_process(path: Path) -> int:
    code = f"import sqlite3; db = sqlite3.connect('file:{path}?mode=ro', uri=True); " \
           "print(db.execute('SELECT COUNT(*) FROM a').fetchone()[0])"
    return int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def test_writes_stay_visible_after_another_process_closes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "master.db"
    first = open_table(str(path), "CREATE TABLE IF NOT EXISTS a (x INTEGER);")
    second = open_table(str(path), "CREATE TABLE IF NOT EXISTS b (y INTEGER);")
    first.execute("INSERT INTO a VALUES (1)")
    outsider = "import sqlite3, sys; db = sqlite3.connect(sys.argv[1])\nwith db: db.execute('UPDATE a SET x = 2')\ndb.close()"
    subprocess.run([sys.executable, "-c", outsider, str(path)], check=True)
    first.execute("INSERT INTO a VALUES (3)")
    second.execute("INSERT INTO b VALUES (4)")
    assert _count_from_another_process(path) == 2
    first.close()
    second.close()


@pytest.mark.parametrize("name", ["master#1.db", "master?.db", "master%41.db"])
def test_the_cli_reads_a_database_whose_name_sqlite_uris_would_cut(tmp_path, name):
    schema = "CREATE TABLE IF NOT EXISTS jobs (jid TEXT);"
    path = str(tmp_path / name)
    daemon = open_table(path, schema)
    daemon.execute("INSERT INTO jobs VALUES ('j1')")
    cli = open_table(path, schema, readonly=True)
    try:
        assert cli.execute("SELECT jid FROM jobs").fetchall() == [("j1",)]
    finally:
        cli.close()
        daemon.close()
    assert all(entry.startswith(name) for entry in os.listdir(tmp_path))   # no other database made beside it
