"""Waiting for a job's returns: who to publish to, who to wait for, and when to stop.

    await wait_for_job(services, publish, job, minions, timeout, send, stopping)

- A target with a live job subscription gets the job at once.
- A target without one is waited for only when it may connect soon (it was heard from since
  it last dropped, or its key was just accepted and it is registering, or the master itself
  just started and minions are re-subscribing); it gets the job the moment it subscribes.
  Any other is reported `not connected` at once: no waiting on minions that are gone.
- A minion whose connection drops while it runs the job, and that has not subscribed again
  LOST_GRACE_S later, is recorded `lost` (InFlight), and the waiting command stops waiting for
  it then. The grace is for a minion that only re-opened its sockets (a link reset): it is
  still running the job and returns it. (A minion that crashed and restarted within the grace
  reports its cut-off jobs as lost itself.)
- When the master stops, the command is told so (`stopping`), with the job id.

`send(event)` writes one event to the CLI; `publish(job, ids)` sends the job on the PUB socket.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Awaitable, Callable

from core.jobstate import LOST_RETCODE, is_lost, lost_text
from core.wire import Job, Return
from master.jobqueue import dropped_event

log = logging.getLogger("lp.master.jobs")

LOST_GRACE_S = 5.0

Send = Callable[[dict[str, Any]], Awaitable[None]]
Publish = Callable[[Job, list[str]], Awaitable[None]]


class InFlight:
    """Jobs published to each minion that have no return yet (their id, function, expiry)."""

    def __init__(self, services: Any) -> None:
        self.services = services
        self._jobs: dict[str, dict[str, tuple[str, float]]] = {}   # minion -> {jid: (fun, expires)}
        self.disconnected_at: dict[str, float] = {}

    def published(self, job: Job, minions: list[str]) -> None:
        for mid in minions:
            self._jobs.setdefault(mid, {})[job.jid] = (job.fun, job.expires)

    def returned(self, minion_id: str, jid: str) -> None:
        jobs = self._jobs.get(minion_id)
        if jobs is not None:
            jobs.pop(jid, None)
            if not jobs:
                self._jobs.pop(minion_id, None)

    def presence_changed(self, minion_id: str, connected: bool) -> None:
        if connected:
            return
        self.disconnected_at[minion_id] = time.time()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._lost_unless_back(minion_id)
            return
        loop.call_later(LOST_GRACE_S, self._lost_unless_back, minion_id)

    def _lost_unless_back(self, minion_id: str) -> None:
        if minion_id in self.services.subscribed:
            return
        now = time.time()
        for jid, (fun, expires) in sorted(self._jobs.pop(minion_id, {}).items()):
            if expires < now:
                continue
            ret = Return(jid, fun, success=False, retcode=LOST_RETCODE,
                         ret=lost_text(fun, f"the connection to {minion_id} dropped"))
            log.warning("job %s lost on %s: its connection dropped while it ran %s", jid, minion_id, fun)
            try:
                self.services.store_return(minion_id, ret)
            except Exception as exc:  # a full store: the minion reports it itself after a restart
                log.warning("could not record job %s as lost on %s: %s", jid, minion_id, exc)

    def may_connect_soon(self, minion_id: str, now: float, accepted: dict[str, str]) -> bool:
        """Whether a target without a subscription is worth waiting for (see the module doc).
        `accepted`: the key store's accepted(), read once by the caller for all its targets."""
        services = self.services
        window = services.config.minion_down_after
        key = accepted.get(minion_id)
        heard = max(services.last_seen.get(minion_id, 0.0),
                    services.registration.registered_at.get(key, 0.0) if key else 0.0)
        gone = self.disconnected_at.get(minion_id)
        if gone is not None and heard <= gone:
            return False                      # dropped, and silent since
        if now - heard < window:
            return True
        return gone is None and now - services.started_at < window


async def wait_for_job(services: Any, publish: Publish, job: Job, minions: list[str], timeout: float,
                       send: Send, stopping: asyncio.Event) -> None:
    """Publish `job`, stream its returns to `send`, end with a `done` event (module doc)."""
    loop = asyncio.get_running_loop()
    queue = services.watch_job(job.jid)
    services.presence_watchers.add(queue)
    try:
        await send({"event": "job", "jid": job.jid, "minions": minions})
        now = time.time()
        live = [mid for mid in minions if mid in services.subscribed]
        missing: dict[str, str] = {}
        coming: set[str] = set()
        accepted = services.keystore.accepted() if len(live) < len(minions) else {}
        for mid in minions:
            if mid in services.subscribed:
                continue
            if services.in_flight.may_connect_soon(mid, now, accepted):
                coming.add(mid)
            else:
                missing[mid] = "not connected"
        published = set(live)
        if live:
            services.in_flight.published(job, live)
            await publish(job, live)
        waiting = set(minions) - set(missing)
        deadline = loop.time() + timeout
        stopped = False
        stop_wait = asyncio.ensure_future(stopping.wait())
        try:
            while waiting:
                left = deadline - loop.time()
                if left <= 0:
                    break
                get = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait({get, stop_wait}, timeout=left, return_when=asyncio.FIRST_COMPLETED)
                if get not in done:
                    get.cancel()
                    stopped = stop_wait in done
                    break
                items = [get.result()]
                while not queue.empty():   # a burst of returns: one wakeup, not a future each
                    items.append(queue.get_nowait())
                for mid, item in items:
                    if mid not in waiting:
                        continue
                    if item == "connected":
                        if mid in coming:
                            coming.discard(mid)
                            published.add(mid)
                            services.in_flight.published(job, [mid])
                            await publish(job, [mid])
                    elif isinstance(item, dict):   # a progress update (services.job_progress)
                        dropped = queue.take_dropped()
                        if dropped:
                            await send(dropped_event(dropped))
                        await send({"event": "progress", "minion": mid, **item})
                    elif isinstance(item, Return):
                        waiting.discard(mid)
                        if is_lost(item.retcode):
                            missing[mid] = f"lost: {item.ret}" if isinstance(item.ret, str) else "lost"
                            continue
                        await send({"event": "return", "minion": mid, "success": item.success,
                                    "retcode": item.retcode, "ret": item.ret,
                                    "stored": (job.jid, mid) not in services.unstored})
        finally:
            stop_wait.cancel()
        for mid in sorted(waiting):
            if stopped:
                missing[mid] = "the master stopped while waiting"
            elif mid in published and mid in services.subscribed:
                missing[mid] = "no answer"
            else:
                missing[mid] = "not connected"
        dropped = queue.take_dropped()
        if dropped:
            await send(dropped_event(dropped))
        done_event: dict[str, Any] = {"event": "done", "jid": job.jid, "missing": dict(sorted(missing.items()))}
        if stopped:
            done_event["stopping"] = True
        skew = services.clock.off(minions)
        if skew:
            done_event["clock_skew"] = skew
        if services.storage.problem is not None:
            done_event["storage"] = services.storage.as_dict()
        await send(done_event)
    finally:
        services.presence_watchers.discard(queue)
        services.unwatch_job(job.jid)
