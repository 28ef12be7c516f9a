"""minion/idle.py: optional work (the minion's warm-up) waits while the process runs late.

The hog holds the loop in 0.1 s slices, so a probe wakes ~50 ms late; LATE (30 ms) tells
that apart from a busy test machine, and the waits that must end are long (30 s)."""
from __future__ import annotations

import asyncio
import time

from minion.idle import until_cpu_quiet

LATE = 0.03


async def _hog(seconds: float) -> None:
    """Hold the loop in 0.1 s slices (as a starved process does) for `seconds`."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.1)
        await asyncio.sleep(0)


def test_a_free_loop_is_quiet_at_once():
    assert asyncio.run(until_cpu_quiet(max_wait=30.0, late=LATE)) is True


def test_a_loop_running_late_is_not_quiet_until_it_runs_on_time_again():
    async def main(hog_for: float, max_wait: float) -> bool:
        hog = asyncio.ensure_future(_hog(hog_for))
        quiet = await until_cpu_quiet(max_wait=max_wait, late=LATE)
        await hog
        return quiet

    assert asyncio.run(main(hog_for=1.0, max_wait=0.8)) is False
    assert asyncio.run(main(hog_for=0.5, max_wait=30.0)) is True


def test_waiters_at_the_same_time_share_one_probe():
    async def main() -> list[bool]:
        waiters = [asyncio.ensure_future(until_cpu_quiet(max_wait=30.0, late=LATE)) for _ in range(200)]
        await asyncio.sleep(0)
        assert sum(1 for t in asyncio.all_tasks() if t.get_coro().__name__ == "_probe") == 1
        return await asyncio.gather(*waiters)

    assert asyncio.run(main()) == [True] * 200
