"""What an execution function receives: the minion's config and grains, and a way to ask the master."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Mapping

from core.config import MinionConfig
from minion.link import call_from_thread

AsyncRequest = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class JobContext:
    """Handed to every function call; functions run in a worker thread.

    `request(message)` (sync, for the worker thread) and `request_async(message)` send a
    request to the master over the authenticated DEALER and return the reply map; an
    error reply comes back as `{"type": "error", "error": ...}`; no answer in time
    raises TransportError.
    """

    config: MinionConfig
    grains: Mapping[str, Any]
    jid: str
    request_async: AsyncRequest
    loop: asyncio.AbstractEventLoop

    @property
    def minion_id(self) -> str:
        return self.config.id

    def request(self, message: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        """Ask the master from a worker thread (never call this on the event loop).

        A `pillar` request carries this job's id: a drill's job gets the pillar the master
        granted it (master/drills/grants.py), every other job the minion's own."""
        message = dict(message)
        if message.get("type") == "pillar":
            message.setdefault("jid", self.jid)
        return call_from_thread(self.loop, self.request_async(message), timeout or self.config.request_timeout)
