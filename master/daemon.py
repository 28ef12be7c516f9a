"""`lpmaster serve`: the master daemon.

Tasks (one asyncio.TaskGroup, so none fails silently):
  requests     ROUTER loop: decode, map the authenticated key to a caller, dispatch
               through master/handlers.py's tables, reply
  subscribers  XPUB loop: who is subscribed (by key); kick a subscription that is not
               the subscriber's own topic or whose key is no longer accepted
  keywatch     re-reads the key store when it changes and cuts off revoked minions
  presence     flushes last-seen times to the job store
  control      the local Unix socket the CLI talks to (master/control.py)
  keyannounce  serves the master's public key for the minion's first contact
  drills       runs the drills master.yaml schedules (master/drills/schedule.py)
  self-backup  backs the master itself up on master.yaml's `backup: cron:` (master/backups/selfschedule.py)
  loopwatch    warns, with its stack, when something holds the event loop over a second (core/loopwatch.py)
"""
from __future__ import annotations

import asyncio
import inspect
import logging
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from core import wire
from core.channel import Request, ServerChannel
from core.config import MasterConfig
from core.errors import ConfigError, WireError
from core.keys import KeyPair, load_keypair
from core.loopwatch import watch_loop
from master.handlers import ACCEPTED_HANDLERS, UNACCEPTED_HANDLERS
from master.jobstore import JobStore
from master.keystore import ACCEPTED, KeyStore
from master.services import MasterServices

log = logging.getLogger("lp.master")

REQUEST_BURST = 256   # requests handled per wakeup before the loop runs other tasks
HANDLER_TIMEOUT_S = 120  # an async handler (pillar compile, file batch) gets this long


