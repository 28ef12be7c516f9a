"""A key denied because its id is already accepted with another key: said once, as an event.

A minion with a denied key retries its registration every few seconds; the master logs the
conflict once per key (not at every retry) and records a `key_denied` event, both with what
to do: use another id on that host, or delete the old key if the host was rebuilt.
"""
from __future__ import annotations

import logging
from typing import Any

from master.presence_events import record_quietly

log = logging.getLogger("lp.master.keys")

MAX_REMEMBERED = 10_000


class DeniedNotices:
    def __init__(self, events: Any) -> None:
        self.events = events
        self._told: set[str] = set()

    def denied(self, minion_id: str, key: str) -> None:
        if key in self._told:
            return
        if len(self._told) >= MAX_REMEMBERED:
            self._told.clear()
        self._told.add(key)
        log.warning("a new key asked to join as %s, which is already accepted with another key; denied "
                    "(another host uses that id: give it another id; a rebuilt host: "
                    "lpmaster keys delete %s --accepted, then accept the new key)", minion_id, minion_id)
        record_quietly(self.events, "key_denied", minion_id, {"reason": "id already accepted with another key"})
