"""The authenticated transport: the only module that imports zmq.

Server side (`ServerChannel`, the master): a ROUTER for requests and an XPUB for jobs,
both CurveZMQ servers, with pyzmq's asyncio ZAP authenticator on the same Context and
one exact ZAP domain per socket. The caller decides who gets in through two callbacks
(`admit_request(key)`, `admit_subscriber(key)`); they must be fast and never raise
(we wrap them so an exception refuses instead of hanging the handshake).

Client side (`ClientChannel`, a minion): a DEALER for requests and a SUB for jobs, CURVE
clients pinned to the master's public key. libzmq never retries a connection that ZAP
refused, so the minion opens the SUB only once accepted, and `reset()` makes fresh
sockets after a refusal or a silent master.

Identity is read from each message's own ZAP metadata (`User-Id`), every time: nothing
is remembered by routing id, which a peer may choose and a later peer may reuse. The only
thing kept about a peer is which live descriptor carried its key, for revocation, and
that entry goes when the connection does (`watch_connections`).

Revocation does not end a live connection by itself: `kick(conn)` shuts down the TCP
connection behind a ROUTER message or an XPUB subscription (descriptor from SRCFD,
checked against the peer address first because descriptor numbers are reused).
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
from dataclasses import dataclass
from typing import Any, Callable

import zmq
import zmq.asyncio

from core.errors import TransportError
from core.wire import MAX_MESSAGE_BYTES

log = logging.getLogger("lp.channel")

REQUEST_DOMAIN = "lp-req"
PUBLISH_DOMAIN = "lp-pub"
HANDSHAKE_IVL_MS = 5000


def curve_keypair() -> tuple[str, str]:
    """A fresh CURVE keypair as (public, secret) Z85 text."""
    public, secret = zmq.curve_keypair()
    return public.decode("ascii"), secret.decode("ascii")


def curve_public(secret: str) -> str:
    """The public half of a Z85 CURVE secret key."""
    return zmq.curve_public(secret.encode("ascii")).decode("ascii")


@dataclass(frozen=True)
class Connection:
    """One peer connection as seen by the server: its key, descriptor and address."""

    key: str | None
    fd: int
    peer: Any


@dataclass(frozen=True)
class Request:
    """One ROUTER message: who sent it (authenticated key, never claimed), and the bytes."""

    routing_id: bytes
    payload: bytes
    conn: Connection


@dataclass(frozen=True)
class Subscription:
    """An XPUB subscription event from an authenticated subscriber."""

    subscribe: bool
    topic: bytes
    conn: Connection


class _KeyCallback:
    """ZAP credentials provider around a caller's predicate; never raises."""

    def __init__(self, admit: Callable[[str], bool]) -> None:
        self._admit = admit

    def callback(self, domain: str, key: bytes) -> bool:
        try:
            return bool(self._admit(key.decode("ascii")))
        except Exception:  # an exception here would hang the handshake
            log.exception("ZAP key check failed; refusing")
            return False


def _peer_of(fd: int) -> Any:
    """The remote address of the TCP connection behind descriptor `fd`, or None."""
    if fd < 0:
        return None
    try:
        dup = socket.socket(fileno=os.dup(fd))
    except OSError:
        return None
    try:
        return dup.getpeername()
    except OSError:
        return None
    finally:
        dup.close()  # closes only our duplicate descriptor


def _frame_origin(frame: Any) -> tuple[str | None, int]:
    """(authenticated key, connection descriptor) of a received frame; (None, -1) when the
    frame has no metadata (e.g. the unsubscribe libzmq makes up when a peer goes away)."""
    try:
        key = frame.get("User-Id") or None
    except zmq.ZMQError:
        key = None
    try:
        fd = int(frame.get(zmq.SRCFD))
    except (zmq.ZMQError, TypeError, ValueError):
        fd = -1
    return key, fd


def _shutdown_fd(fd: int, expected_peer: Any) -> bool:
    """Shut down the connection on `fd` if it still goes to `expected_peer`."""
    try:
        newfd = os.dup(fd)
    except OSError:
        return False
    sock = socket.socket(fileno=newfd)
    try:
        if sock.getpeername() != expected_peer:
            return False
        sock.shutdown(socket.SHUT_RDWR)
        return True
    except OSError:
        return False
    finally:
        sock.close()


