"""`lpminion apply` without --local: this host asks the master for its own highstate and runs
it here (Salt's `salt-call state.apply`), over the same authenticated channel as the daemon.

    outcome = apply_from_master(cfg, sls=None, test=True)
    outcome.ret / .success / .retcode      as minion.remote_apply.ApplyOutcome

The request link is a fresh DEALER with this minion's own CURVE key, pinned to the master's
key (fetched and checked against `master_finger` first if the daemon never ran); the master
answers it as it answers the daemon (identity from the key on every message). The run takes
the same state-run lock as the daemon's jobs, so the two never converge at once, and a real
run updates the master's drift record. Nothing is subscribed: the master's view of whether
the minion daemon is connected does not change.
"""
from __future__ import annotations

import asyncio
from typing import Any, Sequence

from core import wire
from core.config import MinionConfig
from core.errors import ConfigError, KeyStoreError, TransportError
from minion.link import call_from_thread


class NotAccepted(ConfigError):
    """The master does not accept this minion's key (pending, denied or rejected)."""


def apply_from_master(cfg: MinionConfig, sls: Sequence[str] | None = None, test: bool = False,
                      strict: bool = False, failhard: bool = False) -> Any:
    """Fetch pillar and tree from the master, compile, run here; the masked ApplyOutcome.
    Raises NotAccepted / ConfigError (keys, config) or TransportError (no master)."""
    return asyncio.run(_apply(cfg, list(sls) if sls else None, test, strict, failhard))


async def _apply(cfg: MinionConfig, sls: list[str] | None, test: bool, strict: bool, failhard: bool) -> Any:
    from core.channel import ClientChannel
    from core.keys import load_keypair
    from minion import grains as grains_mod
    from minion.link import MasterLink
    from minion.remote_apply import apply_remote

    try:
        keypair = load_keypair(cfg.pki_dir, "minion")
    except KeyStoreError as exc:
        raise ConfigError(str(exc)) from exc
    master_key = await _master_key(cfg)
    channel = ClientChannel(master_key, keypair.public, keypair.secret)
    link = MasterLink(channel, f"tcp://{cfg.master}:{cfg.master_port}")
    loop = asyncio.get_running_loop()
    try:
        link.open()
        await _check_accepted(cfg, link)

        def request(message: dict[str, Any]) -> dict[str, Any]:
            return call_from_thread(loop, link.request(message, cfg.request_timeout), cfg.request_timeout,
                                    f"{_no_answer(cfg)} while this apply waited for it")

        opts: dict[str, Any] = {}
        if strict or cfg.strict_arguments:
            opts["strict_arguments"] = True
        if failhard:
            opts["failhard"] = True
        grains = grains_mod.collect(cfg.id, cfg.grains)
        return await asyncio.to_thread(apply_remote, request, cfg.id, grains, cfg.cache_dir, sls,
                                       test, opts or None)
    finally:
        link.close()
        channel.close()


async def _master_key(cfg: MinionConfig) -> str:
    """The pinned master key; fetched from the key port and checked when not pinned yet."""
    from minion.enroll import accept_master_key, fetch_master_key, pinned_master_key

    pinned = pinned_master_key(cfg)
    if pinned is not None:
        return pinned
    key = await fetch_master_key(cfg.master, cfg.master_key_port, timeout=cfg.request_timeout)
    try:
        return accept_master_key(cfg, key)
    except KeyStoreError as exc:
        raise ConfigError(str(exc)) from exc


async def _check_accepted(cfg: MinionConfig, link: Any) -> None:
    """One `register`: the master says whether it accepts this key as this id."""
    try:
        reply = await link.request(wire.message("register", id=cfg.id), cfg.request_timeout)
    except TransportError:
        raise TransportError(_no_answer(cfg)) from None
    state = reply.get("state")
    if reply.get("type") == "registered" and state == "accepted":
        return
    if state in ("pending", "denied", "rejected"):
        hint = {"pending": f"accept it on the master: lpmaster keys accept {cfg.id}",
                "denied": f"the id {cfg.id} is taken by another key on the master",
                "rejected": "the master rejected it; delete it there before joining again"}[state]
        raise NotAccepted(f"this minion's key is {state} on the master: {hint}")
    raise NotAccepted(f"the master refused this minion: {str(reply.get('error') or reply)[:200]}")


def _no_answer(cfg: MinionConfig) -> str:
    return (f"the master at {cfg.master}:{cfg.master_port} did not answer; is it running? "
            "(`lpminion apply --local` runs without a master)")
