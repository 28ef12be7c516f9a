"""Salt's mine on the minion: publish what pillar's `mine_functions` names, read the others'.

    publish(request, pillar)                  # {name: value} to the master: at start, every
                                              # mine_interval minutes (minion/lifecycle.py), and
                                              # on `mine.update` (minion/functions/mine.py)
    with reading(request):                    # templates' salt['mine.get'](tgt, fun, tgt_type=...)
        compile and run ...

Only the functions in MINE_FUNCTIONS can be published (pure reads of this host); the master
keeps a value only when this minion's pillar, compiled on the master, declares it.
"""
from __future__ import annotations

import contextlib
import logging
from typing import Any, Callable, Iterator, Mapping

from core.errors import LinkpeekError, RenderError
from core.mine import parse_mine_functions
from core.templatecontext import MINE_SOURCE
from minion.functions import network

log = logging.getLogger("lp.minion.mine")

Request = Callable[[dict[str, Any]], dict[str, Any]]

MINE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "network.ip_addrs": network.ip_addrs,
    "network.ip_addrs6": network.ip_addrs6,
}


def collect(pillar: Mapping[str, Any]) -> dict[str, Any]:
    """{name: value} of every mine function the pillar declares (unknown ones are logged)."""
    values: dict[str, Any] = {}
    for name, rule in parse_mine_functions(pillar.get("mine_functions")).items():
        func = MINE_FUNCTIONS.get(rule.function)
        if func is None:
            log.warning("mine function %s is not available here (have: %s)", rule.function,
                        ", ".join(sorted(MINE_FUNCTIONS)))
            continue
        try:
            values[name] = func(None, *rule.args, **dict(rule.kwargs))
        except (TypeError, ValueError, OSError) as exc:
            log.warning("mine function %s failed: %s", rule.function, exc)
    return values


def publish(request: Request, pillar: Mapping[str, Any]) -> list[str]:
    """Send this host's mine values to the master; the names it stored. Never raises."""
    try:
        values = collect(pillar)
        if not values and not pillar.get("mine_functions"):
            return []
        reply = request({"type": "mine_update", "data": values})
    except LinkpeekError as exc:
        log.warning("publishing the mine failed: %s", exc)
        return []
    if not isinstance(reply, dict) or "error" in reply:
        log.warning("the master refused the mine update: %s",
                    reply.get("error") if isinstance(reply, dict) else reply)
        return []
    return [str(n) for n in reply.get("stored", [])]


def getter(request: Request) -> Callable[[str, str, str], dict[str, Any]]:
    def mine_get(tgt: str, fun: str, tgt_type: str) -> dict[str, Any]:
        try:
            reply = request({"type": "mine_get", "tgt": tgt, "fun": fun, "tgt_type": tgt_type})
        except LinkpeekError as exc:
            raise RenderError(f"mine.get: the master did not answer: {exc}") from None
        if not isinstance(reply, dict) or "error" in reply:
            raise RenderError(f"mine.get({tgt!r}, {fun!r}): "
                              f"{reply.get('error') if isinstance(reply, dict) else 'bad reply'}")
        data = reply.get("data")
        return dict(data) if isinstance(data, dict) else {}

    return mine_get


@contextlib.contextmanager
def reading(request: Request) -> Iterator[None]:
    """Templates rendered inside see the master's mine through salt['mine.get']."""
    token = MINE_SOURCE.set(getter(request))
    try:
        yield
    finally:
        MINE_SOURCE.reset(token)
