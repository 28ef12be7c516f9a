"""Limits on what unaccepted keys may cost the master, and telling the operator about them.

    guard = RegistrationGuard(events)
    guard.admit(key)          # WireError when this key registered too recently
    guard.pending_full(n)     # log + event (at most once a minute) with the command that clears it
    guard.note_problems(...)  # bad key files / one key under two ids: an event when they change

A CURVE connection carries exactly one key, so the per-key interval is the per-connection
limit. A flood of fresh keys is bounded by the pending cap (`max_pending_keys`); each such
registration costs the event loop a dictionary update (the key file is written by the
key store's writer thread), so accepted minions are not slowed.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from core.errors import WireError
from master.events import KEY_PROBLEM, PENDING_FULL

log = logging.getLogger("lp.master.keys")

REGISTER_MIN_INTERVAL_S = 0.5     # one key (one connection) registers at most this often
NOTICE_INTERVAL_S = 60.0

CLEAR_HINT = ("review them with `lpmaster keys list`, delete unknown ones with "
              "`lpmaster keys delete 'GLOB' --state pending`, or raise max_pending_keys in master.yaml")


class RegistrationGuard:
    """Rate limits for `register` from unaccepted keys, and the operator notices."""

    def __init__(self, events: Any = None) -> None:
        self._events = events
        self._last_by_key: dict[str, float] = {}
        self.registered_at: dict[str, float] = {}    # key -> wall-clock time of its last register
        self._last_full_notice = -NOTICE_INTERVAL_S
        self._problems: list[str] = []

    def admit(self, key: str) -> None:
        """Refuse a register from `key` sent less than REGISTER_MIN_INTERVAL_S after its last."""
        now = time.monotonic()
        if now - self._last_by_key.get(key, -REGISTER_MIN_INTERVAL_S) < REGISTER_MIN_INTERVAL_S:
            raise WireError("register rate limit: retry later")
        self._last_by_key[key] = now
        self.registered_at[key] = time.time()
        if len(self._last_by_key) > 20_000:
            self._last_by_key = {k: t for k, t in self._last_by_key.items()
                                 if now - t < REGISTER_MIN_INTERVAL_S}
            self.registered_at = {k: self.registered_at[k] for k in self._last_by_key if k in self.registered_at}

    def pending_full(self, count: int, cap: int) -> str:
        """The refusal text for a full pending list; log and record an event now and then."""
        text = (f"the pending key list is full ({count} of max_pending_keys {cap}): new minions "
                f"cannot register until it is cleared; {CLEAR_HINT}")
        now = time.monotonic()
        if now - self._last_full_notice >= NOTICE_INTERVAL_S:
            self._last_full_notice = now
            log.warning("%s", text)
            self._record(PENDING_FULL, {"pending": count, "max_pending_keys": cap, "how_to_clear": CLEAR_HINT})
        return text

    def note_problems(self, problems: list[str]) -> None:
        """An event listing the key store's refused files and shared keys, when that list changes."""
        if problems == self._problems:
            return
        self._problems = list(problems)
        if problems:
            log.error("key store problems (these keys are not served): %s", "; ".join(problems))
            self._record(KEY_PROBLEM, {"problems": problems[:20], "count": len(problems)})

    def _record(self, kind: str, detail: dict[str, Any]) -> None:
        if self._events is None:
            return
        try:
            self._events.record(kind, None, detail)
        except Exception:  # the notice must never fail a request
            log.exception("could not record a %s event", kind)
