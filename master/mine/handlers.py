"""ROUTER handlers of the mine: `mine_update` (a minion publishes) and `mine_get` (it reads).

    {"type": "mine_update", "data": {name: value, ...}}           -> {"type": "ack", "stored": [names]}
    {"type": "mine_get", "tgt": "db*", "fun": "network.ip_addrs", "tgt_type": "glob"}
                                                                 -> {"type": "mine", "data": {minion: value}}

Both act for the authenticated minion only (SECURITY.md rule 1). What a minion may publish
comes from its own pillar, compiled here; a value it sends for a name its pillar does not
declare is dropped. A reader gets the publishers the target selects (grain targets use the
grains the master stored) whose `allow_tgt` the reader's id matches. A pillar target is
refused: which publishers it selects would tell the reader other minions' pillar (secrets).
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
from typing import Any

from core import targeting, wire
from core.errors import WireError
from core.mine import parse_mine_functions
from master.minion_grains import grains_of

log = logging.getLogger("lp.master.mine")

Reply = dict[str, Any]
MAX_VALUE_BYTES = 64 * 1024
ADDRESS_FUNCTIONS = ("network.ip_addrs", "network.ip_addrs6")   # read into other hosts' configs


async def handle_mine_update(master: Any, minion_id: str, request: dict[str, Any]) -> Reply:
    data = request.get("data")
    if not isinstance(data, dict):
        raise WireError("mine_update needs data: {function: value}")
    master.pillar_rate.take(minion_id)   # its pillar is compiled for mine_functions (one bucket with `pillar`)
    pillar, _ = await asyncio.to_thread(master.converge.pillar.compile_for, minion_id,
                                        grains_of(master.grains, minion_id))
    declared = parse_mine_functions(pillar.get("mine_functions"))
    entries: dict[str, tuple[Any, str | None, str]] = {}
    for name, value in data.items():
        rule = declared.get(name)
        if rule is None:
            log.info("mine value %r from %s is not in its mine_functions; dropped", str(name)[:80], minion_id)
            continue
        if len(wire.encode({"v": value})) > MAX_VALUE_BYTES:
            raise WireError(f"mine value {name!r} is over {MAX_VALUE_BYTES // 1024} KiB")
        if rule.function in ADDRESS_FUNCTIONS and not _addresses(value):
            raise WireError(f"mine value {name!r} ({rule.function}) must be a list of IP addresses")
        entries[name] = (value, rule.allow_tgt, rule.allow_tgt_type)
    await asyncio.to_thread(master.mine.replace, minion_id, entries)
    return wire.message("ack", stored=sorted(entries))


async def handle_mine_get(master: Any, minion_id: str, request: dict[str, Any]) -> Reply:
    tgt, fun = request.get("tgt"), request.get("fun")
    tgt_type = request.get("tgt_type", "glob")
    if not isinstance(tgt, str) or not isinstance(fun, str) or tgt_type not in targeting.TARGET_TYPES:
        raise WireError(f"mine_get needs tgt, fun and a tgt_type of {', '.join(targeting.TARGET_TYPES)}")
    if targeting.uses_pillar(tgt, tgt_type, master.config.nodegroups):
        raise WireError("mine_get cannot target by pillar (I@, J@, pillar, pillar_pcre): the answer would tell "
                        "a minion what other minions' pillar holds; target the publishers by id or grain")
    publishers = master.select_targets(tgt, tgt_type)
    entries = await asyncio.to_thread(master.mine.entries, fun, publishers)
    reader_grains = grains_of(master.grains, minion_id)
    allowed = {}
    for publisher, entry in sorted(entries.items()):
        if entry.allow_tgt is None or targeting.matches(minion_id, reader_grains, entry.allow_tgt,
                                                        entry.allow_tgt_type):
            allowed[publisher] = entry.value
    return wire.message("mine", data=allowed)


def _addresses(value: Any) -> bool:
    """Whether `value` is a list of plain IP addresses: other hosts' templates write it into
    their config (an address with a newline and a setting after it would be a setting)."""
    if not isinstance(value, list):
        return False
    for item in value:
        try:
            ipaddress.ip_address(item if isinstance(item, str) else "")
        except ValueError:
            return False
    return True
