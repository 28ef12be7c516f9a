"""master/returnbatch.py over a real job store: a burst's returns are written together, once each."""
from __future__ import annotations

import time

from core import wire
from core.jobstate import LOST_RETCODE
from master.jobstore import JobStore
from master.returnbatch import ReturnBatch
from master.storage import StorageHealth


def _job(store: JobStore, minions: list[str]) -> wire.Job:
    now = time.time()
    job = wire.Job(jid=wire.new_jid(), fun="test.ping", created=now, expires=now + 60)
    store.add_job(job, minions)
    return job


def test_a_bursts_returns_are_stored_at_its_end_once_each(tmp_path):
    store = JobStore(str(tmp_path / "master.db"))
    batch = ReturnBatch(store, StorageHealth())
    job = _job(store, ["m1", "m2"])
    batch.note_job(job.jid)
    batch.open()
    ok = wire.Return(job.jid, "test.ping", True, True)
    assert batch.hold(job.jid, "m1", ok) is True
    assert batch.hold(job.jid, "m2", ok) is True
    assert store.returns(job.jid) == {}                  # nothing acked yet, nothing written yet
    assert batch.hold(job.jid, "m1", ok) is False        # a resend: the store decides, after a flush
    assert set(store.returns(job.jid)) == {"m1", "m2"}
    assert store.add_return(job.jid, "m1", ok) is False
    assert batch.commit() == (set(), None)
    assert set(store.returns(job.jid)) == {"m1", "m2"}


def test_returns_the_batch_cannot_judge_are_left_to_the_store(tmp_path):
    store = JobStore(str(tmp_path / "master.db"))
    batch = ReturnBatch(store, StorageHealth())
    older = _job(store, ["m1"])                           # e.g. made before a master restart
    recent = _job(store, ["m1"])
    batch.note_job(recent.jid)
    lost = wire.Return(recent.jid, "test.ping", False, "Lost", LOST_RETCODE)
    assert batch.hold(recent.jid, "m1", lost) is False   # no burst open: stored directly
    store.add_return(recent.jid, "m1", lost)
    batch.noted(recent.jid, "m1")
    batch.open()
    assert batch.hold(older.jid, "m1", wire.Return(older.jid, "test.ping", True, True)) is False
    assert batch.hold(recent.jid, "m1", wire.Return(recent.jid, "test.ping", True, True)) is False
    assert batch.commit() == (set(), None)


def test_a_spooled_scheduled_run_whose_return_a_full_store_refused_is_not_answered_started(tmp_path):
    """Its `started` is what the minion drops the spooled run for: the job fits, its return
    does not (SQLite's own page limit, as a full disk), so the minion gets the retry reply."""
    import asyncio

    from core.channel import Connection, Request
    from core.config import MasterConfig
    from core.keys import generate_keypair
    from master.daemon import MasterDaemon
    from master.drift.handlers import handle_scheduled_job

    cfg = MasterConfig(root=str(tmp_path))
    daemon = MasterDaemon(cfg, generate_keypair(str(tmp_path / "keys"), "master"))
    db = daemon.jobstore.db
    (pages,) = db.execute("PRAGMA page_count").fetchone()
    db.execute(f"PRAGMA max_page_count = {pages + 16}")
    run_id = wire.new_jid()
    request = {"type": "scheduled_job", "name": "tick", "fun": "cmd.run", "arg": ["date"], "kwarg": {},
               "run_id": run_id, "ran_at": time.time(),
               "return": {"success": True, "retcode": 0, "ret": "x" * 400_000}}
    req = Request(routing_id=b"m1", payload=b"", conn=Connection(key="k", fd=0, peer=None))

    async def burst():
        daemon._held_replies = []
        daemon.services.returns.open()
        await daemon._reply(req, handle_scheduled_job(daemon.services, "m1", request), "m1")
        return daemon._settle_burst()

    try:
        ((sent, reply),) = asyncio.run(burst())
        assert sent is req
        assert reply["type"] == "error" and reply["retry"] is True, reply
        assert "full" in reply["error"]
        assert daemon.jobstore.get_job(run_id) is not None and daemon.jobstore.returns(run_id) == {}
        assert (run_id, "m1") in daemon.services.unstored
    finally:
        daemon.jobstore.close()
        daemon.drills.close()
