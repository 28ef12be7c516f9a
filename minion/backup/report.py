"""Sending a run's record to the master: a `backup_report` request, spooled when it is away.

    deliver(ctx.request, record, spool_dir)    # the reply, or {"error": ..., "spooled": path}

The master files the record under the authenticated minion (SECURITY.md rule 3); `run_id`
makes a re-delivered record count once. Spooled records go into the daemon's one returns
spool (minion.spool.shared: kept in memory there when the disk refuses them) and go out with
the returns, oldest first, after the next heartbeat the master answers (minion/daemon.py).
"""
from __future__ import annotations

import logging
import os
from typing import Any, Callable, Mapping

from core.errors import LinkpeekError

log = logging.getLogger("lp.minion.backup")

Request = Callable[[dict[str, Any]], dict[str, Any]]


def message(record: Mapping[str, Any]) -> dict[str, Any]:
    from core import wire

    return wire.message("backup_report", report=dict(record))


def deliver(request: Request, record: Mapping[str, Any], spool_dir: str) -> dict[str, Any]:
    msg = message(record)
    try:
        reply = request(msg)
    except LinkpeekError as exc:
        from minion.spool import shared

        path = shared(os.path.join(spool_dir, "returns")).put(msg, tag="backup")
        log.warning("backup report not delivered (%s); spooled in %s", exc, path)
        return {"error": str(exc), "spooled": path}
    if isinstance(reply, dict) and reply.get("type") == "error":
        log.warning("master refused the backup report: %s", str(reply.get("error"))[:200])
    return reply if isinstance(reply, dict) else {"error": "malformed reply"}
