"""The minion's request link to the master: request/reply over the DEALER, matched by `rid`.

Many requests may be in flight (heartbeats, returns, a state run's pillar and files). A
request that gets no reply in time raises TransportError and resets the DEALER (a fresh
socket drops anything queued for a master that went away, and starts a new handshake).
"""
from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Any, Coroutine

from core import wire
from core.channel import ClientChannel
from core.errors import TransportError, WireError

log = logging.getLogger("lp.minion.link")

# Requests whose repetition changes nothing on the master.
RESENT_AFTER_RESET = frozenset(
    {"heartbeat", "pillar", "file", "file_stat", "file_list", "file_batch", "mine_get"}
)
RESENDS = 2


def longest_wait(timeout: float) -> float:
    """How long `MasterLink.request(..., timeout)` can take at most, resends included (each
    try waits up to `timeout` to send, then up to `timeout` for the reply)."""
    return 2 * timeout * (RESENDS + 1)


def call_from_thread(loop: asyncio.AbstractEventLoop, request: Coroutine[Any, Any, dict[str, Any]],
                     timeout: float, what: str = "the master did not answer in time") -> dict[str, Any]:
    """Run a link `request(...)` coroutine on `loop` from a worker thread and wait for its reply;
    no reply within longest_wait(timeout) (+5 s) raises TransportError(`what`), never a raw
    TimeoutError, and the request is cancelled on the loop."""
    future = asyncio.run_coroutine_threadsafe(request, loop)
    try:
        return future.result(timeout=longest_wait(timeout) + 5)
    except TimeoutError as exc:
        future.cancel()
        raise TransportError(what) from exc


class LinkReset(TransportError):
    """The link was reset (by another request's timeout) while this request waited."""


class MasterLink:
    """Correlates replies to requests on one ClientChannel's DEALER."""

    def __init__(self, channel: ClientChannel, endpoint: str) -> None:
        self.channel = channel
        self.endpoint = endpoint
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None

    def open(self) -> None:
        """(Re)connect the DEALER and start reading replies."""
        if self._reader is not None:
            self._reader.cancel()
        for fut in self._waiting.values():
            if not fut.done():
                fut.set_exception(LinkReset("link reset"))
                fut.exception()  # retrieved here; a waiter still sees it
        self._waiting.clear()
        self.channel.connect_requests(self.endpoint)
        self._reader = asyncio.ensure_future(self._read())

    def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            self._reader = None

    async def _read(self) -> None:
        while True:
            data = await self.channel.recv_reply()
            try:
                reply = wire.decode(data)
            except WireError as exc:
                log.warning("bad reply from the master dropped: %s", exc)
                continue
            fut = self._waiting.pop(reply.get("rid"), None)  # type: ignore[arg-type]
            if fut is not None and not fut.done():
                fut.set_result(reply)

    async def request(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send `message`, return the master's reply map (an error reply is returned, not raised)."""
        resends = RESENDS if message.get("type") in RESENT_AFTER_RESET else 0
        while True:
            try:
                return await self._request_once(message, timeout)
            except LinkReset:
                if resends == 0:
                    raise
                resends -= 1
                log.info("link reset while %s waited; sending it again", message.get("type"))

    async def _request_once(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        rid = next(self._ids)
        msg = dict(message)
        msg.setdefault("v", wire.PROTOCOL_VERSION)
        msg["rid"] = rid
        data = wire.encode(msg)
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._waiting[rid] = fut
        timer = None
        try:
            await self.channel.send_request(data, timeout)
            timer = loop.call_later(timeout, _expire, fut)   # one timer; no task per await
            return await fut
        except asyncio.TimeoutError:
            log.info("no reply to %s in %.1fs; resetting the link", msg.get("type"), timeout)
            self.open()
            raise TransportError(f"the master did not answer {msg.get('type')!r} in time") from None
        finally:
            if timer is not None:
                timer.cancel()
            self._waiting.pop(rid, None)


def _expire(fut: asyncio.Future[Any]) -> None:
    if not fut.done():
        fut.set_exception(asyncio.TimeoutError())
