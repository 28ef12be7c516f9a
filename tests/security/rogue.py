"""A hand-built CURVE client: keys and routing id of our choosing, for attacks on the master."""
from __future__ import annotations

import time

import msgpack
import zmq

from core import keys
from tests.foundation.rawclient import fresh_keypair, master_key, minion_keypair

__all__ = ["Rogue", "fresh_keypair", "master_key", "minion_keypair"]


class Rogue:
    """A DEALER with CURVE keys (and optionally a routing id) of our choosing."""

    def __init__(self, cluster, pair: keys.KeyPair, routing_id: bytes | None = None,
                 ctx: zmq.Context | None = None) -> None:
        self._own_ctx = ctx is None
        self.ctx = ctx or zmq.Context()
        self.pair = pair
        s = self.ctx.socket(zmq.DEALER)
        s.linger = 0
        s.curve_serverkey = master_key(cluster)
        s.curve_publickey = pair.public.encode()
        s.curve_secretkey = pair.secret.encode()
        if routing_id is not None:
            s.setsockopt(zmq.ROUTING_ID, routing_id)
        s.connect(f"tcp://127.0.0.1:{cluster.req_port}")
        self.dealer = s

    def send_raw(self, data: bytes) -> None:
        self.dealer.send(data)

    def recv(self, timeout: float = 10.0) -> dict | None:
        if not self.dealer.poll(int(timeout * 1000)):
            return None
        return msgpack.unpackb(self.dealer.recv(), raw=False)

    def ask(self, message: dict, timeout: float = 10.0) -> dict | None:
        self.send_raw(msgpack.packb({"v": 1, **message}))
        return self.recv(timeout)

    def ask_until_answered(self, message: dict, timeout: float = 15.0) -> dict:
        """Resend until a reply comes (a first connection may be refused and retried)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = self.ask(message, timeout=0.5)
            if reply is not None:
                return reply
        raise AssertionError(f"no reply to {message.get('type')!r} within {timeout}s")

    def close(self) -> None:
        self.dealer.close(linger=0)
        if self._own_ctx:
            self.ctx.term()
