"""The drift check against the master's tree and pillar, and the report sent over ROUTER.

    report = check_remote(request, "web1", grains, cachedir)      # DriftReport, masked
    send_report(request, report, spool_dir)                       # a `drift` request; kept on disk
                                                                  # when the master is away
    record_remote_apply(cachedir, prepared, results)              # after each real apply

`request(dict) -> dict` is the minion's synchronous ROUTER call (as remote_apply uses it).
The check holds the host's state-run lock, so it never looks at a host halfway through an
apply; it waits for a running apply to finish (up to LOCK_WAIT), then gives up (None).

A report the master did not get is kept in one file beside the return spool
(`<spool_dir>/drift-report.json`): only the newest matters (the master keeps the latest
per minion), so a newer one replaces it. The daemon delivers it with the spooled returns
(`spooled_report` / `clear_spooled_report`); the master drops it if it already holds a
newer report (sequence numbers).
"""
from __future__ import annotations

import json
import logging
import os
import threading
from typing import Any, Callable, Iterable, Mapping

from core.drift import DriftReport, StaleBackup, report_to_wire
from core.errors import LinkpeekError, RunLockedError
from minion.certs import DEFAULT_WINDOW_DAYS
from minion.drift_check import DriftLedger, Fingerprint, all_succeeded, plan_fingerprint, run_drift_check

log = logging.getLogger("lp.minion.drift")

Request = Callable[[dict[str, Any]], dict[str, Any]]
LOCK_WAIT = 120.0     # seconds a check waits for a running apply
_SPOOLED_REPORT_LOCK = threading.Lock()   # the check's worker thread vs the daemon's delivery


def ledger_path(cachedir: str) -> str:
    return os.path.join(cachedir, "drift.json")


def check_remote(request: Request, minion_id: str, grains: Mapping[str, Any], cachedir: str, *,
                 cert_window_days: float = DEFAULT_WINDOW_DAYS, opts: Mapping[str, Any] | None = None,
                 now: float | None = None, lock_wait: float = LOCK_WAIT,
                 stale_backups: Callable[[], Iterable[StaleBackup]] | None = None) -> DriftReport | None:
    """Run the highstate in test mode plus the certificate checks (and `stale_backups()`, the
    backup jobs whose last good snapshot is too old, once backups exist).

    Waits up to `lock_wait` seconds for a running apply to finish (a check must not look at a
    host halfway through one); None when it is still running then.
    """
    from core.masking import Masker
    from minion.remote_apply import prepare_remote
    from minion.state.lock import state_run_lock

    masker = Masker()
    ledger = DriftLedger(ledger_path(cachedir))
    prepared: dict[str, Any] = {}

    def compile_plan() -> tuple[Any, Any]:
        run = prepare_remote(request, minion_id, grains, cachedir, None, opts, masker)
        prepared["run"] = run
        return run.plan.chunks, run.pillar

    def run_test(chunks: Any) -> Any:
        return prepared["run"].run(chunks, test=True)

    def fingerprint_for(chunks: Any, pillar: Any) -> Fingerprint:
        return plan_fingerprint(chunks, pillar, prepared["run"].ctx_for(True).files)

    try:
        with state_run_lock(cachedir, "drift check", wait=lock_wait):
            return run_drift_check(minion_id, compile_plan=compile_plan, run_test=run_test, ledger=ledger,
                                   mask=masker.mask_for_users, now=now, cert_window_days=cert_window_days,
                                   fingerprint_for=fingerprint_for, stale_backups=stale_backups)
    except RunLockedError as exc:
        log.info("drift check skipped: %s", exc)
        return None


def send_report(request: Request, report: DriftReport, spool_dir: str | None = None) -> dict[str, Any]:
    """Send the report to the master (`drift` request); the master's reply (ack or error).

    With `spool_dir`, a report the master did not answer is kept there for later delivery
    (the reply then has `spooled`), and a delivered one clears any older kept report.
    """
    wire_report = report_to_wire(report)
    try:
        reply = request({"type": "drift", "report": wire_report})
    except LinkpeekError as exc:
        if spool_dir is None:
            log.warning("drift report not delivered: %s", exc)
            return {"error": str(exc)}
        path = spool_report(spool_dir, wire_report)
        log.warning("drift report not delivered (%s); kept in %s", exc, path)
        return {"error": str(exc), "spooled": path}
    if isinstance(reply, dict) and "error" in reply and reply.get("retry") and spool_dir is not None:
        path = spool_report(spool_dir, wire_report)
        log.warning("the master could not store the drift report now (%s); kept in %s", reply["error"], path)
        return {**reply, "spooled": path}
    if isinstance(reply, dict) and "error" in reply:
        log.warning("master refused the drift report: %s", reply["error"])
    elif spool_dir is not None:
        clear_spooled_report(spool_dir, report.seq)
    return reply if isinstance(reply, dict) else {"error": "malformed reply"}


