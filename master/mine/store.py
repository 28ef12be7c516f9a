"""The mine's table: one row per (minion, function), the latest value a minion published."""
from __future__ import annotations

import json
import time
from typing import Any

from master.sqlitetable import open_table

_SCHEMA = """
CREATE TABLE IF NOT EXISTS mine (
    minion_id      TEXT NOT NULL,
    fun            TEXT NOT NULL,
    value          TEXT NOT NULL,
    allow_tgt      TEXT,
    allow_tgt_type TEXT NOT NULL DEFAULT 'glob',
    updated        REAL NOT NULL,
    PRIMARY KEY (minion_id, fun)
);
"""


class MineEntry:
    __slots__ = ("value", "allow_tgt", "allow_tgt_type", "updated")

    def __init__(self, value: Any, allow_tgt: str | None, allow_tgt_type: str, updated: float) -> None:
        self.value = value
        self.allow_tgt = allow_tgt
        self.allow_tgt_type = allow_tgt_type
        self.updated = updated


class MineStore:
    def __init__(self, db_path: str, readonly: bool = False) -> None:
        self._db = open_table(db_path, _SCHEMA, readonly)

    def replace(self, minion_id: str, entries: dict[str, tuple[Any, str | None, str]],
                now: float | None = None) -> None:
        """Make `entries` ({fun: (value, allow_tgt, allow_tgt_type)}) all this minion publishes."""
        when = time.time() if now is None else now
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute("DELETE FROM mine WHERE minion_id = ?", (minion_id,))
            self._db.executemany(
                "INSERT INTO mine (minion_id, fun, value, allow_tgt, allow_tgt_type, updated) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(minion_id, fun, json.dumps(value, sort_keys=True), tgt, tgt_type, when)
                 for fun, (value, tgt, tgt_type) in sorted(entries.items())])
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def entries(self, fun: str, minion_ids: list[str]) -> dict[str, MineEntry]:
        """{minion: entry} of `fun` for those of `minion_ids` that published it."""
        if not minion_ids:
            return {}
        marks = ",".join("?" * len(minion_ids))
        rows = self._db.execute(
            f"SELECT minion_id, value, allow_tgt, allow_tgt_type, updated FROM mine "
            f"WHERE fun = ? AND minion_id IN ({marks})", (fun, *minion_ids)).fetchall()
        return {str(mid): MineEntry(json.loads(value), tgt, str(tgt_type), float(updated))
                for mid, value, tgt, tgt_type, updated in rows}

    def forget(self, minion_id: str) -> None:
        self._db.execute("DELETE FROM mine WHERE minion_id = ?", (minion_id,))

    def close(self) -> None:
        self._db.close()
