"""Drill results in their own table of the master's SQLite file.

    store = DrillStore(cfg.db_path)
    store.add(result)                          # the daemon, when a drill or rebuild ends
    store.list("web*", limit=20)               # newest first ([DrillResult])
    store.last_passed()                        # {source: time the last passing drill ended}

A rebuild counts as a drill of the lost host: it recovered it, for real.
"""
from __future__ import annotations

import fnmatch
import json

from master.drills.record import DrillResult, result_from_dict
from master.sqlitetable import open_table

_SCHEMA = """
CREATE TABLE IF NOT EXISTS drills (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL,
    source       TEXT NOT NULL,
    onto         TEXT NOT NULL,
    started      REAL NOT NULL,
    finished     REAL NOT NULL,
    total        REAL NOT NULL,
    passed       INTEGER NOT NULL,
    failed_phase TEXT,
    result       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS drills_source ON drills (source, finished);
"""


class DrillStore:
    """Append and read drill results."""

    def __init__(self, db_path: str, readonly: bool = False) -> None:
        self._db = open_table(db_path, _SCHEMA, readonly)

    def add(self, result: DrillResult) -> int:
        """Store a finished drill; its id (also set on `result`)."""
        assert result.finished is not None, "only finished drills are stored"
        failed = result.failed_phase
        cur = self._db.execute(
            "INSERT INTO drills (kind, source, onto, started, finished, total, passed, failed_phase, result)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (result.kind, result.source, result.onto, result.started, result.finished, result.total,
             int(result.passed), failed.name if failed else None,
             json.dumps(result.as_dict(), sort_keys=True, default=str)))
        result.id = int(cur.lastrowid or 0)
        return result.id

    def list(self, target: str = "*", limit: int = 50) -> list[DrillResult]:
        """The newest drills whose source (or host drilled onto) matches the glob `target`."""
        rows = self._db.execute("SELECT id, source, onto, result FROM drills ORDER BY finished DESC, id DESC")
        out: list[DrillResult] = []
        for rid, source, onto, body in rows:
            if not (fnmatch.fnmatchcase(source, target) or fnmatch.fnmatchcase(onto, target)):
                continue
            result = result_from_dict({**json.loads(body), "id": rid})
            out.append(result)
            if len(out) >= limit:
                break
        return out

    def last_passed(self) -> dict[str, float]:
        """{source: when its newest passing drill (or rebuild) ended}."""
        rows = self._db.execute("SELECT source, MAX(finished) FROM drills WHERE passed = 1 GROUP BY source")
        return {str(source): float(ts) for source, ts in rows}

    def drilled(self) -> set[str]:
        """Every source that was ever drilled, passing or not."""
        return {str(r[0]) for r in self._db.execute("SELECT DISTINCT source FROM drills")}

    def close(self) -> None:
        self._db.close()