class ServerChannel:
    """The master's two CURVE server sockets and their ZAP authenticator."""

    def __init__(self, public_key: str, secret_key: str,
                 admit_request: Callable[[str], bool], admit_subscriber: Callable[[str], bool]) -> None:
        self._public = public_key.encode("ascii")
        self._secret = secret_key.encode("ascii")
        self._admit_request = admit_request
        self._admit_subscriber = admit_subscriber
        self.ctx = zmq.asyncio.Context()
        self._auth: Any = None
        self.router: zmq.asyncio.Socket | None = None
        self.xpub: zmq.asyncio.Socket | None = None
        self._live: dict[int, Connection] = {}  # descriptor -> the connection last seen on it
        self._monitor: zmq.asyncio.Socket | None = None
        self._xpub_plain: zmq.Socket | None = None

    async def start(self, host: str, req_port: int, pub_port: int) -> None:
        """Start the authenticator, then configure and bind both sockets (options first)."""
        from zmq.auth.asyncio import AsyncioAuthenticator

        self._auth = AsyncioAuthenticator(context=self.ctx, log=logging.getLogger("lp.zap"))
        self._auth.start()
        self._auth.configure_curve_callback(REQUEST_DOMAIN, _KeyCallback(self._admit_request))
        self._auth.configure_curve_callback(PUBLISH_DOMAIN, _KeyCallback(self._admit_subscriber))
        self.router = self._server_socket(zmq.ROUTER, REQUEST_DOMAIN)
        self.xpub = self._server_socket(zmq.XPUB, PUBLISH_DOMAIN)
        self.xpub.setsockopt(zmq.XPUB_VERBOSE, 1)
        self.xpub.setsockopt(zmq.SNDHWM, 10_000)
        try:
            self.router.bind(f"tcp://{host}:{req_port}")
            self.xpub.bind(f"tcp://{host}:{pub_port}")
        except zmq.ZMQError as exc:
            raise TransportError(f"cannot listen on {host} ports {req_port}/{pub_port}: {exc}") from exc
        self._monitor = self.router.get_monitor_socket(zmq.EVENT_DISCONNECTED | zmq.EVENT_CLOSED)

    def _server_socket(self, kind: int, domain: str) -> zmq.asyncio.Socket:
        sock = self.ctx.socket(kind)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES + 1024)
        sock.setsockopt(zmq.HANDSHAKE_IVL, HANDSHAKE_IVL_MS)
        sock.curve_secretkey = self._secret
        sock.curve_publickey = self._public
        sock.curve_server = True
        sock.zap_domain = domain.encode()
        return sock

    def _connection(self, frame: Any) -> Connection:
        """Who sent this frame, from its own metadata (never from an earlier message)."""
        key, fd = _frame_origin(frame)
        conn = Connection(key=key, fd=fd, peer=_peer_of(fd))
        if key is not None and conn.peer is not None:
            self._live[fd] = conn
        return conn

    async def recv_request(self) -> Request | None:
        """Next ROUTER message, or None for a frame layout we do not accept."""
        assert self.router is not None
        return self._request_of(await self.router.recv_multipart(copy=False))

    def recv_request_nowait(self) -> Request | None | bool:
        """The next ROUTER message if one is queued now (as `recv_request`), else False: a
        burst (a thousand returns) is read in one wakeup, not a future per message."""
        assert self.router is not None
        got = self.router.recv_multipart(zmq.NOBLOCK, copy=False)   # settled at once
        if got.exception() is not None:
            return False
        return self._request_of(got.result())

    def _request_of(self, frames: list[Any]) -> Request | None:
        if len(frames) != 2:
            return None
        return Request(routing_id=frames[0].bytes, payload=frames[1].bytes,
                       conn=self._connection(frames[1]))

    async def watch_connections(self) -> None:
        """Forget each ROUTER connection when libzmq reports it gone (runs until cancelled)."""
        from zmq.utils.monitor import parse_monitor_message

        assert self._monitor is not None
        while True:
            event = parse_monitor_message(await self._monitor.recv_multipart())
            fd = event.get("value")
            if isinstance(fd, int):
                # libzmq reports before it closes the descriptor, so its peer cannot tell an
                # old connection from a new one: forget it; a newer connection on a reused
                # number is remembered again by its next message
                self._live.pop(fd, None)

    async def send_reply(self, routing_id: bytes, data: bytes) -> None:
        assert self.router is not None
        try:
            await self.router.send_multipart([routing_id, data])
        except zmq.ZMQError as exc:
            log.debug("reply not sent: %s", exc)

    async def recv_subscription(self) -> Subscription | None:
        """Next XPUB subscribe/unsubscribe event with the subscriber's key."""
        assert self.xpub is not None
        frame = await self.xpub.recv(copy=False)
        data = frame.bytes
        if not data or data[0] not in (0, 1):
            return None
        key, fd = _frame_origin(frame)
        return Subscription(subscribe=data[0] == 1, topic=data[1:],
                            conn=Connection(key=key, fd=fd, peer=_peer_of(fd)))

    async def publish(self, topic: bytes, data: bytes) -> None:
        assert self.xpub is not None
        await self.xpub.send_multipart([topic, data])

    async def publish_many(self, topics: list[bytes], data: bytes) -> None:
        """Send `data` on each topic: all but the last through a plain shadow of the XPUB (no
        future and timer per send; XPUB never blocks, a subscriber past its high-water mark
        loses the message as with `publish`), the last through the asyncio socket, which then
        looks again for subscription events the plain sends may have taken the edge of."""
        assert self.xpub is not None
        if not topics:
            return
        if self._xpub_plain is None:
            self._xpub_plain = zmq.Socket.shadow(self.xpub.underlying)
        for topic in topics[:-1]:
            try:
                self._xpub_plain.send_multipart([topic, data], zmq.NOBLOCK)
            except zmq.ZMQError as exc:
                log.debug("publication not sent: %s", exc)
        await self.xpub.send_multipart([topics[-1], data])

    def kick(self, conn: Connection) -> bool:
        """Cut one live connection (ROUTER or XPUB) now; True if it was still there."""
        if self._live.get(conn.fd) == conn:
            del self._live[conn.fd]
        if conn.peer is None:
            return False
        return _shutdown_fd(conn.fd, conn.peer)

    def forget_key(self, key: str) -> list[Connection]:
        """Drop the live ROUTER connections of `key`; return them (to kick)."""
        gone = [c for c in self._live.values() if c.key == key]
        for conn in gone:
            del self._live[conn.fd]
        return gone

    async def close(self) -> None:
        if self.router is not None and self._monitor is not None:
            self.router.disable_monitor()
            self._monitor.close(linger=0)
        self._xpub_plain = None  # a shadow: closing the XPUB is what ends it
        for sock in (self.router, self.xpub):
            if sock is not None:
                sock.close(linger=0)
        if self._auth is not None:
            self._auth.stop()
        self.ctx.term()


