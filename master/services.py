"""What request handlers and the control socket share: config, stores, presence, job waiters.

One object built by the daemon and handed to every handler (no globals). Pure Python
over the stores; no sockets here.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any, Mapping

from core import targeting
from core.config import MasterConfig
from core.jobstate import LOST_RETCODE, is_lost
from core.wire import Job, Return, encode, new_jid
from master.jobqueue import JobQueue
from master.jobstore import JobStore
from master.keystore import KeyStore
from master.presence_events import presence_event, return_event
from master.storage import StorageHealth, StorageUnavailable

log = logging.getLogger("lp.master")


class MasterServices:
    """The master's state as handlers see it."""

    def __init__(self, config: MasterConfig, keystore: KeyStore, jobstore: JobStore) -> None:
        self.config = config
        self.keystore = keystore
        self.jobstore = jobstore
        self.last_seen: dict[str, float] = {}
        self._unflushed_seen: dict[str, float] = {}
        self.grains: dict[str, dict[str, Any]] = {
            mid: info["grains"] for mid, info in jobstore.minions().items()}
        self.subscribed: dict[str, set[Any]] = {}     # minion id -> live XPUB connections
        self.storage = StorageHealth()                # a full disk: retry replies, status says so
        self.unstored: set[tuple[str, str]] = set()   # (jid, minion) returns seen but not stored yet
        from master.jobwait import InFlight
        self.in_flight = InFlight(self)               # published jobs without a return; lost on a drop
        self.presence_watchers: set[asyncio.Queue[tuple[str, Any]]] = set()   # master/jobwait.py
        self.started_at = time.time()
        self._job_targets: OrderedDict[str, frozenset[str]] = OrderedDict()
        self._waiters: dict[str, JobQueue] = {}   # Return, or a progress map (master/jobqueue.py)
        from master.returnbatch import ReturnBatch
        self.returns = ReturnBatch(jobstore, self.storage)   # a burst's returns: one transaction
        from master.converge import ConvergeServices
        self.converge = ConvergeServices(config, self.grains)  # file server, pillar, secret masking
        from master.drift.service import DriftService
        self.drift = DriftService(config.db_path, mask=self.converge.masker.mask)  # reports, events
        self.drift.note_keys(keystore.accepted())  # baseline for key accepted/revoked events
        from master.denied import DeniedNotices
        self.denied = DeniedNotices(self.drift.events)   # a key denied for a taken id: said once
        from master.clockskew import ClockSkew
        self.clock = ClockSkew(self.drift.events)  # minions whose clock is off (heartbeats)
        from master.mine.store import MineStore
        self.mine = MineStore(config.db_path)  # Salt's mine: what minions publish for templates
        from master.backups.service import BackupService
        self.backups = BackupService(config.db_path, mask=self.converge.masker.mask)  # the catalogue
        from master.drills.grants import PillarGrants
        self.pillar_grants = PillarGrants()  # drills: SCRATCH gets SOURCE's pillar for one job
        from master.registration import RegistrationGuard
        self.registration = RegistrationGuard(self.drift.events)  # register limits, operator notices
        from master import ratelimit
        self.scheduled_rate = ratelimit.PerMinionRate("scheduled_job", ratelimit.SCHEDULED_JOBS_PER_S,
                                                      ratelimit.SCHEDULED_JOBS_BURST)
        self.pillar_rate = ratelimit.PerMinionRate("pillar (or mine_update)", ratelimit.PILLAR_COMPILES_PER_S,
                                                   ratelimit.PILLAR_COMPILES_BURST,
                                                   "the master compiles this minion's pillar at most that often; "
                                                   "retry in a few seconds")

    # -- presence and grains -------------------------------------------------------------

    def touch(self, minion_id: str) -> None:
        now = time.time()
        self.last_seen[minion_id] = now
        self._unflushed_seen[minion_id] = now

    def flush_presence(self) -> None:
        """Write the last-seen times; on a full store they wait for the next flush."""
        seen, self._unflushed_seen = self._unflushed_seen, {}
        try:
            with self.storage.writing():
                self.jobstore.touch_minions(seen)
        except StorageUnavailable:
            self._unflushed_seen = {**seen, **self._unflushed_seen}

    def set_grains(self, minion_id: str, grains: Mapping[str, Any]) -> None:
        self.grains[minion_id] = dict(grains)
        with self.storage.writing():
            self.jobstore.set_grains(minion_id, grains)

    # -- jobs ----------------------------------------------------------------------------

    def select_targets(self, tgt: str, tgt_type: str) -> list[str]:
        """Accepted minions the target names (grain targets use the stored grains, I@/J@ each
        minion's pillar, N@ the config's nodegroups)."""
        accepted = self.keystore.accepted()
        grains = {mid: self.grains.get(mid, {}) for mid in accepted}
        nodegroups = self.config.nodegroups
        pillars = None
        if targeting.uses_pillar(tgt, tgt_type, nodegroups):
            pillars = {mid: self._pillar_for_targeting(mid) for mid in accepted}
        return targeting.select(grains, tgt, tgt_type, pillars=pillars, nodegroups=nodegroups)

    def _pillar_for_targeting(self, minion_id: str) -> dict[str, Any]:
        from core.errors import LinkpeekError
        from master.minion_grains import grains_of

        try:
            return self.converge.pillar.compile_for(minion_id, grains_of(self.grains, minion_id))[0]
        except LinkpeekError:  # a minion whose pillar does not compile matches no pillar target
            return {}

    def new_job(self, fun: str, arg: list[Any], kwarg: dict[str, Any], tgt: str, tgt_type: str,
                minions: list[str], user: str = "", ttl: float | None = None, *,
                jid: str | None = None, created: float | None = None) -> Job:
        """A job with a new id (or `jid`, checked by the caller), expiring after `ttl` (default
        job_ttl), recorded for `minions`; `created` when it ran before it was recorded."""
        now = time.time()
        job = Job(jid=jid or new_jid(now), fun=fun, arg=tuple(arg), kwarg=kwarg, tgt=tgt, tgt_type=tgt_type,
                  created=now if created is None else created,
                  expires=now + (self.config.job_ttl if ttl is None else ttl))
        encode(job.to_map())  # refuse an oversized job before recording it
        with self.storage.writing():
            self.jobstore.add_job(job, minions, user)
        self._job_targets[job.jid] = frozenset(minions)
        self.returns.note_job(job.jid)
        while len(self._job_targets) > 10_000:
            self._job_targets.popitem(last=False)
        return job

    def job_targets(self, jid: str) -> frozenset[str] | None:
        targets = self._job_targets.get(jid)
        if targets is None:
            stored = self.jobstore.job_minions(jid)
            targets = None if stored is None else frozenset(stored)
        return targets

    def store_return(self, minion_id: str, ret: Return) -> None:
        """Store idempotently; wake the CLI waiting on this job (first delivery only)."""
        ret = self.converge.mask_wire_return(minion_id, ret)  # secrets never reach the store or CLI
        queue = self._waiters.get(ret.jid)
        try:
            added = self.returns.hold(ret.jid, minion_id, ret)   # acked once the burst is stored
            if not added:
                with self.storage.writing():
                    added = self.jobstore.add_return(ret.jid, minion_id, ret)
        except StorageUnavailable:
            # the minion keeps it and sends it again; the waiting CLI sees it now, marked unstored
            if (ret.jid, minion_id) not in self.unstored and queue is not None:
                queue.put_nowait((minion_id, ret))
            self.unstored.add((ret.jid, minion_id))
            raise
        if not added and not is_lost(ret.retcode):   # a real return after the master called it lost
            with self.storage.writing():
                added = self.jobstore.replace_lost_return(ret.jid, minion_id, ret, LOST_RETCODE)
        if added:
            self.returns.noted(ret.jid, minion_id)
            if queue is not None and (ret.jid, minion_id) not in self.unstored:
                queue.put_nowait((minion_id, ret))
            return_event(self.drift.events, minion_id, ret)   # apply_failed
        else:
            log.info("duplicate return from %s for %s ignored", minion_id, ret.jid)
        self.in_flight.returned(minion_id, ret.jid)
        self.unstored.discard((ret.jid, minion_id))

    def presence_changed(self, minion_id: str, connected: bool) -> None:
        """A minion's job subscription came or went: waiting commands hear of it; the jobs it
        was running when its connection dropped are recorded lost."""
        for queue in list(self.presence_watchers):
            queue.put_nowait((minion_id, "connected" if connected else "disconnected"))
        self.in_flight.presence_changed(minion_id, connected)
        presence_event(self.drift.events, minion_id, connected)

    def job_progress(self, jid: str, minion_id: str, progress: dict[str, Any]) -> None:
        """Pass a running job's progress to the CLI waiting on it (if any); never stored."""
        queue = self._waiters.get(jid)
        if queue is not None:
            queue.put_progress(minion_id, progress)   # bounded: the oldest is dropped

    def watch_job(self, jid: str) -> JobQueue:
        queue = JobQueue()
        self._waiters[jid] = queue
        return queue

    def unwatch_job(self, jid: str) -> None:
        self._waiters.pop(jid, None)