class RateLimitedLog:
    """Log at most `burst` messages per `window` seconds; count the rest."""

    def __init__(self, logger: logging.Logger, burst: int = 20, window: float = 10.0) -> None:
        self.logger, self.burst, self.window = logger, burst, window
        self._start, self._count, self._dropped = 0.0, 0, 0

    def warning(self, fmt: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self._start > self.window:
            if self._dropped:
                self.logger.warning("%d more bad messages not logged", self._dropped)
            self._start, self._count, self._dropped = now, 0, 0
        self._count += 1
        if self._count <= self.burst:
            self.logger.warning(fmt, *args)
        else:
            self._dropped += 1


class MasterDaemon:
    """The running master: channel + services + tasks."""

    def __init__(self, config: MasterConfig, keypair: KeyPair) -> None:
        self.config = config
        self.keypair = keypair
        self._key_writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lp-keys")
        self.keystore = KeyStore(config.pki_dir, writer=self._key_writer.submit)  # writes off the loop
        self.keystore.ensure_dirs()
        self.jobstore = JobStore(config.db_path)
        self.services = MasterServices(config, self.keystore, self.jobstore)
        from core.masking import install_log_masking
        install_log_masking(self.services.converge.masker)  # decrypted secrets never reach logs
        self.channel = ServerChannel(keypair.public, keypair.secret,
                                     admit_request=self._admit_request,
                                     admit_subscriber=self._admit_subscriber)
        self.bad = RateLimitedLog(log)
        self._accepted_keys: set[str] = set(self.keystore.accepted().values())
        from master.drills.runner import DrillRunner
        from master.drills.schedule import parse_schedule
        self.drill_schedule = parse_schedule(config.drills)  # a bad `drills:` entry: no start
        self.drills = DrillRunner(self)
        self._stopping = asyncio.Event()
        self._held_replies: list[tuple[Request, dict[str, Any], str]] | None = None
        self._keys_unreadable = False   # the accepted keys could not be read at the last burst

    # -- ZAP -----------------------------------------------------------------------------

    @staticmethod
    def _admit_request(key: str) -> bool:
        return True  # any well-formed key may reach the ROUTER; it can only register

    def _admit_subscriber(self, key: str) -> bool:
        return self.keystore.accepted_id(key) is not None

    # -- main ----------------------------------------------------------------------------

    async def serve(self) -> None:
        from master.control import ControlServer
        from master.keyannounce import serve_master_key

        cfg = self.config
        await self.channel.start(cfg.interface, cfg.request_port, cfg.publish_port)
        control = ControlServer(self)
        await control.start()
        announce = await serve_master_key(cfg.interface, cfg.key_port, self.keypair.public)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stopping.set)
        log.info("master up: requests %s:%d, publish %s:%d, keys %s:%d", cfg.interface,
                 cfg.request_port, cfg.interface, cfg.publish_port, cfg.interface, cfg.key_port)
        try:
            async with asyncio.TaskGroup() as tg:
                tasks = [tg.create_task(self._requests()), tg.create_task(self._subscribers()),
                         tg.create_task(self._keywatch()), tg.create_task(self._presence()),
                         tg.create_task(self.channel.watch_connections()),
                         tg.create_task(self._scheduled_drills()), tg.create_task(self._self_backup()),
                         tg.create_task(watch_loop(log))]
                await self._stopping.wait()
                for task in tasks:
                    task.cancel()
        finally:
            announce.close()
            await control.close()
            self.services.flush_presence()
            self._key_writer.shutdown(wait=True)
            await self.channel.close()
            self.jobstore.close()
            self.drills.close()
            log.info("master stopped")

    # -- requests ------------------------------------------------------------------------

    async def _requests(self) -> None:
        while True:
            req: Request | None | bool = await self.channel.recv_request()
            handled = 0
            self._held_replies = []   # sent once the burst's returns are stored (master/returnbatch.py)
            self.services.returns.open()
            keys_read = self._refresh_accepted()   # once a burst: its messages are judged by it
            while req is not False:   # then what else is queued now, without a future each
                if req is None:
                    self.bad.warning("ROUTER message with an unexpected frame layout dropped")
                elif keys_read:
                    try:
                        await self._dispatch(req)
                    except Exception:  # a bug in one handler must not stop the master
                        log.exception("request handling failed")
                handled += 1
                if handled == REQUEST_BURST:
                    break
                req = self.channel.recv_request_nowait()
            await self._end_burst()
            if handled == REQUEST_BURST:
                await asyncio.sleep(0)   # let the other tasks run between bursts

    def _refresh_accepted(self) -> bool:
        """Re-read the accepted keys; False (said once until they read again) when they cannot
        be read: the burst is dropped unanswered, and the minions ask again."""
        try:
            self.keystore.refresh(states=(ACCEPTED,))
        except OSError as exc:
            self._note_keys_unreadable(exc)
            return False
        if self._keys_unreadable:
            log.warning("the accepted keys can be read again; answering requests")
        self._keys_unreadable = False
        return True

    def _note_keys_unreadable(self, exc: OSError) -> None:
        if not self._keys_unreadable:
            log.error("cannot read the key store (%s); requests are dropped unanswered until it "
                      "can be read (check %s)", exc, self.keystore.pki_dir)
        self._keys_unreadable = True

    async def _end_burst(self) -> None:
        for req, reply in self._settle_burst():
            try:
                await self._send_reply(req, reply)
            except Exception:  # as in _dispatch: one reply must not stop the master
                log.exception("sending a reply failed")

    def _settle_burst(self) -> list[tuple[Request, dict[str, Any]]]:
        """Store the burst's returns; its replies to send. A reply about a return that could not
        be stored (the `ack` of a `return`, the `started` of a spooled `scheduled_job`) becomes
        the error (retry) reply the minion keeps the return for."""
        failed, error = self.services.returns.commit()
        held, self._held_replies = self._held_replies or [], None
        if not failed:
            return [(req, reply) for req, reply, _ in held]
        settled = []
        for req, reply, caller in held:
            if (reply.get("jid"), caller) in failed:
                self.services.unstored.add((reply["jid"], caller))   # the waiting CLI says so
                reply = self._error_reply(error or RuntimeError("not stored"), reply.get("rid"), "return")
            settled.append((req, reply))
        return settled

    async def _dispatch(self, req: Request) -> None:
        key = req.conn.key
        if not key:
            self.bad.warning("message without an authenticated key dropped")
            return
        try:
            msg = wire.decode(req.payload)
        except WireError as exc:
            self.bad.warning("bad message from key %s: %s", key[:8], exc)
            await self._reply(req, wire.error_reply(f"bad message: {exc}"))
            return
        rid = msg.get("rid")
        entry = self.keystore.lookup(key, refresh=False)   # refreshed at the burst's start
        if entry is not None and entry.state == ACCEPTED:
            caller = entry.minion_id
            self.services.touch(caller)
            handler: Any = ACCEPTED_HANDLERS.get(msg["type"])
            if handler is None:
                self.bad.warning("unknown request type %r from %s", str(msg["type"])[:40], caller)
                await self._reply(req, wire.error_reply(f"unknown request type {str(msg['type'])[:40]!r}", rid))
                return
        else:
            caller = key
            handler = UNACCEPTED_HANDLERS.get(msg["type"])
            if handler is None:
                state = entry.state if entry is not None else "unknown"
                self.bad.warning("key %s (%s) asked for %r before acceptance; refused",
                                 key[:8], state, str(msg["type"])[:40])
                reply = wire.error_reply("not allowed: this key is not accepted", rid)
                reply["state"] = state
                await self._reply(req, reply)
                return
        try:
            result = handler(self.services, caller, msg)
            if inspect.isawaitable(result):
                asyncio.ensure_future(self._finish(req, result, rid))
                return
            reply = result
        except Exception as exc:  # a refusal, a full store (retry), or a bug (internal error)
            reply = self._error_reply(exc, rid, msg["type"])
        if rid is not None:
            reply["rid"] = rid
        await self._reply(req, reply, caller)

    async def _finish(self, req: Request, pending: Any, rid: Any) -> None:
        try:
            reply = await asyncio.wait_for(pending, HANDLER_TIMEOUT_S)
        except asyncio.TimeoutError:
            log.warning("a handler took longer than %ds; answered with an error", HANDLER_TIMEOUT_S)
            reply = wire.error_reply("the master timed out on this request", rid)
            reply["retry"] = True
        except Exception as exc:
            reply = self._error_reply(exc, rid, "async")
        if rid is not None:
            reply["rid"] = rid
        await self._send_reply(req, reply)   # another task: never held for a burst

    def _error_reply(self, exc: Exception, rid: Any, kind: Any) -> dict[str, Any]:
        from master.storage import error_reply

        reply = error_reply(exc, self.services.storage, rid)
        if reply is None:
            log.error("handler for %r failed", kind, exc_info=exc)
            reply = wire.error_reply("internal error", rid)
        return reply

    async def _reply(self, req: Request, reply: dict[str, Any], caller: str = "") -> None:
        if self._held_replies is not None:
            self._held_replies.append((req, reply, caller))
            return
        await self._send_reply(req, reply)

    async def _send_reply(self, req: Request, reply: dict[str, Any]) -> None:
        try:
            data = wire.encode(reply)
        except WireError:
            data = wire.encode(wire.error_reply("reply too large", reply.get("rid")))
        await self.channel.send_reply(req.routing_id, data)

    # -- publishing ----------------------------------------------------------------------

    async def publish(self, job: wire.Job, minions: list[str]) -> None:
        """Send the job to each targeted minion's own topic (nobody else receives it)."""
        data = wire.encode(job.to_map())
        await self.channel.publish_many([wire.job_topic(mid) for mid in minions], data)

    async def _subscribers(self) -> None:
        while True:
            sub = await self.channel.recv_subscription()
            if sub is None:
                continue
            try:
                self._track_subscription(sub)
            except Exception:  # never let one event stop the publisher bookkeeping
                log.exception("subscription handling failed")

    def _track_subscription(self, sub: Any) -> None:
        """Record who is subscribed; kick a subscriber that is not allowed its topic."""
        if not sub.subscribe:
            # XPUB reports an unsubscribe when the last subscriber of a topic is gone (libzmq
            # makes it up for a dropped peer, without metadata): the topic names the minion
            if sub.topic.startswith(b"j/") and sub.topic.endswith(b"\x00"):
                mid = sub.topic[2:-1].decode(errors="replace")
                if self.services.subscribed.pop(mid, None) is not None:
                    self.services.presence_changed(mid, False)   # its running jobs are lost
            return
        mid = self.keystore.accepted_id(sub.conn.key) if sub.conn.key else None
        if mid is None:
            self.bad.warning("subscription from a key that is not accepted; kicked")
            self.channel.kick(sub.conn)
            return
        if sub.topic != wire.job_topic(mid):
            self.bad.warning("%s subscribed to a topic that is not its own; kicked", mid)
            self.channel.kick(sub.conn)
            return
        first = mid not in self.services.subscribed
        self.services.subscribed.setdefault(mid, set()).add(sub.conn)
        if first:
            self.services.presence_changed(mid, True)   # a waiting command publishes to it now

    # -- revocation ----------------------------------------------------------------------

    async def _keywatch(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            try:
                self.keys_changed()
            except OSError as exc:
                self._note_keys_unreadable(exc)
            except Exception:
                log.exception("key store check failed")

    def keys_changed(self) -> list[str]:
        """Re-read the key store; cut off every key that is no longer accepted. Returns ids cut."""
        self.keystore.refresh()
        self.services.registration.note_problems(self.keystore.problems())
        accepted = self.keystore.accepted()
        self.services.drift.note_keys(accepted)  # key accepted/revoked events (master/events.py)
        now_keys = set(accepted.values())
        revoked = self._accepted_keys - now_keys
        self._accepted_keys = now_keys
        cut: list[str] = []
        for key in revoked:
            for conn in self.channel.forget_key(key):
                self.channel.kick(conn)
        # Every job subscription is held against the key store as it is now, not only against
        # the keys that changed since the last look: a key accepted and revoked between two
        # looks never shows as revoked, and its subscriber would keep receiving jobs.
        for mid, conns in list(self.services.subscribed.items()):
            hit = {c for c in conns if accepted.get(mid) != c.key}
            for conn in hit:
                self.channel.kick(conn)
                cut.append(mid)
            conns -= hit
            if not conns:
                self.services.subscribed.pop(mid, None)
        if revoked or cut:
            log.warning("revoked %d key(s); live connections cut (subscriptions of %s)",
                        len(revoked), ", ".join(sorted(set(cut))) or "nobody")
        return cut

    async def _scheduled_drills(self) -> None:
        from master.drills.schedule import run_schedule
        await run_schedule(self.drills, self.drill_schedule)

    async def _self_backup(self) -> None:
        from master.backups.selfschedule import run_schedule
        await run_schedule(self.services, self.config)

    async def _presence(self) -> None:
        while True:
            await asyncio.sleep(2.0)
            try:
                self.services.flush_presence()
                self._prune_jobs()
            except Exception as exc:
                if self.services.storage.failed(exc) is None:  # a full store is logged once
                    log.exception("presence flush failed")

    def _prune_jobs(self) -> None:
        """Drop jobs older than keep_jobs hours (0: keep forever)."""
        if self.config.keep_jobs > 0:
            gone = self.jobstore.prune(time.time() - self.config.keep_jobs * 3600)
            if gone:
                log.info("pruned %d job(s) older than keep_jobs (%g h)", gone, self.config.keep_jobs)


def check_root(config: MasterConfig) -> None:
    """The root dir must exist (load_keypair refuses a key dir or key open to others)."""
    if not os.path.isdir(config.root):
        raise ConfigError(f"root directory {config.root} does not exist")


def run(config: MasterConfig) -> int:
    """Load keys (refusing unsafe permissions) and serve until SIGTERM."""
    from core.errors import KeyStoreError

    check_root(config)
    try:
        keypair = load_keypair(config.pki_dir, "master")
    except KeyStoreError as exc:
        raise ConfigError(str(exc)) from exc

    async def main() -> None:
        await MasterDaemon(config, keypair).serve()

    from core.pidlock import hold_pidlock

    with hold_pidlock(os.path.join(config.root, "master.pid"), "lpmaster"):
        asyncio.run(main())
    return 0