class ClientChannel:
    """A minion's DEALER (requests) and SUB (jobs), pinned to the master's key.

    Several clients may share one Context (the benchmark hosts many minions per process).
    """

    def __init__(self, master_public_key: str, public_key: str, secret_key: str,
                 ctx: Any = None) -> None:
        self._server = master_public_key.encode("ascii")
        self._public = public_key.encode("ascii")
        self._secret = secret_key.encode("ascii")
        self._own_ctx = ctx is None
        self.ctx = zmq.asyncio.Context() if ctx is None else ctx
        self.dealer: zmq.asyncio.Socket | None = None
        self.sub: zmq.asyncio.Socket | None = None

    def _client_socket(self, kind: int) -> zmq.asyncio.Socket:
        sock = self.ctx.socket(kind)
        for option, value in ((zmq.LINGER, 0), (zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES + 1024),
                              (zmq.HANDSHAKE_IVL, HANDSHAKE_IVL_MS), (zmq.RECONNECT_IVL, 200),
                              (zmq.RECONNECT_IVL_MAX, 3000), (zmq.HEARTBEAT_IVL, 5000),
                              (zmq.HEARTBEAT_TIMEOUT, 15000), (zmq.CURVE_SERVERKEY, self._server),
                              (zmq.CURVE_PUBLICKEY, self._public), (zmq.CURVE_SECRETKEY, self._secret)):
            sock.setsockopt(option, value)   # not attribute sets: pyzmq resolves those by name
        return sock

    def connect_requests(self, endpoint: str) -> None:
        """(Re)open the DEALER to the master's ROUTER."""
        if self.dealer is not None:
            self.dealer.close(linger=0)
        self.dealer = self._client_socket(zmq.DEALER)
        self.dealer.setsockopt(zmq.IMMEDIATE, 1)
        self.dealer.connect(endpoint)

    def connect_jobs(self, endpoint: str, topic: bytes) -> None:
        """(Re)open the SUB to the master's publisher, subscribed to `topic` only."""
        if self.sub is not None:
            self.sub.close(linger=0)
        self.sub = self._client_socket(zmq.SUB)
        self.sub.setsockopt(zmq.SUBSCRIBE, topic)
        self.sub.connect(endpoint)

    def close_jobs(self) -> None:
        if self.sub is not None:
            self.sub.close(linger=0)
            self.sub = None

    async def send_request(self, data: bytes, timeout: float | None = None) -> None:
        """Queue a request (at once, nearly always; else wait up to `timeout`, then
        asyncio.TimeoutError); TransportError if the socket is gone (closed by a reset)."""
        dealer = self.dealer
        if dealer is None:
            raise TransportError("no request socket")
        try:
            sent = dealer.send(data)   # pyzmq tries a non-blocking send first
            if not sent.done():
                await asyncio.wait_for(sent, timeout)   # a Future: no task wrapped around it
            sent.result()
        except zmq.ZMQError as exc:
            raise TransportError(f"request not sent: {exc}") from exc
        except asyncio.CancelledError:
            if dealer.closed:  # pyzmq cancels a pending send when its socket is closed (reset)
                raise TransportError("request not sent: the link was reset") from None
            raise

    async def recv_reply(self) -> bytes:
        assert self.dealer is not None
        return await self.dealer.recv()

    async def recv_job(self) -> tuple[bytes, bytes] | None:
        """Next publication as (topic, payload), or None for a bad frame layout."""
        sub = self.sub
        if sub is None:
            raise TransportError("no job socket")
        try:
            frames = await sub.recv_multipart()
        except zmq.ZMQError as exc:
            raise TransportError(f"job socket: {exc}") from exc
        except asyncio.CancelledError:
            if sub.closed:  # re-opened under us: pyzmq cancels the pending receive
                raise TransportError("job socket re-opened") from None
            raise
        if len(frames) != 2:
            return None
        return frames[0], frames[1]

    def close(self) -> None:
        for sock in (self.dealer, self.sub):
            if sock is not None:
                sock.close(linger=0)
        self.dealer = self.sub = None
        if self._own_ctx:
            self.ctx.term()
