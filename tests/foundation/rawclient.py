"""A hand-built CURVE client for sending the master what a real minion never would."""
from __future__ import annotations

import time
from pathlib import Path

import msgpack
import zmq

from core import keys


def master_key(cluster) -> bytes:
    return keys.read_public_key(str(cluster.master_dir / "pki" / "master.pub")).encode()


def minion_keypair(cluster, mid: str) -> keys.KeyPair:
    return keys.load_keypair(str(Path(cluster.minion_dir(mid)) / "pki"), "minion")


def fresh_keypair() -> keys.KeyPair:
    public, secret = zmq.curve_keypair()
    return keys.KeyPair(public.decode(), secret.decode())


class RawClient:
    """A DEALER (and optionally a SUB) with CURVE keys (and a routing id) of our choosing; in
    `ctx` if given (then `close` leaves the context to its owner)."""

    def __init__(self, cluster, pair: keys.KeyPair, routing_id: bytes | None = None,
                 ctx: zmq.Context | None = None) -> None:
        self._own_ctx = ctx is None
        self.ctx = ctx or zmq.Context()
        self.cluster, self.pair = cluster, pair
        self.dealer = self._socket(zmq.DEALER)
        if routing_id is not None:
            self.dealer.setsockopt(zmq.ROUTING_ID, routing_id)
        self.dealer.connect(f"tcp://127.0.0.1:{cluster.req_port}")

    def _socket(self, kind: int) -> zmq.Socket:
        s = self.ctx.socket(kind)
        s.linger = 0
        s.curve_serverkey = master_key(self.cluster)
        s.curve_publickey = self.pair.public.encode()
        s.curve_secretkey = self.pair.secret.encode()
        return s

    def send_raw(self, *frames: bytes) -> None:
        self.dealer.send_multipart(list(frames))

    def recv(self, timeout: float = 10.0) -> dict | None:
        if not self.dealer.poll(int(timeout * 1000)):
            return None
        return msgpack.unpackb(self.dealer.recv(), raw=False)

    def ask(self, message: dict, timeout: float = 10.0) -> dict | None:
        self.send_raw(msgpack.packb({"v": 1, **message}))
        return self.recv(timeout)

    def subscribe_with_monitor(self, topic: bytes) -> tuple[zmq.Socket, zmq.Socket]:
        sub = self._socket(zmq.SUB)
        monitor = sub.get_monitor_socket()
        sub.setsockopt(zmq.SUBSCRIBE, topic)
        sub.connect(f"tcp://127.0.0.1:{self.cluster.pub_port}")
        return sub, monitor

    def close(self) -> None:
        if self._own_ctx:
            self.ctx.destroy(linger=0)
        else:
            self.dealer.close(linger=0)


def wait_event(monitor: zmq.Socket, wanted: int, timeout: float = 20.0) -> bool:
    """Whether the monitored socket reports event `wanted` before the deadline."""
    from zmq.utils.monitor import recv_monitor_message

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if monitor.poll(100):
            if recv_monitor_message(monitor)["event"] == wanted:
                return True
    return False
