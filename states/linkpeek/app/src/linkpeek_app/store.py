"""The links table in PostgreSQL: what the app writes and the worker's queue."""
from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

import psycopg2

log = logging.getLogger("linkpeek_app")

SCHEMA = """
CREATE TABLE IF NOT EXISTS links (
    id bigserial PRIMARY KEY,
    url text NOT NULL,
    title text,
    status text NOT NULL DEFAULT 'queued',
    error text,
    created timestamptz NOT NULL DEFAULT now(),
    fetched timestamptz
);
CREATE INDEX IF NOT EXISTS links_queued ON links (id) WHERE status = 'queued';
"""
SCHEMA_LOCK = 7305  # advisory lock id: app and worker may start at the same moment


@dataclass(frozen=True)
class Link:
    id: int
    url: str
    title: str | None
    status: str
    error: str | None


class Store:
    def __init__(self, **connect: Any) -> None:
        self._connect = connect
        self._schema_ready = False

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Store:
        return cls(host=settings["linkpeek.db_host"], port=int(settings.get("linkpeek.db_port", 5432)),
                   dbname=settings["linkpeek.db_name"], user=settings["linkpeek.db_user"],
                   password=settings["linkpeek.db_password"], connect_timeout=5,
                   application_name=settings.get("linkpeek.name", "linkpeek"))

    @contextlib.contextmanager
    def connection(self) -> Iterator[Any]:
        if not self._schema_ready:   # the database was still starting when the app did
            self.ensure_schema()
        conn = psycopg2.connect(**self._connect)
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    def ensure_schema(self) -> None:
        conn = psycopg2.connect(**self._connect)
        try:
            with conn, conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                cur.execute(SCHEMA)
        finally:
            conn.close()
        self._schema_ready = True

    def try_ensure_schema(self) -> bool:
        try:
            self.ensure_schema()
        except psycopg2.Error as exc:
            log.warning("database not ready yet (%s); the schema is made at the first request", exc)
            return False
        return True

    def ping(self) -> None:
        with self.connection() as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM links")
            cur.fetchone()

    def add(self, url: str) -> int:
        with self.connection() as conn, conn.cursor() as cur:
            cur.execute("INSERT INTO links (url) VALUES (%s) RETURNING id", (url,))
            return int(cur.fetchone()[0])

    def latest(self, limit: int = 100) -> list[Link]:
        with self.connection() as conn, conn.cursor() as cur:
            cur.execute("SELECT id, url, title, status, error FROM links ORDER BY id DESC LIMIT %s",
                        (limit,))
            return [Link(*row) for row in cur.fetchall()]

    def claim(self) -> Link | None:
        """Take the oldest queued link (other workers skip it) and mark it fetching."""
        with self.connection() as conn, conn.cursor() as cur:
            cur.execute("UPDATE links SET status = 'fetching' WHERE id = (SELECT id FROM links "
                        "WHERE status = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) "
                        "RETURNING id, url, title, status, error")
            row = cur.fetchone()
            return Link(*row) if row else None

    def done(self, link_id: int, title: str | None, error: str | None) -> None:
        with self.connection() as conn, conn.cursor() as cur:
            cur.execute("UPDATE links SET title = %s, error = %s, fetched = now(), status = %s "
                        "WHERE id = %s", (title, error, "failed" if error else "done", link_id))
