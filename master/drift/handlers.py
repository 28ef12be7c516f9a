"""ROUTER handlers for drift and the minion lifecycle: `drift`, `minion_started`, `converged`.

Each receives the authenticated minion id (SECURITY.md rule 1); a report or event is
always filed under that id, whatever the body says. Registered in master/handlers.py
ACCEPTED_HANDLERS. `master` is MasterServices, which holds
a DriftService as `drift`.

    {"type": "drift", "report": {...core.drift wire form...}}          -> {"type": "ack", "seq": N, "stored": bool}
    {"type": "minion_started", "startup_states": "highstate" | "none" | [SLS, ...]}
                                   -> {"type": "started", "jid": JID or None, "fun": ..., "arg": [...]}
    {"type": "converged", "revision": ..., "states": N, "changed": N}  -> {"type": "ack"}
    {"type": "scheduled_job", "name": NAME, "fun": ..., "arg": [...], "kwarg": {...}, "return": {...}?}
                                   -> {"type": "started", "jid": JID, "fun": ..., "arg": [...], "kwarg": {...}}

`minion_started` records a job (`state.highstate`, or `state.apply` with the SLS list)
targeting only that minion, so the converge-on-boot it then runs returns into the job
store like any apply. `scheduled_job` does the same for a job of the minion's schedule
(recorded with user `schedule:NAME`); a minion that ran one while the master was away
sends it later with its `return` (success, ret, retcode), stored at once under the new job.
"""
from __future__ import annotations

import logging
from typing import Any

from core import wire
from core.errors import WireError
from core.slsname import SLS_NAME

log = logging.getLogger("lp.master.drift")

Reply = dict[str, Any]
MAX_STARTUP_SLS = 100


def handle_drift(master: Any, minion_id: str, request: dict[str, Any]) -> Reply:
    stored, report = master.drift.receive_report(minion_id, request.get("report"),
                                                 key=master.keystore.accepted_key(minion_id))
    return wire.message("ack", seq=report.seq, stored=stored)


def handle_minion_started(master: Any, minion_id: str, request: dict[str, Any]) -> Reply:
    fun, arg = startup_job(request.get("startup_states", "highstate"))
    master.drift.minion_started(minion_id, "none" if fun is None else (list(arg) or "highstate"))
    if fun is None:
        return wire.message("started", jid=None)
    job = record_own_job(master, minion_id, fun, list(arg), {}, "startup")
    log.info("%s started; converge-on-boot job %s (%s)", minion_id, job.jid, fun)
    return wire.message("started", jid=job.jid, fun=fun, arg=list(arg), expires=job.expires)


def handle_scheduled_job(master: Any, minion_id: str, request: dict[str, Any]) -> Reply:
    """Record a job of the minion's own schedule; store its return too when it came along."""
    name, fun = request.get("name"), request.get("fun")
    arg, kwarg = request.get("arg", []), request.get("kwarg", {})
    if not isinstance(name, str) or not 0 < len(name) <= 200 or not name.isprintable():
        raise WireError("scheduled_job needs a name (printable, at most 200 characters)")
    if not isinstance(fun, str) or not wire.FUNCTION_RE.fullmatch(fun):
        raise WireError("scheduled_job has an invalid function name")
    if not isinstance(arg, list) or not isinstance(kwarg, dict):
        raise WireError("scheduled_job arg must be a list and kwarg a map")
    ret = request.get("return")
    if ret is not None and not isinstance(ret, dict):
        raise WireError("scheduled_job return must be a map")
    master.scheduled_rate.take(minion_id)  # TooOften (retry: the minion keeps the job)
    from master.offline_runs import record_offline_run

    job = record_offline_run(master, minion_id, request, fun, arg, kwarg, f"schedule:{name}")
    if job is None:
        job = record_own_job(master, minion_id, fun, arg, kwarg, f"schedule:{name}")
    if ret is not None:
        master.store_return(minion_id, wire.Return.from_map({**ret, "jid": job.jid, "fun": fun}))
    return wire.message("started", jid=job.jid, fun=fun, arg=list(arg), kwarg=dict(kwarg), expires=job.expires)


def record_own_job(master: Any, minion_id: str, fun: str, arg: list[Any], kwarg: dict[str, Any],
                   user: str) -> wire.Job:
    """Record a job targeting only `minion_id` (one it runs on its own: boot converge, schedule)."""
    return master.new_job(fun, arg, kwarg, minion_id, "list", [minion_id], user)


def handle_converged(master: Any, minion_id: str, request: dict[str, Any]) -> Reply:
    detail = {k: request[k] for k in ("revision", "states", "changed", "jid")
              if isinstance(request.get(k), (str, int)) and not isinstance(request.get(k), bool)}
    master.drift.converged(minion_id, {k: (v[:100] if isinstance(v, str) else v) for k, v in detail.items()})
    return wire.message("ack")


def startup_job(startup_states: Any) -> tuple[str | None, list[str]]:
    """`highstate` -> state.highstate; `none` -> nothing; a list of SLS -> state.apply with them."""
    if startup_states in (None, "none", False, ""):
        return None, []
    if startup_states == "highstate":
        return "state.highstate", []
    if isinstance(startup_states, str):
        startup_states = [s.strip() for s in startup_states.split(",") if s.strip()]
    if (isinstance(startup_states, list) and 0 < len(startup_states) <= MAX_STARTUP_SLS
            and all(isinstance(s, str) and len(s) <= 200 and SLS_NAME.fullmatch(s) for s in startup_states)):
        return "state.apply", list(startup_states)
    raise WireError("startup_states must be 'highstate', 'none' or a list of SLS names")
