"""One job on one minion, published and awaited by the daemon, optionally as another minion.

    ret, why = await run_on(daemon, "scratch1", "state.apply", ["web"], {}, as_source="web1",
                            timeout=1800, user="drill:web1")

`as_source` binds a pillar-as grant (grants.py) to the job's id before it is published and
revokes it when the job returned or timed out, so SOURCE's pillar is served for this job only.
Returns (the wire Return, "") or (None, why it did not return).
"""
from __future__ import annotations

import asyncio
from typing import Any

from core.wire import Return


async def run_on(daemon: Any, minion: str, fun: str, arg: list[Any], kwarg: dict[str, Any], *,
                 timeout: float, as_source: str | None = None, user: str = "") -> tuple[Return | None, str]:
    services = daemon.services
    if minion not in services.subscribed:
        return None, f"{minion} is not connected to the master"
    job = services.new_job(fun, arg, kwarg, minion, "list", [minion], user,
                           ttl=max(daemon.config.job_ttl, timeout + 30))
    if as_source is not None:
        services.pillar_grants.grant(job.jid, minion, as_source, job.expires,
                                     key=services.keystore.accepted().get(minion, ""))
    queue = services.watch_job(job.jid)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        await daemon.publish(job, [minion])
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise asyncio.TimeoutError
            mid, ret = await asyncio.wait_for(queue.get(), left)
            if mid == minion and isinstance(ret, Return):   # not a progress dict it sent
                return ret, ""
    except asyncio.TimeoutError:
        return None, f"{minion} did not return {fun} within {timeout:.0f}s (job {job.jid})"
    finally:
        services.unwatch_job(job.jid)
        if as_source is not None:
            services.pillar_grants.revoke(job.jid)


async def answers(daemon: Any, minion: str, timeout: float = 3.0) -> bool:
    """Whether `minion` returns a test.ping within `timeout` seconds."""
    ret, _ = await run_on(daemon, minion, "test.ping", [], {}, timeout=timeout, user="drill")
    return ret is not None and ret.ret is True
