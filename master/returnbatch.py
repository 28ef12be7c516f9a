"""Returns stored a burst at a time: one SQLite transaction for all the returns the ROUTER
loop reads at one wakeup (a thousand minions answer a ping together), committed before any
of them is acknowledged, so an ack still means "stored".

    batch = ReturnBatch(jobstore, storage)
    batch.note_job(jid)                 # a job this master made: its returns can be held
    batch.open()                        # the ROUTER loop, before a burst
    batch.hold(jid, minion, ret)        # True: held (new); False: store it now, as before
    failed, exc = batch.commit()        # after the burst, before the acks: (jid, minion) not stored

Whether a return is new is known from memory only for the last MAX_JOBS jobs this process
made (it saw every return they got: held, or stored directly and `noted`); any other return
(an older job, a job from before a restart, a duplicate, a real return after a lost one) is
stored directly, as without a batch, and the job store decides.
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from core.wire import Return

log = logging.getLogger("lp.master.returns")

MAX_JOBS = 64


class ReturnBatch:
    """The returns of one burst, written in one transaction."""

    def __init__(self, jobstore: Any, storage: Any) -> None:
        self.jobstore = jobstore
        self.storage = storage
        self._recent: OrderedDict[str, set[str]] = OrderedDict()   # jid -> the minions that returned
        self._held: list[tuple[str, str, Return]] | None = None
        self._failed: set[tuple[str, str]] = set()
        self._error: Exception | None = None

    def note_job(self, jid: str) -> None:
        self._recent[jid] = set()

    def open(self) -> None:
        self._held, self._failed, self._error = [], set(), None

    def hold(self, jid: str, minion_id: str, ret: Return) -> bool:
        """Hold a new return of a recent job for the burst's transaction; False when it must be
        stored directly (no burst open, an unknown job, or this minion already returned)."""
        returned = self._recent.get(jid)
        if self._held is None or returned is None:
            return False
        if minion_id in returned:
            self.flush()   # what is held goes first: the job store then decides on this one
            return False
        returned.add(minion_id)
        self._held.append((jid, minion_id, ret))
        return True

    def noted(self, jid: str, minion_id: str) -> None:
        """A return of `jid` stored directly (lost, or a real one replacing a lost one)."""
        returned = self._recent.get(jid)
        if returned is not None:
            returned.add(minion_id)

    def flush(self) -> None:
        """Write what is held now (one transaction); a storage failure is kept for `commit`."""
        from master.storage import StorageUnavailable

        held = self._held
        if not held:
            return
        self._held = []
        try:
            with self.storage.writing():
                self.jobstore.add_returns(held)
        except Exception as exc:   # StorageUnavailable: the minions keep them and send again
            if not isinstance(exc, StorageUnavailable):
                log.exception("storing %d returns failed", len(held))
            for jid, mid, _ in held:
                self._failed.add((jid, mid))
                self._recent.get(jid, set()).discard(mid)   # sent again, it is new again
            self._error = exc

    def commit(self) -> tuple[set[tuple[str, str]], Exception | None]:
        """End the burst: write what is held; the (jid, minion) pairs not stored and why."""
        self.flush()
        failed, error = self._failed, self._error
        self._held, self._failed, self._error = None, set(), None
        while len(self._recent) > MAX_JOBS:
            self._recent.popitem(last=False)
        return failed, error
