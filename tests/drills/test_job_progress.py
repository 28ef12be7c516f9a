"""A drill's job waits for the scratch host's Return: a `backup_progress` the scratch host sends
under the job's id (services.job_progress puts a dict on the same queue) is not its return.
A stand-in daemon (queues and the grant table only): the real ROUTER path is
master/backups/handlers.handle_backup_progress, which accepts progress from any job's target."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

from core.wire import Return
from master.drills.grants import PillarGrants
from master.drills.jobs import run_on


def test_progress_under_a_drill_jobs_id_is_not_its_return():
    async def scenario():
        queues: dict[str, asyncio.Queue] = {}
        job = SimpleNamespace(jid="20261201111111111111abcdef", expires=1e12)
        services = SimpleNamespace(
            subscribed={"scratch1"}, pillar_grants=PillarGrants(),
            keystore=SimpleNamespace(accepted=lambda: {"scratch1": "KEY"}),
            new_job=lambda *a, **k: job, watch_job=lambda jid: queues.setdefault(jid, asyncio.Queue()),
            unwatch_job=lambda jid: queues.pop(jid, None))

        async def publish(job, minions):
            queues[job.jid].put_nowait(("scratch1", {"job": "db", "percent_done": 1.0}))
            queues[job.jid].put_nowait(("scratch1", Return(job.jid, "state.apply", True, {"ok": True})))

        daemon = SimpleNamespace(services=services, config=SimpleNamespace(job_ttl=60), publish=publish)
        ret, why = await run_on(daemon, "scratch1", "state.apply", [], {}, timeout=5, as_source="web1")
        assert services.pillar_grants.live() == []
        return ret, why

    ret, why = asyncio.run(scenario())
    assert isinstance(ret, Return) and ret.ret == {"ok": True}, (ret, why)
