"""The minion's job guards in-process: expiry both ways, a job id at most once, spooling."""
from __future__ import annotations

import asyncio
import time

from core import wire
from core.config import load_minion
from core.keys import load_keypair
from minion.daemon import MinionDaemon
from minion.enroll import init_minion


def _daemon(tmp_path) -> MinionDaemon:
    cfg = init_minion(str(tmp_path / "m"), "m1", "127.0.0.1:1", trust_first_use=True)
    cfg = load_minion(str(tmp_path / "m" / "minion.yaml"))
    return MinionDaemon(cfg, load_keypair(cfg.pki_dir, "minion"))


def _payload(created: float, expires: float, jid: str | None = None) -> bytes:
    job = wire.Job(jid=jid or wire.new_jid(), fun="test.echo", arg=("hi",), created=created, expires=expires)
    return wire.encode(job.to_map())


async def _settle(daemon: MinionDaemon) -> None:
    while daemon._running_jobs:
        await asyncio.gather(*daemon._running_jobs, return_exceptions=True)


async def test_expired_future_and_replayed_jobs_do_not_run(tmp_path):
    daemon = _daemon(tmp_path)
    now = time.time()
    daemon._accept_job(_payload(now - 600, now - 300))          # expired
    daemon._accept_job(_payload(now + 3600, now + 3900))        # dated an hour ahead
    daemon._accept_job(b"\x93garbage")                          # not a job at all
    jid = wire.new_jid()
    daemon._accept_job(_payload(now, now + 60, jid))
    daemon._accept_job(_payload(now, now + 60, jid))            # the same publication replayed
    await _settle(daemon)
    # no master link here: the one return that was produced went to the spool
    returns = [msg for _, msg in daemon.spool.items()]
    assert [(r["jid"], r["ret"]) for r in returns] == [(jid, "hi")]
    daemon.seen.close()
    daemon.pool.shutdown()


async def test_a_job_id_seen_before_a_restart_is_not_run_again(tmp_path):
    first = _daemon(tmp_path)
    now = time.time()
    jid = wire.new_jid()
    first._accept_job(_payload(now, now + 60, jid))
    await _settle(first)
    first.seen.close()
    first.pool.shutdown()
    again = MinionDaemon(first.config, first.keypair)
    again._accept_job(_payload(now, now + 60, jid))
    assert not again._running_jobs
    again.seen.close()
    again.pool.shutdown()
