"""The latest drift report of each minion, in its own table of the master's SQLite database.

    store = DriftStore("/srv/lp/master.db")
    accepted, previous_status = store.put(report, received_at=time.time())
    reports = store.all()                       # {minion_id: DriftReport}

A report whose sequence number is not above the stored one is refused (a replay or a report
that arrived late), so the store always holds each minion's newest check. Sequences count
per minion key and boot: a report from another key (a rebuilt machine) or sent after a boot
the stored one predates may start over. `reported_at` is stored as the master judges it:
its receipt time, or the minion's earlier claim for a report kept while the master was away.
"""
from __future__ import annotations

import json
import time
from dataclasses import replace

from core.drift import DriftReport, report_from_wire, report_to_wire
from master.sqlitetable import open_table

_SCHEMA = """
CREATE TABLE IF NOT EXISTS drift_reports (
    minion_id   TEXT PRIMARY KEY,
    seq         INTEGER NOT NULL,
    reported_at REAL NOT NULL,
    received_at REAL NOT NULL,
    status      TEXT NOT NULL,
    report      TEXT NOT NULL,
    key_finger  TEXT,
    boot_at     REAL
);
"""
_ADDED_COLUMNS = {"key_finger": "TEXT", "boot_at": "REAL"}   # tables made before issue 14


class DriftStore:
    """Keep and read the newest drift report per minion."""

    def __init__(self, db_path: str, readonly: bool = False) -> None:
        """Open (and create) the table; `readonly` for the CLI reading what the daemon wrote."""
        self._db = open_table(db_path, _SCHEMA, readonly)
        if not readonly:
            have = {row[1] for row in self._db.execute("PRAGMA table_info(drift_reports)")}
            for name, kind in _ADDED_COLUMNS.items():
                if name not in have:
                    self._db.execute(f"ALTER TABLE drift_reports ADD COLUMN {name} {kind}")

    def put(self, report: DriftReport, received_at: float | None = None, key_finger: str | None = None,
            boot_at: float | None = None) -> tuple[bool, str | None]:
        """Store `report` if it is newer than the stored one; return (stored, previous status).

        `key_finger` is the sending key's fingerprint and `boot_at` when the master last heard
        the minion start: a stored report of another key or an earlier boot does not block.
        """
        when = time.time() if received_at is None else received_at
        report = replace(report, reported_at=min(report.reported_at, when))
        body = json.dumps(report_to_wire(report), sort_keys=True)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            row = self._db.execute("SELECT seq, status, key_finger, boot_at FROM drift_reports "
                                   "WHERE minion_id = ?", (report.minion_id,)).fetchone()
            previous = None if row is None else str(row[1])
            restarted = row is not None and (
                (key_finger is not None and row[2] is not None and row[2] != key_finger)
                or (boot_at is not None and (row[3] is None or boot_at > float(row[3]))))
            if row is not None and not restarted and report.seq <= int(row[0]):
                self._db.execute("ROLLBACK")
                return False, previous
            self._db.execute(
                "INSERT INTO drift_reports (minion_id, seq, reported_at, received_at, status, report, "
                "key_finger, boot_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(minion_id) DO UPDATE SET "
                "seq=excluded.seq, reported_at=excluded.reported_at, received_at=excluded.received_at, "
                "status=excluded.status, report=excluded.report, key_finger=excluded.key_finger, "
                "boot_at=excluded.boot_at",
                (report.minion_id, report.seq, report.reported_at, when, report.status, body,
                 key_finger, boot_at))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return True, previous

    def get(self, minion_id: str) -> DriftReport | None:
        row = self._db.execute("SELECT report FROM drift_reports WHERE minion_id = ?", (minion_id,)).fetchone()
        return None if row is None else report_from_wire(minion_id, json.loads(row[0]))

    def all(self) -> dict[str, DriftReport]:
        rows = self._db.execute("SELECT minion_id, report FROM drift_reports").fetchall()
        return {str(mid): report_from_wire(str(mid), json.loads(body)) for mid, body in rows}

    def forget(self, minion_id: str) -> None:
        """Drop a minion's report (its id was accepted with a new key: master/drift/service.py)."""
        self._db.execute("DELETE FROM drift_reports WHERE minion_id = ?", (minion_id,))

    def close(self) -> None:
        self._db.close()
