"""ROUTER handlers for remote converges: `pillar`, `file`, `file_stat`, `file_list`, `file_batch`.

Each receives the authenticated minion id (SECURITY.md rule 1) and answers only for it:
the pillar is compiled for that id with the grains the master stored for it (never grains
or an id from the request), and files come from the state tree through the file server's
safe join. Work that reads files or renders templates runs off the event loop.

Registered in master/handlers.py ACCEPTED_HANDLERS.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from core import wire
from core.errors import LinkpeekError
from master.fileserver import FileServer
from master.minion_grains import grains_of

log = logging.getLogger("lp.master.converge")

Reply = dict[str, Any]


async def handle_pillar(master: Any, minion_id: str, request: dict[str, Any]) -> Reply:
    """The caller's own pillar, with the secret values in it listed for the minion's masking.

    A request naming a job that a drill bound to this minion (master/drills/grants.py) gets
    that drill's SOURCE pillar instead, compiled with SOURCE's id and stored grains."""
    master.pillar_rate.take(minion_id)   # TooOften: compiling decrypts secrets and renders Jinja
    converge = master.converge
    grants = master.pillar_grants
    granted = None
    if grants.live():   # a drill runs: only then is the key store read, for the caller's key now
        granted = grants.source_for(request.get("jid"), minion_id,
                                    key=master.keystore.accepted_key(minion_id))
    whose = granted or minion_id
    grains = grains_of(master.grains, whose)
    try:
        pillar, secrets = await asyncio.to_thread(converge.pillar.compile_for, whose, grains)
    except LinkpeekError as exc:
        log.warning("pillar for %s did not compile: %s", whose, converge.masker.mask(str(exc)))
        raise
    if whose == minion_id:
        master.backups.note_pillar(minion_id, pillar)
        return wire.message("pillar", pillar=_string_keys(pillar), secrets=sorted(secrets),
                            nodegroups=_string_keys(dict(master.config.nodegroups)))
    # a drill: SCRATCH renders as SOURCE (its id and grains, see minion/remote_apply.py), and
    # does not take on SOURCE's backup jobs in the catalogue
    log.info("drill job %s: %s receives the pillar of %s", request.get("jid"), minion_id, whose)
    return wire.message("pillar", pillar=_string_keys(pillar), secrets=sorted(secrets),
                        as_minion={"id": whose, "grains": _string_keys(grains)})


def _files_handler(serve: Callable[[FileServer, dict[str, Any]], dict[str, Any]]) -> Callable[..., Any]:
    name = serve.__name__

    async def handler(master: Any, minion_id: str, request: dict[str, Any]) -> Reply:
        reply = await asyncio.to_thread(serve, master.converge.files, request)
        if "error" in reply:
            log.info("%s for %s refused: %s", name, minion_id, reply["error"])
        return wire.message(name, **reply)

    handler.__name__ = f"handle_{name}"
    handler.__doc__ = f"The file server's `{name}` for an accepted minion."
    return handler


handle_file = _files_handler(FileServer.file)
handle_file_stat = _files_handler(FileServer.file_stat)
handle_file_list = _files_handler(FileServer.file_list)
handle_file_batch = _files_handler(FileServer.file_batch)


def _string_keys(node: Any) -> Any:
    """The wire carries string keys only: `80: x` in pillar YAML arrives as `"80": x`."""
    if isinstance(node, dict):
        return {k if isinstance(k, str) else str(k): _string_keys(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_string_keys(v) for v in node]
    return node
