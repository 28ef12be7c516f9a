"""Wait for a quiet CPU before optional work (the minion's warm-up).

    quiet = await until_cpu_quiet(max_wait=30.0)   # True: the CPU is free; False: gave up waiting

A host starting many processes at once (a fleet's minions on one machine, a boot with
its services) runs each of them late: a short sleep on the event loop then wakes well
after its time. Work that is only an optimisation waits until such sleeps wake on time
again, so it does not slow down what the host must do first (connecting, answering).
"""
from __future__ import annotations

import asyncio
import weakref

PROBE_S = 0.05   # one probe: a sleep this long...
LATE_S = 0.01    # ...waking later than this means the CPU is contended
CALM_PROBES = 2  # this many punctual probes in a row: quiet
BUSY_PAUSE_S = 0.25  # after a late probe, the next one waits this long (fewer wake-ups while busy)


_PROBES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[bool]] = weakref.WeakKeyDictionary()


async def until_cpu_quiet(max_wait: float, late: float = LATE_S) -> bool:
    """Return True once CALM_PROBES probes in a row woke on time, False after `max_wait` seconds.

    Callers waiting on one loop at the same time share one probe (a process hosting many
    minions, as bench/fanout.py's simulated fleet, probes once, not once per minion)."""
    loop = asyncio.get_running_loop()
    task = _PROBES.get(loop)
    if task is None or task.done():
        task = _PROBES[loop] = loop.create_task(_probe(max_wait, late))
    return await asyncio.shield(task)


async def _probe(max_wait: float, late: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_wait
    punctual = 0
    while loop.time() < deadline:
        start = loop.time()
        await asyncio.sleep(PROBE_S)
        if loop.time() - start - PROBE_S < late:
            punctual += 1
            if punctual >= CALM_PROBES:
                return True
        else:
            punctual = 0
            await asyncio.sleep(BUSY_PAUSE_S)
    return False
