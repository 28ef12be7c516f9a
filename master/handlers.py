"""What the master answers on its ROUTER socket: one explicit table per kind of caller.

Default deny (SECURITY.md rule 2): a request type that is not in the caller's table is
refused. An unaccepted key may only `register`. An accepted minion's handlers receive
the minion id that its authenticated CURVE key maps to (never an id from the body).

Adding a request type (e.g. `pillar`, `file`, `drift`) is one entry in
`ACCEPTED_HANDLERS` and one function:

    def handle_pillar(master: MasterServices, minion_id: str, request: dict) -> dict:
        return wire.message("pillar", data=...)

A handler returns the reply map (or an awaitable of it, for work done off the loop with
`asyncio.to_thread`); raising a LinkpeekError replies with its message as an error.
`MasterServices` (master/services.py) gives handlers the config, key store, job store
and presence.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Awaitable, Callable, Union

from core import wire
from core.errors import KeyStoreError, WireError
from master import remote_handlers
from master.drift import handlers as drift_handlers
from master.mine import handlers as mine_handlers
from master.backups import handlers as backup_handlers
from master.keystore import ACCEPTED, DENIED, PendingFull
from master.services import MasterServices

log = logging.getLogger("lp.master.handlers")

Reply = dict[str, Any]
Handler = Callable[[MasterServices, str, dict[str, Any]], Union[Reply, Awaitable[Reply]]]

MAX_GRAINS_BYTES = 256 * 1024


def _registered_reply(master: MasterServices, state: str) -> Reply:
    return wire.message("registered", state=state, publish_port=master.config.publish_port)


def handle_register_unaccepted(master: MasterServices, key: str, request: dict[str, Any]) -> Reply:
    """A not-yet-accepted key asks to join as the id it claims: record it (pending/denied).

    Rate-limited per key (master/registration.py); a full pending list is refused with the
    command that clears it (logged and recorded as an event now and then).
    """
    minion_id = wire.check_minion_id(request.get("id"))
    guard = master.registration
    guard.admit(key)
    store = master.keystore
    entry = store.lookup(key)
    if entry is not None and entry.minion_id != minion_id:
        raise WireError(f"this key is registered as {entry.minion_id!r}")
    cap = master.config.max_pending_keys
    try:
        state = store.register(minion_id, key, cap)
    except PendingFull:
        raise WireError(guard.pending_full(store.pending_count(), cap)) from None
    except KeyStoreError as exc:
        raise WireError(str(exc)) from exc
    if state == DENIED:
        master.denied.denied(minion_id, key)   # master/denied.py: once per key, with an event
    elif state != ACCEPTED:
        log.info("minion %s registered, key state %s", minion_id, state)
    return _registered_reply(master, state)


def handle_register_accepted(master: MasterServices, minion_id: str, request: dict[str, Any]) -> Reply:
    """An accepted key registers again (after a reconnect): it must not claim another id."""
    claimed = request.get("id")
    if claimed != minion_id:
        log.warning("key of %s tried to register as %r; refused", minion_id, str(claimed)[:80])
        raise WireError(f"this key is registered as {minion_id!r}")
    return _registered_reply(master, ACCEPTED)


def handle_heartbeat(master: MasterServices, minion_id: str, request: dict[str, Any]) -> Reply:
    """Presence, and the minion's grains when it sends them (first beat after connecting)."""
    grains = request.get("grains")
    if grains is not None:
        if not isinstance(grains, dict) or len(wire.encode(grains)) > MAX_GRAINS_BYTES:
            raise WireError("grains must be a map under 256 KiB")
        grains = dict(grains)
        grains["id"] = minion_id  # the authenticated id, whatever the minion claimed
        master.set_grains(minion_id, grains)
    master.clock.observe(minion_id, request.get("clock"))   # master/clockskew.py
    return wire.message("ok", publish_port=master.config.publish_port,
                        subscribed=minion_id in master.subscribed, master_time=time.time())


def handle_return(master: MasterServices, minion_id: str, request: dict[str, Any]) -> Reply:
    """Store a job's return under the authenticated minion, once; only for jobs that targeted it."""
    ret = wire.Return.from_map(request)
    targets = master.job_targets(ret.jid)
    if targets is None or minion_id not in targets:
        log.warning("return from %s for job %s that did not target it; dropped", minion_id, ret.jid)
        raise WireError(f"job {ret.jid} did not target {minion_id}")
    master.store_return(minion_id, ret)
    return wire.message("ack", jid=ret.jid)


# Exactly what each kind of caller may ask. Nothing else dispatches.
UNACCEPTED_HANDLERS: dict[str, Callable[[MasterServices, str, dict[str, Any]], Reply]] = {
    "register": handle_register_unaccepted,
}

ACCEPTED_HANDLERS: dict[str, Handler] = {
    "register": handle_register_accepted,
    "heartbeat": handle_heartbeat,
    "return": handle_return,
    # remote converge (master/remote_handlers.py): the caller's own pillar, state-tree files
    "pillar": remote_handlers.handle_pillar,
    "file": remote_handlers.handle_file,
    "file_stat": remote_handlers.handle_file_stat,
    "file_list": remote_handlers.handle_file_list,
    "file_batch": remote_handlers.handle_file_batch,
    # drift and lifecycle (master/drift/handlers.py): reports, start-up, converged, schedule
    "drift": drift_handlers.handle_drift,
    "minion_started": drift_handlers.handle_minion_started,
    "converged": drift_handlers.handle_converged,
    "scheduled_job": drift_handlers.handle_scheduled_job,
    # Salt's mine (master/mine/): publish this minion's values, read others' allowed ones
    "mine_update": mine_handlers.handle_mine_update,
    "mine_get": mine_handlers.handle_mine_get,
    # backups (master/backups/handlers.py): run records for the catalogue, progress for a waiting CLI
    "backup_report": backup_handlers.handle_backup_report,
    "backup_progress": backup_handlers.handle_backup_progress,
}
