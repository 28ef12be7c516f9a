"""A scheduled run a minion did while the master was away, recorded when it ran, and once.

The minion spools such a run as a `scheduled_job` request with its return and:

    run_id    the job id it gave the run when it started (wire.JID_RE), so a request sent
              again after a lost acknowledgement finds the job already recorded
    ran_at    when it started, by the minion's clock

`record_offline_run` records the job under `run_id`, created at `ran_at` (never in the
future, never older than MAX_AGE); a second delivery returns the job recorded the first
time, and its return is stored once (the store is idempotent). A run id that is already
another minion's job is refused.
"""
from __future__ import annotations

import time
from typing import Any

from core import wire
from core.errors import WireError

MAX_AGE = 30 * 86400.0


def record_offline_run(master: Any, minion_id: str, request: dict[str, Any], fun: str, arg: list[Any],
                       kwarg: dict[str, Any], user: str) -> wire.Job | None:
    """The job for a spooled offline run (new or already recorded); None for a live request."""
    run_id, ran_at = request.get("run_id"), request.get("ran_at")
    if run_id is None:
        return None
    if not isinstance(run_id, str) or not wire.JID_RE.match(run_id):
        raise WireError("scheduled_job run_id must be a job id")
    if not isinstance(ran_at, (int, float)) or isinstance(ran_at, bool):
        raise WireError("scheduled_job with a run_id needs ran_at (epoch seconds)")
    now = time.time()
    created = min(max(float(ran_at), now - MAX_AGE), now)
    recorded = master.jobstore.get_job(run_id)
    if recorded is not None:
        if recorded.get("minions") != [minion_id] or recorded.get("user") != user:
            raise WireError(f"run id {run_id} is another job's id")
        return wire.Job(jid=run_id, fun=recorded["fun"], arg=tuple(recorded["arg"]), kwarg=recorded["kwarg"],
                        tgt=minion_id, tgt_type="list", created=recorded["created"], expires=recorded["expires"])
    return master.new_job(fun, arg, kwarg, minion_id, "list", [minion_id], user, jid=run_id, created=created)
