"""`lpminion start`: the minion daemon.

    pin the master key -> register (backoff until accepted) -> subscribe to its own topic
    -> heartbeats + jobs + spool delivery, until the master says the key is no longer
    accepted; then start over with fresh sockets (libzmq never retries a refused one).

Jobs run in worker threads (functions block), so heartbeats go on during a long job.
A return that cannot be delivered is spooled to disk and delivered after the next
successful heartbeat.
"""
from __future__ import annotations

import asyncio
import logging
import os
import random
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from core import wire
from core.channel import ClientChannel
from core.config import MinionConfig
from core.errors import ConfigError, KeyStoreError, TransportError, WireError
from core.keys import KeyPair, load_keypair
from core.loopwatch import watch_loop
from minion.jobguard import SeenJobs
from minion.link import MasterLink
from minion.spool import kept_drift_report_path, shared as shared_spool

ADOPT_ID = "minion.adopt_id"  # minion/functions/identity.py
REFRESH_PILLAR = "saltutil.refresh_pillar"  # as Salt's: the minion's schedule follows the new pillar
# Functions that return at once, without I/O: run on the event loop, not in a worker thread.
INSTANT_FUNCTIONS = frozenset({"test.ping", "test.echo"})
WARM_UP_SPREAD_S = 1.0  # the state machinery loads within this long of starting,
WARM_UP_MAX_WAIT_S = 15.0  # once the CPU is quiet (minion/idle.py), or after this long in any case

log = logging.getLogger("lp.minion")


class SessionEnded(Exception):
    """The master no longer accepts our key: start over from registration."""


