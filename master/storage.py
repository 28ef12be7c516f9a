"""The master's storage health: a store that is full or busy is told apart from a refusal.

A write that fails because the disk is full (or the database is locked, or the disk
errs) is worth retrying once there is space; the request handlers answer it with an
error reply that carries `retry: true`, so the minion keeps what it sent (in its spool)
and sends it again. `StorageHealth` remembers the problem until a write succeeds again,
for `lpmaster status` and the waiting CLI, and logs it once per episode.

    health = StorageHealth()
    with health.writing():
        jobstore.add_return(...)          # StorageUnavailable (retry = True) when full
    health.as_dict()                      # {} or {"problem": "full", "since": ts, "error": ...}
"""
from __future__ import annotations

import contextlib
import errno
import logging
import sqlite3
import time
from typing import Any, Iterator

from core import wire
from core.errors import LinkpeekError

log = logging.getLogger("lp.master.storage")

FULL = "full"
BUSY = "busy"
IO_ERROR = "disk error"


class StorageUnavailable(LinkpeekError):
    """The master could not write its store now; the sender should keep its data and retry."""

    retry = True

    def __init__(self, problem: str, detail: str) -> None:
        self.problem, self.detail = problem, detail
        super().__init__(f"the master's storage is {problem} ({detail}); nothing was recorded: "
                         "free space for the master's database and try again")


def classify(exc: BaseException) -> str | None:
    """FULL, BUSY or IO_ERROR when `exc` is a storage failure a retry can outlive, else None."""
    if isinstance(exc, StorageUnavailable):
        return exc.problem
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        if "full" in text:
            return FULL
        if "locked" in text or "busy" in text:
            return BUSY
        if "disk i/o error" in text:
            return IO_ERROR
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return FULL
    return None


class StorageHealth:
    """Whether the master's last write failed for lack of space (or a busy database)."""

    def __init__(self) -> None:
        self.problem: str | None = None
        self.since: float | None = None
        self.detail = ""

    def failed(self, exc: BaseException) -> StorageUnavailable | None:
        """Note a failed write; the StorageUnavailable to raise, or None for any other error."""
        problem = classify(exc)
        if problem is None:
            return None
        detail = exc.detail if isinstance(exc, StorageUnavailable) else str(exc)
        if self.problem is None:
            self.since = time.time()
            log.error("the master's storage is %s (%s): minions keep their returns and reports "
                      "and send them again; free space for the master's database", problem, detail)
        self.problem, self.detail = problem, detail
        return exc if isinstance(exc, StorageUnavailable) else StorageUnavailable(problem, detail)

    def ok(self) -> None:
        if self.problem is not None:
            log.warning("the master's storage is writable again (it was %s for %.0f s)",
                        self.problem, time.time() - (self.since or time.time()))
        self.problem, self.since, self.detail = None, None, ""

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Run a write: StorageUnavailable (from the original error) on a storage failure."""
        try:
            yield
        except Exception as exc:
            unavailable = self.failed(exc)
            if unavailable is None or unavailable is exc:
                raise
            raise unavailable from exc
        self.ok()

    def as_dict(self) -> dict[str, Any]:
        if self.problem is None:
            return {}
        return {"problem": self.problem, "since": self.since, "error": self.detail}


def error_reply(exc: BaseException, health: StorageHealth, rid: Any = None) -> dict[str, Any] | None:
    """The reply for a handler's exception: a LinkpeekError's own text, `retry: true` for a
    storage failure; None for anything else (an internal error the caller logs)."""
    unavailable = health.failed(exc)
    if unavailable is not None:
        reply = wire.error_reply(str(unavailable), rid)
        reply["retry"] = True
        return reply
    if isinstance(exc, LinkpeekError):
        reply = wire.error_reply(str(exc), rid)
        if getattr(exc, "retry", False):
            reply["retry"] = True
        return reply
    return None


def unstored_warning(unstored: list[str], storage: dict[str, Any] | None) -> str | None:
    """What the CLI prints when returns reached it that the master could not store yet."""
    if not unstored and not storage:
        return None
    why = f"{storage.get('problem', 'unavailable')} ({storage.get('error', '')})" if storage else "unavailable"
    text = f"lpmaster: warning: the master's storage is {why}"
    if unstored:
        text += (f"; the return(s) of {', '.join(sorted(unstored))} shown above are not stored yet: each "
                 "minion keeps its return and sends it again until the master has stored it")
    return text + "; free space for the master's database (lpmaster status shows when it is writable again)"
