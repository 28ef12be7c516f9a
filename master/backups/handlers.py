"""ROUTER handlers for backups: `backup_report` and `backup_progress` (master/handlers.py
ACCEPTED_HANDLERS). Each files what it receives under the authenticated minion id (SECURITY.md
rules 1 and 3), whatever the body says.

    {"type": "backup_report", "report": {run_id, kind, job, success, finished_at, ...}}
        -> {"type": "ack", "stored": bool}          (a re-delivered run_id is not stored twice)
    {"type": "backup_progress", "jid": JID, "job": NAME, "percent_done": 0.4, ...}
        -> {"type": "ack"}                           (relayed to a CLI waiting on that job only)
"""
from __future__ import annotations

import logging
from typing import Any

from core import wire
from core.errors import WireError

log = logging.getLogger("lp.master.backups")

Reply = dict[str, Any]
PROGRESS_FIELDS = ("percent_done", "total_files", "files_done", "total_bytes", "bytes_done", "seconds_elapsed")


def handle_backup_report(master: Any, minion_id: str, request: dict[str, Any]) -> Reply:
    stored = master.backups.receive(minion_id, request.get("report"))
    return wire.message("ack", stored=stored)


def handle_backup_progress(master: Any, minion_id: str, request: dict[str, Any]) -> Reply:
    jid = request.get("jid")
    if not isinstance(jid, str) or not wire.JID_RE.match(jid):
        raise WireError("backup_progress needs the job id")
    targets = master.job_targets(jid)
    if targets is None or minion_id not in targets:
        raise WireError(f"job {jid} did not target {minion_id}")
    progress: dict[str, Any] = {"job": str(request.get("job", ""))[:64]}
    for key in PROGRESS_FIELDS:
        value = request.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            progress[key] = value
    master.job_progress(jid, minion_id, progress)
    return wire.message("ack")