def spooled_report_path(spool_dir: str) -> str:
    from minion.spool import kept_drift_report_path

    return kept_drift_report_path(spool_dir)


def spool_report(spool_dir: str, wire_report: Mapping[str, Any]) -> str:
    """Keep `wire_report` (durably, 0600) as the one undelivered report, replacing an older one."""
    from minion.statefile import write_json_atomic

    path = spooled_report_path(spool_dir)
    with _SPOOLED_REPORT_LOCK:
        kept = _read_spooled(path)
        if kept is None or _seq(kept) < _seq(wire_report):
            write_json_atomic(path, dict(wire_report))
    return path


def spooled_report(spool_dir: str) -> dict[str, Any] | None:
    """The undelivered report (wire form), or None."""
    with _SPOOLED_REPORT_LOCK:
        return _read_spooled(spooled_report_path(spool_dir))


def clear_spooled_report(spool_dir: str, seq: int) -> None:
    """Forget the kept report once the master has one at least as new (`seq`)."""
    path = spooled_report_path(spool_dir)
    with _SPOOLED_REPORT_LOCK:
        kept = _read_spooled(path)
        if kept is not None and _seq(kept) <= seq:
            os.unlink(path)


def _read_spooled(path: str) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("kept drift report %s unreadable (%s); set aside", path, exc)
        try:
            os.replace(path, path + ".bad")
        except OSError:
            pass
        return None
    return data if isinstance(data, dict) else None


def _seq(wire_report: Mapping[str, Any]) -> int:
    seq = wire_report.get("seq")
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else -1


def converged_report(minion_id: str, prepared: Any, revision: str, seq: int,
                     now: float | None = None) -> DriftReport:
    """The report of a host a highstate just converged: nothing drifted at `revision`; the
    certificates it manages are checked as a drift check would. `seq`: the sequence number
    taken with the revision (DriftLedger.record_converged)."""
    import time

    from core.drift import build_report
    from minion.certs import expiring, find_certificates, managed_paths

    when = time.time() if now is None else now
    chunks = prepared.plan.chunks
    certs = expiring(find_certificates(managed_paths(chunks)), now=when, window_days=DEFAULT_WINDOW_DAYS)
    return build_report(minion_id, {}, revision=revision, applied_revision=revision,
                        seq=seq, reported_at=when, expiring_certs=certs)


def record_remote_apply(cachedir: str, prepared: Any, results: Mapping[str, Mapping[str, Any]],
                        take_seq: bool = False) -> tuple[str, int | None] | None:
    """After a real (not test) apply: remember its revision when every state succeeded.

    `prepared` is remote_apply's PreparedRun that ran. Returns (the revision recorded, the
    report's sequence number taken in the same write when `take_seq`), or None.
    """
    try:
        fingerprint = plan_fingerprint(prepared.plan.chunks, prepared.pillar, prepared.ctx_for(False).files)
        ledger = DriftLedger(ledger_path(cachedir))
        if take_seq:
            seq = ledger.record_converged(fingerprint, results)
            return None if seq is None else (fingerprint.revision, seq)
        return (fingerprint.revision, None) if ledger.record_apply(fingerprint, results) else None
    except (OSError, LinkpeekError) as exc:
        log.warning("could not record the applied revision: %s", exc)
        return None


def after_apply(request: Request, cachedir: str, prepared: Any, results: Mapping[str, Mapping[str, Any]],
                highstate: bool = True, minion_id: str | None = None) -> None:
    """The hook remote_apply calls after a real (not test) apply.

    A highstate that fully succeeded becomes the applied revision (what `corrective` compares
    with) and, with `minion_id`, this host's drift report: it matches the blueprint now, so
    `lpmaster drift` stops showing what the apply just fixed. Any apply that fully succeeded
    is announced to the master as `converged`.
    """
    if not all_succeeded(results):
        return
    recorded = record_remote_apply(cachedir, prepared, results, take_seq=minion_id is not None) \
        if highstate else None
    revision, seq = recorded if recorded is not None else (None, None)
    if seq is not None and minion_id is not None:   # seq is taken only with a revision and an id
        try:
            send_report(request, converged_report(minion_id, prepared, revision, seq))
        except Exception as exc:  # the apply succeeded; the next check reports in any case
            log.info("drift report after the apply not delivered: %s", exc)
    changed = sum(1 for r in results.values() if r.get("changes"))
    message: dict[str, Any] = {"type": "converged", "states": len(results), "changed": changed}
    if revision is not None:
        message["revision"] = revision
    try:
        request(message)
    except Exception as exc:  # the apply succeeded; a lost event must never fail it
        log.info("converged event not delivered: %s", exc)
