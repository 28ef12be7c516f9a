"""drift.check: check this host against the blueprint now and send the report to the master.

What the scheduled drift job and `lpmaster drift --refresh` run: the highstate in test mode
(nothing changes), the managed certificates' expiry, then a `drift` request with the
report. Returns a short summary; the report itself travels on its own request (kept on
disk, and delivered later by the daemon, when the master does not answer).
"""
from __future__ import annotations

from typing import Any

from core.errors import TransportError
from minion.functions import FunctionResult


def check(ctx: Any, window_days: Any = None) -> FunctionResult:
    """Run the drift check and deliver the report; fails when it could not run or be delivered."""
    from minion.certs import DEFAULT_WINDOW_DAYS
    from minion.drift_remote import check_remote, send_report

    drift_conf = getattr(ctx.config, "drift", None) or {}
    window = float(window_days if window_days is not None
                   else drift_conf.get("cert_window_days", DEFAULT_WINDOW_DAYS))
    try:
        report = check_remote(ctx.request, ctx.minion_id, ctx.grains, ctx.config.cache_dir,
                              cert_window_days=window)
    except TransportError as exc:
        return FunctionResult({"status": "not checked", "error": str(exc),
                               "comment": "the master could not be reached; no report was made"},
                              success=False, retcode=1)
    if report is None:
        return FunctionResult({"status": "skipped", "comment": "a state run holds the lock; try again"},
                              success=False, retcode=1)
    reply = send_report(ctx.request, report, ctx.config.spool_dir)
    summary = {"status": report.status, "seq": report.seq, "drifted": len(report.drifted),
               "failed": len(report.failed), "compile_errors": len(report.compile_errors),
               "expiring_certs": len(report.expiring_certs), "delivered": "error" not in reply}
    if "error" in reply:
        summary["error"] = str(reply["error"])
        if "spooled" in reply:
            summary["comment"] = "the master did not answer; the report is kept and sent when it is back"
        return FunctionResult(summary, success=False, retcode=1)
    return FunctionResult(summary)
