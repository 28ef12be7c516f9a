"""The master's side of drift and lifecycle: receive reports, keep the newest, log events.

One object per daemon (MasterServices holds it as `drift`), over the master's SQLite file:

    drift = DriftService(config.db_path)
    drift.receive_report("web1", wire_report)     # validated; drift found/cleared events
    drift.minion_started("web1", "highstate")     # event
    drift.converged("web1", {...})                # event
    drift.note_keys({"web1": KEY, ...})           # key accepted / revoked events, by difference
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, Mapping

from core.drift import DriftReport, report_from_wire
from core.errors import WireError
from core.keys import fingerprint
from core.wire import MAX_CLOCK_SKEW_S
from master.drift.store import DriftStore
from master.events import (CONVERGED, KEY_ACCEPTED, KEY_REVOKED, MINION_STARTED, EventLog,
                           drift_transition)

log = logging.getLogger("lp.master.drift")

MIN_EVENT_INTERVAL = 1.0   # seconds between two start/converged events of one minion (rule 9)
SEQ_SLACK = 1_000_000      # minions count from their clock in ms: allow this many above it


class DriftService:
    """Drift reports and the event log, as the request handlers and the daemon use them."""

    def __init__(self, db_path: str, mask: Callable[[str], str] | None = None) -> None:
        self.store = DriftStore(db_path)
        self.events = EventLog(db_path)
        self._mask = mask or (lambda s: s)
        self._keys: dict[str, str] | None = None
        self._known_keys: dict[str, str] = {}   # id -> the last key accepted for it (kept after a revocation)
        self._last_event: dict[tuple[str, str], float] = {}
        self._boots: dict[str, float | None] = {}

    def receive_report(self, minion_id: str, data: Any, now: float | None = None,
                       key: str | None = None) -> tuple[bool, DriftReport]:
        """Validate and store a report from `minion_id` (the authenticated id, with its `key`).

        Freshness is the master's: the report is stamped with its receipt time (or the
        minion's earlier claim, for a report kept while the master was away); one dated
        more than MAX_CLOCK_SKEW_S ahead, or whose sequence number jumps past what a
        minion's clock-based counter can reach, is refused (WireError), so it can neither
        look fresh nor lock out the later genuine reports. Returns (stored, report); a
        replayed or late report (sequence not above the stored one for the same key and
        boot) is not stored. Records drift_found / drift_cleared when the status changes.
        """
        when = time.time() if now is None else now
        report = report_from_wire(minion_id, data)
        why = None
        if report.reported_at > when + MAX_CLOCK_SKEW_S:
            why = (f"drift report dated {report.reported_at - when:.0f}s in the future; "
                   "refused (check the minion's clock)")
        elif report.seq > (when + MAX_CLOCK_SKEW_S) * 1000 + SEQ_SLACK:
            why = (f"drift report sequence number {report.seq} jumps ahead of any the minion "
                   "can have counted (or its clock is far ahead); refused")
        if why is not None:
            log.warning("%s: %s", minion_id, why)
            raise WireError(why)
        report = self._masked(report)
        stored, previous = self.store.put(report, received_at=when,
                                          key_finger=None if key is None else fingerprint(key),
                                          boot_at=self._boot_at(minion_id))
        if stored:
            event = drift_transition(previous, report.status)
            if event is not None:
                self.events.record(event, minion_id, {"status": report.status, "drifted": len(report.drifted),
                                                      "failed": len(report.failed),
                                                      "compile_errors": len(report.compile_errors)})
        else:
            log.info("drift report %d from %s is not newer than the stored one; dropped", report.seq, minion_id)
        return stored, report

    def minion_started(self, minion_id: str, startup_states: Any) -> None:
        self._rate_limit(MINION_STARTED, minion_id)
        event = self.events.record(MINION_STARTED, minion_id, {"startup_states": startup_states})
        self._boots[minion_id] = event.ts

    def _boot_at(self, minion_id: str) -> float | None:
        """When the master last heard `minion_id` start (its sequence may start over then)."""
        if minion_id not in self._boots:
            self._boots[minion_id] = self.events.last_time(MINION_STARTED, minion_id)
        return self._boots[minion_id]

    def converged(self, minion_id: str, detail: Mapping[str, Any]) -> None:
        self._rate_limit(CONVERGED, minion_id)
        self.events.record(CONVERGED, minion_id, dict(detail))

    def _rate_limit(self, kind: str, minion_id: str) -> None:
        """WireError when this minion sent the same kind of event less than a second ago."""
        now = time.monotonic()
        last = self._last_event.get((kind, minion_id))
        if last is not None and now - last < MIN_EVENT_INTERVAL:
            raise WireError(f"{kind} sent too often; retry later")
        self._last_event[(kind, minion_id)] = now
        if len(self._last_event) > 100_000:
            self._last_event.clear()

    def note_keys(self, accepted: Mapping[str, str]) -> None:
        """Compare the accepted keys ({id: key}) with the last call; log accepted and revoked.

        An id accepted with another key than before is a new machine (a rebuilt VPS): its
        sequence numbers start over, so the old machine's report is dropped, or it would
        refuse every new report as a replay.
        """
        current = dict(accepted)
        previous, self._keys = self._keys, current
        known, self._known_keys = self._known_keys, {**self._known_keys, **current}
        if previous is None:
            return                       # first look, at start-up: nothing changed yet
        for mid in sorted(current):
            if previous.get(mid) != current[mid]:
                self.events.record(KEY_ACCEPTED, mid, {})
                if known.get(mid, current[mid]) != current[mid]:
                    self.forget(mid)
        for mid in sorted(previous):
            if current.get(mid) != previous[mid]:
                self.events.record(KEY_REVOKED, mid, {})

    def forget(self, minion_id: str) -> None:
        self.store.forget(minion_id)

    def close(self) -> None:
        self.store.close()
        self.events.close()

    def _masked(self, report: DriftReport) -> DriftReport:
        """A second net: mask every secret the master knows in what the minion sent."""
        from core.drift import mask_deep, report_to_wire

        wire_form = report_to_wire(report)
        masked = mask_deep(wire_form, self._mask)
        return report if masked == wire_form else report_from_wire(report.minion_id, masked)
