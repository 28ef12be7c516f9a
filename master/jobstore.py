"""The master's job store: jobs, returns, minion presence and grains, in SQLite (WAL).

A small interface (`JobStore`) so that another backend (PostgreSQL) can stand in later.
Returns are stored idempotently by (jid, minion): a re-delivered return is not doubled.
The daemon writes; the CLI may open the same file read-only for `jobs` and `status`.
Jobs are kept `keep_jobs` hours (master.yaml, Salt's name; 0 keeps them forever): the
daemon calls `prune` every few seconds, which drops older jobs and their returns in
small batches.
"""
from __future__ import annotations

import contextlib
import json
import time
from typing import Any, Iterable, Iterator, Mapping

from core.wire import Job, Return
from master.sqlitetable import open_table

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    jid TEXT PRIMARY KEY,
    fun TEXT NOT NULL,
    arg TEXT NOT NULL,
    kwarg TEXT NOT NULL,
    tgt TEXT NOT NULL,
    tgt_type TEXT NOT NULL,
    created REAL NOT NULL,
    expires REAL NOT NULL,
    minions TEXT NOT NULL,
    user TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS returns (
    jid TEXT NOT NULL,
    minion TEXT NOT NULL,
    success INTEGER NOT NULL,
    retcode INTEGER NOT NULL,
    ret TEXT NOT NULL,
    received REAL NOT NULL,
    PRIMARY KEY (jid, minion)
);
CREATE TABLE IF NOT EXISTS minions (
    id TEXT PRIMARY KEY,
    last_seen REAL NOT NULL DEFAULT 0,
    grains TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created);
"""


def _dumps(value: Any) -> str:
    return json.dumps(value, default=repr, sort_keys=True)


class JobStore:
    """SQLite-backed store. One connection per process; the daemon owns writes."""

    def __init__(self, path: str, readonly: bool = False) -> None:
        self.db = open_table(path, SCHEMA, readonly)

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction: committed, or rolled back on any error, never left open (a
        transaction left open after a busy or full database would hold every later write)."""
        self.db.execute("BEGIN")
        try:
            yield
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:   # a failed COMMIT may have rolled back already
                self.db.execute("ROLLBACK")
            raise

    # -- jobs ----------------------------------------------------------------------------

    def add_job(self, job: Job, minions: Iterable[str], user: str = "") -> None:
        self.db.execute(
            "INSERT INTO jobs (jid, fun, arg, kwarg, tgt, tgt_type, created, expires, minions, user)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            (job.jid, job.fun, _dumps(list(job.arg)), _dumps(dict(job.kwarg)), job.tgt, job.tgt_type,
             job.created, job.expires, _dumps(sorted(minions)), user))

    def prune(self, created_before: float, batch: int = 1000) -> int:
        """Drop up to `batch` jobs created before `created_before`, with their returns; how many."""
        jids = [row[0] for row in self.db.execute(
            "SELECT jid FROM jobs WHERE created < ? ORDER BY created LIMIT ?", (created_before, batch))]
        if not jids:
            return 0
        marks = ",".join("?" * len(jids))
        with self._transaction():
            self.db.execute(f"DELETE FROM returns WHERE jid IN ({marks})", jids)
            self.db.execute(f"DELETE FROM jobs WHERE jid IN ({marks})", jids)
        return len(jids)

    def job_minions(self, jid: str) -> list[str] | None:
        """The minions a job targeted, or None if there is no such job."""
        row = self.db.execute("SELECT minions FROM jobs WHERE jid=?", (jid,)).fetchone()
        return None if row is None else list(json.loads(row[0]))

    def add_return(self, jid: str, minion_id: str, ret: Return, received: float | None = None) -> bool:
        """Store a return once per (jid, minion); False if it was already there."""
        cur = self.db.execute(
            "INSERT OR IGNORE INTO returns (jid, minion, success, retcode, ret, received)"
            " VALUES (?,?,?,?,?,?)",
            (jid, minion_id, int(ret.success), ret.retcode, _dumps(ret.ret),
             time.time() if received is None else received))
        return cur.rowcount == 1

    def add_returns(self, rows: list[tuple[str, str, Return]]) -> None:
        """Store new returns (jid, minion, ret) in one transaction; one already there is kept."""
        now = time.time()
        with self._transaction():
            self.db.executemany(
                "INSERT OR IGNORE INTO returns (jid, minion, success, retcode, ret, received)"
                " VALUES (?,?,?,?,?,?)",
                [(jid, mid, int(ret.success), ret.retcode, _dumps(ret.ret), now) for jid, mid, ret in rows])

    def replace_lost_return(self, jid: str, minion_id: str, ret: Return, lost_retcode: int) -> bool:
        """Put a real return in place of one recorded as lost (core/jobstate.py); whether it did."""
        cur = self.db.execute(
            "UPDATE returns SET success=?, retcode=?, ret=?, received=? WHERE jid=? AND minion=? AND retcode=?",
            (int(ret.success), ret.retcode, _dumps(ret.ret), time.time(), jid, minion_id, lost_retcode))
        return cur.rowcount == 1

    def returns(self, jid: str) -> dict[str, dict[str, Any]]:
        rows = self.db.execute(
            "SELECT minion, success, retcode, ret, received FROM returns WHERE jid=? ORDER BY minion",
            (jid,)).fetchall()
        return {m: {"success": bool(s), "retcode": rc, "ret": json.loads(r), "received": t}
                for m, s, rc, r, t in rows}

    def list_jobs(self, limit: int = 50) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT j.jid, j.fun, j.arg, j.tgt, j.tgt_type, j.created, j.minions, j.user,"
            " (SELECT COUNT(*) FROM returns r WHERE r.jid = j.jid)"
            " FROM jobs j ORDER BY j.created DESC LIMIT ?", (limit,)).fetchall()
        return [{"jid": jid, "fun": fun, "arg": json.loads(arg), "tgt": tgt, "tgt_type": tt,
                 "created": created, "minions": json.loads(minions), "user": user, "returned": n}
                for jid, fun, arg, tgt, tt, created, minions, user, n in rows]

    def get_job(self, jid: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT jid, fun, arg, kwarg, tgt, tgt_type, created, expires, minions, user"
            " FROM jobs WHERE jid=?", (jid,)).fetchone()
        if row is None:
            return None
        keys = ("jid", "fun", "arg", "kwarg", "tgt", "tgt_type", "created", "expires", "minions", "user")
        job = dict(zip(keys, row))
        for k in ("arg", "kwarg", "minions"):
            job[k] = json.loads(job[k])
        job["returns"] = self.returns(jid)
        return job

    # -- minions -------------------------------------------------------------------------

    def touch_minions(self, seen: Mapping[str, float]) -> None:
        """Record last-seen times (batched by the daemon)."""
        if not seen:
            return
        with self._transaction():
            self.db.executemany(
                "INSERT INTO minions (id, last_seen) VALUES (?, ?)"
                " ON CONFLICT(id) DO UPDATE SET last_seen=max(last_seen, excluded.last_seen)",
                list(seen.items()))

    def set_grains(self, minion_id: str, grains: Mapping[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO minions (id, grains) VALUES (?, ?)"
            " ON CONFLICT(id) DO UPDATE SET grains=excluded.grains",
            (minion_id, _dumps(dict(grains))))

    def minions(self) -> dict[str, dict[str, Any]]:
        """id -> {"last_seen": ts, "grains": {...}} for every minion ever seen."""
        rows = self.db.execute("SELECT id, last_seen, grains FROM minions ORDER BY id").fetchall()
        return {mid: {"last_seen": seen, "grains": json.loads(grains)} for mid, seen, grains in rows}
