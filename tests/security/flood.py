"""A registration flood from fresh CURVE keys, and a prober timing an accepted minion's beats.

Used by the flood test (which asserts only that every beat is answered within a second)
and by bench/register_flood.py (which prints the p50/p99/max).
"""
from __future__ import annotations

import threading
import time

import msgpack
import zmq

from tests.foundation.rawclient import RawClient, fresh_keypair


def flood(cluster, total: int, at_once: int, id_prefix: str = "flood") -> dict[str, int]:
    """Register `total` fresh keys, `at_once` connections at a time; count the reply types."""
    counts: dict[str, int] = {}
    ctx = zmq.Context()
    try:
        for start in range(0, total, at_once):
            socks = []
            for i in range(start, min(total, start + at_once)):
                client = RawClient(cluster, fresh_keypair(), ctx=ctx)
                client.send_raw(msgpack.packb({"v": 1, "type": "register", "id": f"{id_prefix}{i:05d}"}))
                socks.append(client.dealer)
            poller = zmq.Poller()
            for s in socks:
                poller.register(s, zmq.POLLIN)
            waiting, deadline = set(socks), time.monotonic() + 10
            while waiting and time.monotonic() < deadline:
                for s, _ in poller.poll(200):
                    reply = msgpack.unpackb(s.recv(), raw=False)
                    kind = reply.get("state") or reply.get("type", "?")
                    if reply.get("type") == "error":
                        kind = "error: " + str(reply.get("error"))[:60]
                    counts[kind] = counts.get(kind, 0) + 1
                    poller.unregister(s)
                    waiting.discard(s)
            counts["unanswered"] = counts.get("unanswered", 0) + len(waiting)
            for s in socks:
                s.close(linger=0)
    finally:
        ctx.destroy(linger=0)
    return counts


class Prober(threading.Thread):
    """Heartbeats with an accepted minion's key, one after another, until stopped.

    `times` holds each round trip in seconds (None for a beat not answered in `patience`).
    """

    def __init__(self, cluster, pair, patience: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.cluster, self.pair, self.patience = cluster, pair, patience
        self.times: list[float | None] = []
        self.stop = threading.Event()

    def run(self) -> None:
        beat = {"type": "heartbeat"}
        client = RawClient(self.cluster, self.pair)
        try:
            client.ask(beat)  # the first beat also waits for the handshake
            while not self.stop.is_set():
                t0 = time.monotonic()
                if client.ask(beat, timeout=self.patience) is not None:
                    self.times.append(time.monotonic() - t0)
                else:
                    self.times.append(None)
                    client.close()  # a late reply must not answer the next beat
                    client = RawClient(self.cluster, self.pair)
                time.sleep(0.02)
        finally:
            client.close()
