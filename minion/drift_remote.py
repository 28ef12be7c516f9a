"""The drift check against the master's tree and pillar, and the report sent over ROUTER.

    report = check_remote(request, "web1", grains, cachedir)      # DriftReport, masked
    send_report(request, report)                                  # a `drift` request
    record_remote_apply(cachedir, prepared, results)              # after each real apply

`request(dict) -> dict` is the minion's synchronous ROUTER call (as remote_apply uses it).
The check holds the host's state-run lock, so it never looks at a host halfway through an
apply; it waits for a running apply to finish (up to LOCK_WAIT), then gives up (None).
"""
from __future__ import annotations

import logging
import os
from typing import Any, Callable, Iterable, Mapping

from core.drift import DriftReport, StaleBackup, report_to_wire
from core.errors import LinkpeekError, RunLockedError
from minion.certs import DEFAULT_WINDOW_DAYS
from minion.drift_check import DriftLedger, Fingerprint, plan_fingerprint, run_drift_check

log = logging.getLogger("lp.minion.drift")

Request = Callable[[dict[str, Any]], dict[str, Any]]
LOCK_WAIT = 120.0     # seconds a check waits for a running apply


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


def send_report(request: Request, report: DriftReport) -> dict[str, Any]:
    """Send the report to the master (`drift` request); the master's reply (ack or error)."""
    try:
        reply = request({"type": "drift", "report": report_to_wire(report)})
    except LinkpeekError as exc:
        log.warning("drift report not delivered: %s", exc)
        return {"error": str(exc)}
    if isinstance(reply, dict) and "error" in reply:
        log.warning("master refused the drift report: %s", reply["error"])
    return reply if isinstance(reply, dict) else {"error": "malformed reply"}


def record_remote_apply(cachedir: str, prepared: Any, results: Mapping[str, Mapping[str, Any]]) -> str | None:
    """After a real (not test) apply: remember its revision when every state succeeded.

    `prepared` is remote_apply's PreparedRun that ran. Returns the revision recorded, or None.
    """
    try:
        fingerprint = plan_fingerprint(prepared.plan.chunks, prepared.pillar, prepared.ctx_for(False).files)
        return fingerprint.revision if DriftLedger(ledger_path(cachedir)).record_apply(fingerprint, results) else None
    except (OSError, LinkpeekError) as exc:
        log.warning("could not record the applied revision: %s", exc)
        return None


def after_apply(request: Request, cachedir: str, prepared: Any, results: Mapping[str, Mapping[str, Any]],
                highstate: bool = True) -> None:
    """The hook remote_apply calls after a real (not test) apply.

    A highstate that fully succeeded becomes the applied revision (what `corrective` compares
    with); any apply that fully succeeded is announced to the master as `converged`.
    """
    if not results or any(r.get("result") is not True for r in results.values()):
        return
    revision = record_remote_apply(cachedir, prepared, results) if highstate else None
    changed = sum(1 for r in results.values() if r.get("changes"))
    message: dict[str, Any] = {"type": "converged", "states": len(results), "changed": changed}
    if revision is not None:
        message["revision"] = revision
    try:
        request(message)
    except Exception as exc:  # the apply succeeded; a lost event must never fail it
        log.info("converged event not delivered: %s", exc)
