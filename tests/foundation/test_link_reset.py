"""MasterLink: a heartbeat that times out resets the link; what other requests were waiting then.

The channel here is an in-memory twin of core.channel.ClientChannel's request side (connect,
send, receive), so the test can hold one reply back and decide when each one comes."""
from __future__ import annotations

import asyncio

import pytest

from core import wire
from core.errors import TransportError
from minion.link import MasterLink


class HeldChannel:
    """Answers requests as the test says: `hold` types never get an answer on the link they
    were sent on; everything else is answered at once with {"ok": type}."""

    def __init__(self, hold: set[str]) -> None:
        self.hold = hold
        self.sent: list[tuple[int, str]] = []  # (link generation, type)
        self.generation = 0
        self._replies: asyncio.Queue[bytes] = asyncio.Queue()

    def connect_requests(self, endpoint: str) -> None:
        self.generation += 1
        self._replies = asyncio.Queue()

    async def send_request(self, data: bytes, timeout: float | None = None) -> None:
        msg = wire.decode(data)
        self.sent.append((self.generation, msg["type"]))
        if msg["type"] in self.hold:
            self.hold.discard(msg["type"])  # answered next time, on a fresh link
            return
        reply = {"v": wire.PROTOCOL_VERSION, "type": "ok", "rid": msg["rid"], "for": msg["type"]}
        self._replies.put_nowait(wire.encode(reply))

    async def recv_reply(self) -> bytes:
        return await self._replies.get()


async def _reset_while_waiting(kind: str) -> tuple[HeldChannel, asyncio.Task[dict]]:
    channel = HeldChannel(hold={kind, "heartbeat"})
    link = MasterLink(channel, "tcp://master")  # type: ignore[arg-type]
    link.open()
    waiting = asyncio.ensure_future(link.request(wire.message(kind, path="app.conf"), 5.0))
    await asyncio.sleep(0.01)
    with pytest.raises(TransportError, match="did not answer 'heartbeat'"):
        await link.request(wire.message("heartbeat", clock=0.0), 0.05)  # resets the link
    return channel, waiting


async def test_a_file_request_waiting_when_the_link_resets_is_sent_again_and_answered():
    channel, waiting = await _reset_while_waiting("file")
    reply = await asyncio.wait_for(waiting, 2.0)
    assert reply["for"] == "file"
    assert [t for g, t in channel.sent if t == "file"] == ["file", "file"]
    assert channel.sent[-1] == (2, "file")  # the second time on the fresh link


async def test_a_return_waiting_when_the_link_resets_is_not_sent_twice():
    channel, waiting = await _reset_while_waiting("return")
    with pytest.raises(TransportError, match="link reset"):
        await asyncio.wait_for(waiting, 2.0)
    assert [t for _, t in channel.sent].count("return") == 1