class MinionDaemon:
    """One minion: its channel, link, spool and job runner."""

    def __init__(self, config: MinionConfig, keypair: KeyPair, ctx: Any = None,
                 pool: ThreadPoolExecutor | None = None, grains: dict[str, Any] | None = None) -> None:
        """`ctx`, `pool` and `grains` may be shared (bench/fanout.py hosts many minions)."""
        self.config = config
        self.keypair = keypair
        self._zmq_ctx = ctx
        self.topic = wire.job_topic(config.id)
        self.spool = shared_spool(f"{config.spool_dir}/returns")
        self.seen = SeenJobs(f"{config.cache_dir}/seen_jids")
        from minion.clock import MasterClock
        self.clock = MasterClock()
        from minion.jobrecord import RunningJobs
        self.running = RunningJobs(f"{config.cache_dir}/running")   # a crash leaves what was cut off
        self._own_pool = pool is None
        self.pool = pool or ThreadPoolExecutor(max_workers=max(1, config.job_workers),
                                               thread_name_prefix="job")
        self._grains: dict[str, Any] | None = grains
        self._stopping = asyncio.Event()
        self._running_jobs: set[asyncio.Task[None]] = set()
        self.channel: ClientChannel | None = None
        self.link: MasterLink | None = None
        self.publish_port: int | None = None
        self.lifecycle: Any = None  # minion.lifecycle.Lifecycle, made once the key is accepted
        self.restart_requested = False

    @property
    def grains(self) -> dict[str, Any]:
        if self._grains is None:
            from minion import grains
            self._grains = grains.collect(self.config.id, self.config.grains)
        return self._grains

    # -- main ----------------------------------------------------------------------------

    async def run(self, install_signals: bool = True) -> None:
        """Run until stop() (or SIGTERM)."""
        if install_signals:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self._on_signal, sig)
        self._report_cut_off_jobs()
        master_key = await self._master_key()
        if master_key is None:
            return
        cfg = self.config
        self.channel = ClientChannel(master_key, self.keypair.public, self.keypair.secret, ctx=self._zmq_ctx)
        self.link = MasterLink(self.channel, f"tcp://{cfg.master}:{cfg.master_port}")
        self._running_jobs.add(asyncio.ensure_future(self._warm_up_later()))
        try:
            main = asyncio.ensure_future(self._sessions())
            stop = asyncio.ensure_future(self._stopping.wait())
            await asyncio.wait({main, stop}, return_when=asyncio.FIRST_COMPLETED)
            if main.done() and not stop.done():
                log.error("the minion's main task ended unexpectedly: %r",
                          main.exception() if not main.cancelled() else "cancelled")
            main.cancel()
            stop.cancel()
            try:
                await main
            except asyncio.CancelledError:
                pass
        finally:
            for task in list(self._running_jobs):
                task.cancel()
            self.link.close()
            self.channel.close()
            if self._own_pool:
                self.pool.shutdown(wait=False, cancel_futures=True)
            self.seen.close()
            self.running.close()
            log.info("minion %s stopped", cfg.id)

    def _report_cut_off_jobs(self) -> None:
        """Spool a `lost` return for each job the previous process started and never finished."""
        for ret in self.running.lost_returns():
            log.warning("job %s (%s) was cut off when this minion last stopped; reporting it lost",
                        ret.jid, ret.fun)
            self.spool.put(ret.to_map(), tag=ret.jid)
            self.running.finished(ret.jid)

    def stop(self) -> None:
        self._stopping.set()

    def _on_signal(self, sig: int) -> None:
        log.info("received %s; stopping", signal.Signals(sig).name)
        self._stopping.set()

    async def _master_key(self) -> str | None:
        """The pinned master key; fetch (and check) it first if not recorded yet."""
        from minion.enroll import accept_master_key, fetch_master_key, pinned_master_key

        cfg = self.config
        pinned = pinned_master_key(cfg)
        delay = 0.5
        while not self._stopping.is_set():
            try:
                key = await fetch_master_key(cfg.master, cfg.master_key_port, timeout=3)
            except TransportError as exc:
                if pinned is not None:
                    return pinned  # the master is away; the pin is all we need
                log.info("%s; retrying in %.1fs", exc, delay)
                await self._sleep(delay)
                delay = min(delay * 2, cfg.register_backoff_max)
                continue
            return accept_master_key(cfg, key)  # raises KeyStoreError on a changed key
        return None

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    async def _sessions(self) -> None:
        assert self.link is not None and self.channel is not None
        while True:
            self.link.open()
            await self._register()
            log.info("minion %s accepted; subscribing", self.config.id)
            try:
                async with asyncio.TaskGroup() as tg:
                    tg.create_task(self._heartbeats())
                    tg.create_task(self._jobs())
                    tg.create_task(self._lifecycle())
            except* SessionEnded:
                log.warning("the master no longer accepts this minion's key; registering again")
            self.channel.close_jobs()

    async def _register(self) -> None:
        """Register until the key is accepted (backoff between attempts)."""
        assert self.link is not None
        cfg = self.config
        delay = 0.5
        last_state = None
        while True:
            try:
                reply = await self.link.request(wire.message("register", id=cfg.id), cfg.request_timeout)
            except TransportError as exc:
                log.info("register: %s", exc)
                reply = {}
            state = reply.get("state")
            if reply.get("type") == "registered" and state == "accepted":
                self.publish_port = int(reply["publish_port"])
                return
            if state != last_state and state == "denied":
                log.error("id %s is already accepted on the master with another key; use another id "
                          "(lpminion init --id), or delete the old key on the master "
                          "(lpmaster keys delete %s --accepted) if this host replaces it", cfg.id, cfg.id)
                last_state = state
            elif state != last_state and state:
                log.warning("key state is %s; waiting to be accepted", state)
                last_state = state
            elif reply.get("type") == "error":
                log.warning("register refused: %s", str(reply.get("error"))[:200])
            await asyncio.sleep(delay)
            delay = min(delay * 2, cfg.register_backoff_max)

    def _subscribe(self) -> None:
        assert self.channel is not None
        self.channel.connect_jobs(f"tcp://{self.config.master}:{self.publish_port}", self.topic)

    async def _heartbeats(self) -> None:
        """Beat; send grains after (re)connecting; deliver the spool; notice revocation."""
        assert self.link is not None
        cfg = self.config
        self._subscribe()
        send_grains = True
        unsubscribed_beats = 0
        while True:
            sent_at = time.time()
            msg = wire.message("heartbeat", clock=sent_at)
            if send_grains:
                msg["grains"] = self.grains
            try:
                reply = await self.link.request(msg, cfg.request_timeout)
                self.clock.observe(sent_at, time.time(), reply.get("master_time"))
            except TransportError as exc:
                log.info("heartbeat: %s", exc)
                send_grains = True
                await asyncio.sleep(min(cfg.heartbeat_interval, 2.0))
                continue
            if reply.get("type") == "error":
                if "state" in reply:
                    raise SessionEnded()
                log.warning("heartbeat refused: %s", str(reply.get("error"))[:200])
            else:
                send_grains = False
                if reply.get("subscribed") is False:
                    unsubscribed_beats += 1
                    if unsubscribed_beats >= 2:  # e.g. a reconnect that ZAP refused: re-open
                        log.info("the master does not see our subscription; re-subscribing")
                        self._subscribe()
                        unsubscribed_beats = 0
                else:
                    unsubscribed_beats = 0
                await self._deliver_spool()
            await asyncio.sleep(cfg.heartbeat_interval)

    # -- converge on boot and the scheduler (minion/lifecycle.py) -------------------------

    async def _lifecycle(self) -> None:
        """Once per process: start the scheduler, announce the start, run the boot converge."""
        from minion.lifecycle import Lifecycle

        if self.lifecycle is None:
            self.lifecycle = Lifecycle(self.config, self.grains, self._request_for_functions,
                                       self._run_own_job, self._run_scheduled)
            self._running_jobs.add(asyncio.ensure_future(self.lifecycle.scheduler.run()))
        await self.lifecycle.on_connected()

    async def _warm_up_later(self) -> None:
        """Load the state machinery soon after starting (spread over a second, and once the
        CPU is quiet, so a fleet starting together connects first; a minion waiting to be
        accepted loads it meanwhile): the first apply runs warm."""
        from minion.idle import until_cpu_quiet
        from minion.remote_apply import warm_up

        await asyncio.sleep(WARM_UP_SPREAD_S * random.random())
        await until_cpu_quiet(WARM_UP_MAX_WAIT_S)
        await asyncio.get_running_loop().run_in_executor(self.pool, warm_up)

    async def _run_own_job(self, job: wire.Job) -> asyncio.Future[None] | None:
        """Start a job the master recorded for us outside a publication (converge on boot);
        return its task (None when that job id already ran here)."""
        return self._start_job(job)

    def _start_job(self, job: wire.Job) -> asyncio.Task[None] | None:
        """Run `job` in the background unless its id already ran here, or is no job id at all
        (an own job's id comes from a master reply, not a checked publication): then None."""
        if not wire.JID_RE.match(job.jid):
            log.warning("job id %r from the master refused", job.jid[:64])
            return None
        if not self.seen.first_time(job.jid, job.expires):
            return None
        task = asyncio.ensure_future(self._run_job(job))
        self._running_jobs.add(task)
        task.add_done_callback(self._running_jobs.discard)
        return task

    async def _run_scheduled(self, name: str, fun: str, arg: list[Any], kwarg: dict[str, Any]) -> None:
        """A job of our schedule: the master records it (`scheduled_job`) and it runs like any
        job, its return going to the job store. With the master away it runs here all the
        same, and the request, with the return, is spooled and delivered later."""
        assert self.link is not None
        msg = wire.message("scheduled_job", name=name, fun=fun, arg=list(arg), kwarg=dict(kwarg))
        try:
            reply: dict[str, Any] | None = await self.link.request(msg, self.config.request_timeout)
        except TransportError:
            reply = None
        if reply is not None and reply.get("type") == "started" and reply.get("jid"):
            now = time.time()
            job = wire.Job(jid=str(reply["jid"]), fun=fun, arg=tuple(arg), kwarg=dict(kwarg),
                           tgt=self.config.id, tgt_type="list", created=now,
                           expires=float(reply.get("expires") or now + 300))
            task = await self._run_own_job(job)
            if task is not None:
                await task
            return
        refused = (reply is not None and "state" not in reply   # not just away, our key unaccepted,
                   and not reply.get("retry"))                  # or the master's store full
        if refused:
            log.warning("master refused to record scheduled job %s: %s", name, str(reply.get("error"))[:200])
        loop = asyncio.get_running_loop()
        ran_at = time.time()
        local = wire.Job(jid=wire.new_jid(ran_at), fun=fun, arg=tuple(arg), kwarg=dict(kwarg))
        ret = await loop.run_in_executor(self.pool, self._execute, local, loop)
        if refused:
            log.info("scheduled job %s finished: %s", name, "ok" if ret.success else "failed")
            return  # the master will not take it; the log has it
        msg["return"] = {"success": ret.success, "ret": ret.ret, "retcode": ret.retcode}
        msg["run_id"], msg["ran_at"] = local.jid, ran_at   # recorded when it ran, and once (offline_runs)
        try:
            msg = wire.decode(wire.encode(msg))
        except WireError as exc:
            msg["return"] = {"success": False, "ret": f"Error: return not sendable: {exc}", "retcode": 1}
        path = self.spool.put(msg, tag="schedule")
        log.warning("master away: scheduled job %s ran here; its return is spooled (%s)", name, path)

    # -- jobs ----------------------------------------------------------------------------

    async def _jobs(self) -> None:
        assert self.channel is not None
        while True:
            if self.channel.sub is None:
                await asyncio.sleep(0.1)
                continue
            try:
                got = await self.channel.recv_job()
            except TransportError as exc:  # the socket was re-opened under us
                log.debug("job socket: %s", exc)
                await asyncio.sleep(0.05)
                continue
            if got is None or got[0] != self.topic:
                log.warning("publication with an unexpected layout or topic dropped")
                continue
            try:
                self._accept_job(got[1])
            except Exception:  # one bad publication must not end the session
                log.exception("job handling failed")

    def _accept_job(self, payload: bytes) -> None:
        """Validate a publication (shape, freshness, first time) and start the job."""
        try:
            job = wire.Job.from_map(wire.decode(payload))
        except WireError as exc:
            log.warning("bad job dropped: %s", exc)
            return
        why = job.freshness_error(now=self.clock.now())   # in the master's time (minion/clock.py)
        if why is not None:
            log.warning("refusing job: %s", why)
            return
        if self._start_job(job) is None:
            log.warning("job %s already ran here; replay ignored", job.jid)

    async def _run_job(self, job: wire.Job) -> None:
        log.info("running job %s: %s", job.jid, job.fun)
        self.running.started(job)
        loop = asyncio.get_running_loop()
        if job.fun in INSTANT_FUNCTIONS:   # no thread hand-off and back for what returns at once
            ret = self._execute(job, loop)
        else:
            ret = await loop.run_in_executor(self.pool, self._execute, job, loop)
        try:
            await self._deliver(ret)
        except Exception:  # whatever went wrong on the way, the return is kept
            log.exception("delivering the return for %s failed; spooling it", job.jid)
            self.spool.put(ret.to_map(), tag=ret.jid)
        self.running.finished(job.jid)
        if job.fun == REFRESH_PILLAR and ret.success and self.lifecycle is not None:
            await self.lifecycle.refresh_pillar_schedule()
        if job.fun == ADOPT_ID and ret.success:  # a rebuild gave us a new id: restart under it
            log.warning("this minion now runs as %s; restarting", (ret.ret or {}).get("id"))
            self.restart_requested = True
            self._stopping.set()

    def _execute(self, job: wire.Job, loop: asyncio.AbstractEventLoop) -> wire.Return:
        """Run one function (in a worker thread, or on the loop for INSTANT_FUNCTIONS); every
        failure becomes a failed return."""
        from minion import functions
        from minion.functions.context import JobContext

        try:
            fn = functions.lookup(job.fun)
        except functions.UnknownFunction as exc:
            return wire.Return(job.jid, job.fun, success=False, ret=f"Error: {exc}", retcode=254)
        ctx = JobContext(config=self.config, grains=self.grains, jid=job.jid,
                         request_async=self._request_for_functions, loop=loop)
        try:
            result = fn(ctx, *job.arg, **dict(job.kwarg))
        except TypeError as exc:
            return wire.Return(job.jid, job.fun, success=False, ret=f"Error: bad arguments: {exc}", retcode=254)
        except Exception as exc:  # a failing function fails its job, never the minion
            log.info("job %s (%s) raised %s", job.jid, job.fun, type(exc).__name__)
            return wire.Return(job.jid, job.fun, success=False,
                               ret=f"Error: {type(exc).__name__}: {exc}", retcode=1)
        if all(hasattr(result, a) for a in ("ret", "success", "retcode")):
            return wire.Return(job.jid, job.fun, success=bool(result.success), ret=result.ret,
                               retcode=int(result.retcode))
        return wire.Return(job.jid, job.fun, success=True, ret=result, retcode=0)

    async def _request_for_functions(self, message: dict[str, Any]) -> dict[str, Any]:
        assert self.link is not None
        return await self.link.request(message, self.config.request_timeout)

    async def _deliver(self, ret: wire.Return) -> None:
        """Send a return; spool it durably if the master does not ack it."""
        assert self.link is not None
        msg = ret.to_map()
        try:
            if not (ret.ret is None or isinstance(ret.ret, bool)):   # as the master will decode it
                msg = wire.decode(wire.encode(msg))
        except WireError as exc:
            msg = wire.Return(ret.jid, ret.fun, False, f"Error: return not sendable: {exc}", 1).to_map()
        try:
            reply = await self.link.request(msg, self.config.request_timeout)
        except TransportError:
            path = self.spool.put(msg, tag=ret.jid)
            log.warning("master away: return for %s spooled (%s)", ret.jid, path)
            return
        if reply.get("type") == "error" and reply.get("retry"):
            path = self.spool.put(msg, tag=ret.jid)
            log.warning("the master could not store the return for %s now (%s); kept in the spool (%s) "
                        "and sent again", ret.jid, str(reply.get("error"))[:200], path)
        elif reply.get("type") == "error":
            log.warning("master refused return for %s: %s", ret.jid, str(reply.get("error"))[:200])

    async def _deliver_spool(self) -> None:
        """Deliver the spooled returns, oldest first, then the kept drift report."""
        for path, msg in self.spool.items():
            jid = msg.get("jid")
            if not await self._deliver_kept(msg, f"spooled {msg.get('type')}" + (f" for {jid}" if jid else "")):
                return
            self.spool.remove(path)
        await self._deliver_drift_report()

    async def _deliver_drift_report(self) -> None:
        """Send the drift report a check kept while the master was away (minion/drift_remote.py)."""
        if not os.path.exists(kept_drift_report_path(self.config.spool_dir)):
            return   # the usual case, told without loading the drift code
        from minion.drift_remote import clear_spooled_report, spooled_report

        report = spooled_report(self.config.spool_dir)
        if report is None or not await self._deliver_kept(wire.message("drift", report=report),
                                                          "the kept drift report"):
            return
        seq = report.get("seq")
        clear_spooled_report(self.config.spool_dir, seq if isinstance(seq, int) else -1)

    async def _deliver_kept(self, msg: dict[str, Any], what: str) -> bool:
        """Send a message kept on disk; True when it is settled (acked, or refused for good),
        False when it must stay: the master is away or does not accept our key (now)."""
        assert self.link is not None
        try:
            reply = await self.link.request(msg, self.config.request_timeout)
        except TransportError:
            return False
        if reply.get("type") == "error" and ("state" in reply or reply.get("retry")):
            return False
        if reply.get("type") == "error":
            log.warning("master refused %s: %s", what, str(reply.get("error"))[:200])
        else:
            log.info("delivered %s", what)
        return True


def run(config: MinionConfig) -> int:
    """Load keys (refusing unsafe permissions) and run until SIGTERM."""
    try:
        keypair = load_keypair(config.pki_dir, "minion")
    except KeyStoreError as exc:
        raise ConfigError(str(exc)) from exc

    daemon = MinionDaemon(config, keypair)

    async def main() -> None:
        watch = asyncio.ensure_future(watch_loop(log))   # warns when something holds the loop
        try:
            await daemon.run()
        finally:
            watch.cancel()

    from core.pidlock import hold_pidlock

    try:
        with hold_pidlock(os.path.join(config.root, "minion.pid"), f"lpminion {config.id}"):
            asyncio.run(main())
    except KeyStoreError as exc:  # a changed master key, found at start
        raise ConfigError(str(exc)) from exc
    if daemon.restart_requested:  # same process, same argv: the config now names the new id
        import sys
        os.execv(sys.executable, sys.orig_argv)
    return 0
