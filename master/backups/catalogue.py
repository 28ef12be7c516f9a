"""The backup catalogue, in the master's SQLite file: every run a host reported, and the jobs
its pillar declares.

    cat = Catalogue(config.db_path)
    cat.add_run("web1", record)                  # validated record (record_from_wire); once per run_id
    cat.declare("web1", {"db": ("backup", "0 3 * * *", "postgres")})   # from the pillar the master compiled
    cat.runs("web1", "db")                       # newest first
    cat.declared()                               # {minion: {job: Declared}}

Records belong to the authenticated minion that sent them (SECURITY.md rule 3): the id is
the caller's, never one in the body.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any, Mapping

from core.errors import WireError
from master.sqlitetable import open_table

_SCHEMA = """
CREATE TABLE IF NOT EXISTS backup_runs (
    minion_id   TEXT NOT NULL,
    run_id      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    job         TEXT NOT NULL,
    success     INTEGER NOT NULL,
    finished_at REAL NOT NULL,
    snapshot_id TEXT,
    record      TEXT NOT NULL,
    received_at REAL NOT NULL,
    PRIMARY KEY (minion_id, run_id)
);
CREATE INDEX IF NOT EXISTS backup_runs_job ON backup_runs (minion_id, job, finished_at);
CREATE TABLE IF NOT EXISTS backup_jobs (
    minion_id   TEXT NOT NULL,
    job         TEXT NOT NULL,
    kind        TEXT NOT NULL,
    cron        TEXT NOT NULL,
    source      TEXT NOT NULL,
    declared_at REAL NOT NULL,
    PRIMARY KEY (minion_id, job)
);
"""
MAX_TEXT = 8192
KEEP_RUNS = 200            # per host and job
_STR_FIELDS = ("run_id", "kind", "job", "host", "error", "source", "cron", "snapshot_id", "filename",
               "database", "path", "warning", "discarded_snapshot", "read_data_subset")
_NUM_FIELDS = ("started_at", "finished_at", "duration", "files", "files_new", "files_changed", "bytes_added",
               "total_bytes")
_BOOL_FIELDS = ("success", "producer_failed", "initialised")


@dataclass(frozen=True)
class Declared:
    kind: str          # backup | verify
    cron: str
    source: str


def record_from_wire(data: Any) -> dict[str, Any]:
    """A run record a minion sent, reduced to known fields of the right types; WireError otherwise."""
    if not isinstance(data, Mapping):
        raise WireError("backup report must be a map")
    out: dict[str, Any] = {}
    for key in _STR_FIELDS:
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise WireError(f"backup report: {key} must be a string of bounded size")
        out[key] = value
    for key in _NUM_FIELDS:
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise WireError(f"backup report: {key} must be a finite number")
        out[key] = value
    for key in _BOOL_FIELDS:
        if key in data:
            if not isinstance(data[key], bool):
                raise WireError(f"backup report: {key} must be true or false")
            out[key] = data[key]
    paths = data.get("paths")
    if isinstance(paths, list) and len(paths) <= 100 and all(isinstance(p, str) and len(p) < 4096 for p in paths):
        out["paths"] = list(paths)
    for key in ("run_id", "kind", "job", "finished_at", "success"):
        if key not in out:
            raise WireError(f"backup report: {key} is missing")
    if out["kind"] not in ("backup", "verify") or not 0 < len(out["run_id"]) <= 64 or not 0 < len(out["job"]) <= 64:
        raise WireError("backup report: bad kind, run_id or job")
    return out


class Catalogue:
    """Read and write the two backup tables."""

    def __init__(self, db_path: str, readonly: bool = False) -> None:
        self._db = open_table(db_path, _SCHEMA, readonly)

    def add_run(self, minion_id: str, record: Mapping[str, Any], received_at: float | None = None) -> bool:
        """Store a validated record; False when that run_id was stored already (a re-delivery)."""
        cur = self._db.execute(
            "INSERT OR IGNORE INTO backup_runs (minion_id, run_id, kind, job, success, finished_at, snapshot_id, "
            "record, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (minion_id, record["run_id"], record["kind"], record["job"], int(bool(record["success"])),
             float(record["finished_at"]), record.get("snapshot_id"), json.dumps(dict(record), sort_keys=True),
             time.time() if received_at is None else received_at))
        if cur.rowcount:
            self._db.execute(
                "DELETE FROM backup_runs WHERE minion_id = ? AND job = ? AND run_id NOT IN (SELECT run_id FROM "
                "backup_runs WHERE minion_id = ? AND job = ? ORDER BY finished_at DESC LIMIT ?)",
                (minion_id, record["job"], minion_id, record["job"], KEEP_RUNS))
        return bool(cur.rowcount)

    def declare(self, minion_id: str, jobs: Mapping[str, tuple[str, str, str]], now: float | None = None) -> None:
        """Replace the jobs `minion_id` declares: {job: (kind, cron, source)}."""
        when = time.time() if now is None else now
        self._db.execute("BEGIN IMMEDIATE")
        try:
            have = {r[0]: (r[1], r[2], r[3]) for r in self._db.execute(
                "SELECT job, kind, cron, source FROM backup_jobs WHERE minion_id = ?", (minion_id,))}
            for job in set(have) - set(jobs):
                self._db.execute("DELETE FROM backup_jobs WHERE minion_id = ? AND job = ?", (minion_id, job))
            for job, (kind, cron, source) in jobs.items():
                if have.get(job) != (kind, cron, source):
                    self._db.execute(
                        "INSERT INTO backup_jobs (minion_id, job, kind, cron, source, declared_at) VALUES "
                        "(?, ?, ?, ?, ?, ?) ON CONFLICT(minion_id, job) DO UPDATE SET kind=excluded.kind, "
                        "cron=excluded.cron, source=excluded.source", (minion_id, job, kind, cron, source, when))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def is_declared(self, minion_id: str, job: str) -> bool:
        return self._db.execute("SELECT 1 FROM backup_jobs WHERE minion_id = ? AND job = ?",
                                (minion_id, job)).fetchone() is not None

    def declared(self) -> dict[str, dict[str, Declared]]:
        out: dict[str, dict[str, Declared]] = {}
        for mid, job, kind, cron, source in self._db.execute(
                "SELECT minion_id, job, kind, cron, source FROM backup_jobs ORDER BY minion_id, job"):
            out.setdefault(str(mid), {})[str(job)] = Declared(str(kind), str(cron), str(source))
        return out

    def runs(self, minion_id: str, job: str, limit: int = 50) -> list[dict[str, Any]]:
        """The newest runs of one job, newest first."""
        rows = self._db.execute("SELECT record, finished_at FROM backup_runs WHERE minion_id = ? AND job = ? "
                                "ORDER BY finished_at DESC LIMIT ?", (minion_id, job, limit))
        return [{**json.loads(r[0]), "finished_at": r[1]} for r in rows]

    def last_runs(self) -> dict[tuple[str, str], tuple[dict[str, Any] | None, dict[str, Any] | None]]:
        """{(minion, job): (last run, last good run)} for every job that has runs."""
        out: dict[tuple[str, str], tuple[dict[str, Any] | None, dict[str, Any] | None]] = {}
        last = self._db.execute(
            "SELECT minion_id, job, record, finished_at FROM backup_runs r WHERE finished_at = (SELECT "
            "MAX(finished_at) FROM backup_runs WHERE minion_id = r.minion_id AND job = r.job)")
        for mid, job, rec, when in last:
            out[(str(mid), str(job))] = ({**json.loads(rec), "finished_at": when}, None)
        good = self._db.execute(
            "SELECT minion_id, job, record, finished_at FROM backup_runs r WHERE success = 1 AND finished_at = "
            "(SELECT MAX(finished_at) FROM backup_runs WHERE minion_id = r.minion_id AND job = r.job AND success = 1)")
        for mid, job, rec, when in good:
            key = (str(mid), str(job))
            out[key] = (out.get(key, (None, None))[0], {**json.loads(rec), "finished_at": when})
        return out

    def forget(self, minion_id: str) -> None:
        self._db.execute("DELETE FROM backup_runs WHERE minion_id = ?", (minion_id,))
        self._db.execute("DELETE FROM backup_jobs WHERE minion_id = ?", (minion_id,))

    def close(self) -> None:
        self._db.close()
