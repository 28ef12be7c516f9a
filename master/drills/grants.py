"""Pillar-as grants: during a drill, SCRATCH receives SOURCE's pillar, for that drill's jobs only.

The identity of the caller never changes (SECURITY.md rule 1): SCRATCH's authenticated key
maps to SCRATCH. What a grant adds is per-object authorization (rule 3): the pillar request
of a job whose id the master bound to (that job, SCRATCH, SOURCE) is answered with SOURCE's
pillar, until the grant expires with the job or the drill revokes it.

    grants = PillarGrants()
    grants.grant(job.jid, "scratch1", "web1", expires=job.expires, key=SCRATCH_KEY)
    grants.source_for(jid_from_request, "scratch1", key=KEY_NOW)      # "web1", or None
    grants.revoke(job.jid)
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Grant:
    jid: str
    scratch: str
    source: str
    expires: float
    key: str = ""            # SCRATCH's accepted key when granted: a re-keyed id gets nothing


class PillarGrants:
    """The live grants, by job id (thread-safe: pillar compiles run in worker threads)."""

    def __init__(self) -> None:
        self._grants: dict[str, Grant] = {}
        self._lock = threading.Lock()

    def grant(self, jid: str, scratch: str, source: str, expires: float, key: str = "") -> Grant:
        with self._lock:
            grant = Grant(jid, scratch, source, expires, key)
            self._grants[jid] = grant
            return grant

    def source_for(self, jid: object, minion_id: str, now: float | None = None,
                   key: str | None = None) -> str | None:
        """SOURCE when `jid` holds a live grant for the authenticated `minion_id` (and, when
        the grant recorded one, that id's key is still `key`); else None."""
        if not isinstance(jid, str):
            return None
        now = time.time() if now is None else now
        with self._lock:
            self._expire(now)
            grant = self._grants.get(jid)
        if grant is None or grant.scratch != minion_id or (grant.key and grant.key != key):
            return None
        return grant.source

    def revoke(self, jid: str) -> None:
        with self._lock:
            self._grants.pop(jid, None)

    def live(self) -> list[Grant]:
        with self._lock:
            self._expire(time.time())
            return list(self._grants.values())

    def _expire(self, now: float) -> None:
        for jid in [j for j, g in self._grants.items() if g.expires <= now]:
            del self._grants[jid]
