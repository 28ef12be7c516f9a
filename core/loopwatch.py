"""A watchdog for a daemon's event loop: a warning naming what blocked it.

A task ticks every `TICK_S`; a plain thread checks the tick. When the loop has not ticked
for `threshold` seconds the thread logs the loop thread's stack (what it is doing now),
and when the loop runs again it logs how long it was held. Costs one wake-up per tick.

    async with asyncio.TaskGroup() as tg:
        tg.create_task(watch_loop(log, threshold=1.0))
"""
from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
import traceback

TICK_S = 0.25
STACK_FRAMES = 12


class LoopWatch:
    """The checking thread; `tick()` is called from the loop."""

    def __init__(self, logger: logging.Logger, threshold: float, loop_thread: int) -> None:
        self.logger, self.threshold, self.loop_thread = logger, threshold, loop_thread
        self.last_tick = time.monotonic()
        self.stalls = 0                # how many times the loop was held past the threshold
        self._held_since: float | None = None
        self._stack = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="lp-loopwatch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def tick(self) -> None:
        now = time.monotonic()
        held, self._held_since = self._held_since, None
        if held is not None and now - held > self.threshold:
            self.logger.warning("the event loop was blocked for %.1fs (it ticks every %.2fs), in:\n%s",
                                now - held, TICK_S, self._stack)
        self.last_tick = now

    def _watch(self) -> None:
        woke = resumed = time.monotonic()
        cpu = time.process_time()
        while not self._stop.wait(TICK_S):
            now, cpu_now = time.monotonic(), time.process_time()
            if now - woke > self.threshold and cpu_now - cpu < (now - woke) / 2:
                resumed = now   # this thread was held too, and nothing ran: the whole process was
                                # stopped (SIGSTOP, a suspended machine), not just the loop
            woke, cpu = now, cpu_now
            since = max(self.last_tick, resumed)
            if self._held_since is None and now - since > self.threshold:
                self._stack = self.loop_stack()
                self._held_since = since
                self.stalls += 1
                self.logger.warning("the event loop has not run for %.1fs; it is in:\n%s",
                                    now - since, self._stack)

    def loop_stack(self) -> str:
        frame = sys._current_frames().get(self.loop_thread)
        if frame is None:
            return "  (the loop thread is gone)"
        return "".join(traceback.format_stack(frame)[-STACK_FRAMES:]).rstrip()


async def watch_loop(logger: logging.Logger, threshold: float = 1.0) -> None:
    """Watch the running loop until cancelled."""
    watch = LoopWatch(logger, threshold, threading.get_ident())
    watch.start()
    try:
        while True:
            watch.tick()
            await asyncio.sleep(TICK_S)
    finally:
        watch.stop()
