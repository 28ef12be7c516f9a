"""The master's event log: minion started, converged, drift found/cleared, key accepted/revoked.

Stored in its own table of the master's SQLite database (the path is handed in; the job store
owns the file, this module owns the `events` table). Ids only grow, so a follower polls with
`since(last_id)`.

    log = EventLog("/srv/lp/master.db")
    log.record(MINION_STARTED, "web1", {"startup_states": "highstate"})
    for event in log.since(0): print(format_event(event))
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from core.drift import CLEAN, DRIFTED, FAILING
from master.sqlitetable import open_table

MINION_STARTED = "minion_started"
CONVERGED = "converged"
DRIFT_FOUND = "drift_found"
DRIFT_CLEARED = "drift_cleared"
KEY_ACCEPTED = "key_accepted"
KEY_REVOKED = "key_revoked"
DRILL_PASSED = "drill_passed"      # a drill or rebuild (master/drills/)
DRILL_FAILED = "drill_failed"
PENDING_FULL = "pending_full"      # master/registration.py: new minions cannot register
KEY_PROBLEM = "key_problem"        # a refused key file, or one key under two ids
CLOCK_SKEW = "clock_skew"          # master/clockskew.py
CLOCK_SYNCED = "clock_synced"
KEY_DENIED = "key_denied"          # master/denied.py
MINION_CONNECTED = "minion_connected"   # its job subscription came (master/presence_events.py)
MINION_GONE = "minion_gone"             # ... or went
APPLY_FAILED = "apply_failed"           # a state.* job returned a failure
DRIFT_CHANGED = "drift_changed"         # drifted <-> failing
EVENT_KINDS = (MINION_STARTED, CONVERGED, DRIFT_FOUND, DRIFT_CLEARED, KEY_ACCEPTED, KEY_REVOKED,
               DRILL_PASSED, DRILL_FAILED, PENDING_FULL, KEY_PROBLEM, CLOCK_SKEW, CLOCK_SYNCED,
               KEY_DENIED, MINION_CONNECTED, MINION_GONE, APPLY_FAILED, DRIFT_CHANGED)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    ts        REAL NOT NULL,
    kind      TEXT NOT NULL,
    minion_id TEXT,
    detail    TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
"""


@dataclass(frozen=True)
class Event:
    id: int
    ts: float
    kind: str
    minion_id: str | None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "ts": self.ts, "kind": self.kind, "minion_id": self.minion_id,
                "detail": dict(self.detail)}


class EventLog:
    """Append and read events in the master's database."""

    def __init__(self, db_path: str, readonly: bool = False) -> None:
        """Open (and create) the table; `readonly` for the CLI reading what the daemon wrote."""
        self._db = open_table(db_path, _SCHEMA, readonly)

    def record(self, kind: str, minion_id: str | None, detail: Mapping[str, Any] | None = None,
               ts: float | None = None) -> Event:
        """Append one event (the caller masks secrets in `detail`; keep it small)."""
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind!r}")
        when = time.time() if ts is None else ts
        body = json.dumps(dict(detail or {}), sort_keys=True, default=str)
        cur = self._db.execute("INSERT INTO events (ts, kind, minion_id, detail) VALUES (?, ?, ?, ?)",
                               (when, kind, minion_id, body))
        return Event(int(cur.lastrowid or 0), when, kind, minion_id, json.loads(body))

    def since(self, after_id: int = 0, limit: int = 1000) -> list[Event]:
        """Events with an id above `after_id`, oldest first."""
        rows = self._db.execute("SELECT id, ts, kind, minion_id, detail FROM events WHERE id > ? "
                                "ORDER BY id LIMIT ?", (after_id, limit)).fetchall()
        return [_event(r) for r in rows]

    def last_time(self, kind: str, minion_id: str) -> float | None:
        """When the newest event of `kind` for `minion_id` was recorded, or None."""
        row = self._db.execute("SELECT MAX(ts) FROM events WHERE kind = ? AND minion_id = ?",
                               (kind, minion_id)).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def latest(self, limit: int = 100) -> list[Event]:
        """The newest `limit` events, oldest first."""
        rows = self._db.execute("SELECT id, ts, kind, minion_id, detail FROM events "
                                "ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [_event(r) for r in reversed(rows)]

    def close(self) -> None:
        self._db.close()


def drift_transition(old_status: str | None, new_status: str) -> str | None:
    """The event a new drift report causes: found (clean/none -> drifted/failing), cleared (back
    to clean), changed (drifted <-> failing)."""
    bad = (DRIFTED, FAILING)
    if new_status in bad and old_status not in bad:
        return DRIFT_FOUND
    if new_status == CLEAN and old_status in bad:
        return DRIFT_CLEARED
    if new_status in bad and old_status in bad and new_status != old_status:
        return DRIFT_CHANGED
    return None


def format_event(event: Event) -> str:
    """One line: time, kind, minion, details (control characters escaped)."""
    from master.output import escape_controls

    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(event.ts))
    detail = " ".join(f"{k}={_short(v)}" for k, v in sorted(event.detail.items()))
    return escape_controls(f"{when}  {event.kind:<14} {event.minion_id or '-':<16} {detail}".rstrip())


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _event(row: tuple[Any, ...]) -> Event:
    try:
        detail = json.loads(row[4])
    except ValueError:
        detail = {}
    return Event(int(row[0]), float(row[1]), str(row[2]), row[3], detail if isinstance(detail, dict) else {})
