"""core/loopwatch.py: a daemon's log names what held its event loop."""

from __future__ import annotations

import asyncio
import logging
import time

from core.loopwatch import watch_loop


def _hold_the_loop(seconds: float) -> None:
    time.sleep(seconds)   # a blocking call where a coroutine should have awaited


def test_a_blocked_loop_is_logged_with_the_call_that_blocked_it(caplog):
    async def main() -> None:
        watch = asyncio.ensure_future(watch_loop(logging.getLogger("lp.test"), threshold=0.5))
        await asyncio.sleep(0.3)
        _hold_the_loop(1.2)
        await asyncio.sleep(0.3)
        watch.cancel()

    with caplog.at_level(logging.WARNING, logger="lp.test"):
        asyncio.run(main())
    held = [r.getMessage() for r in caplog.records if "has not run" in r.getMessage()]
    assert len(held) == 1 and "_hold_the_loop" in held[0], caplog.text
    after = [r.getMessage() for r in caplog.records if "was blocked for" in r.getMessage()]
    assert len(after) == 1 and "_hold_the_loop" in after[0], caplog.text


def test_a_loop_that_keeps_running_is_not_logged(caplog):
    async def main() -> None:
        watch = asyncio.ensure_future(watch_loop(logging.getLogger("lp.test"), threshold=0.5))
        for _ in range(10):
            await asyncio.sleep(0.1)
        watch.cancel()

    with caplog.at_level(logging.WARNING, logger="lp.test"):
        asyncio.run(main())
    assert caplog.records == []
