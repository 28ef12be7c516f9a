"""The control-socket op `drill`: the CLI asks the daemon to drill (or rebuild) and follows it.

    {"op": "drill", "source": "web1", "onto": "scratch1", "rebuild": false, "force": false}
      -> {"event": "drill", ...}  {"event": "phase_started", "phase": "converge"}
      -> {"event": "phase", "name": "converge", "duration": 41.2, "passed": true, ...}  ...
      -> {"event": "done", "result": {...record.py's as_dict...}}

The drill runs in the daemon: a CLI that goes away does not stop it, and it is recorded.
"""
from __future__ import annotations

import asyncio
import collections
from typing import Any, Awaitable, Callable

from core.errors import LinkpeekError
from core.wire import MINION_ID_RE

Send = Callable[[dict[str, Any]], Awaitable[None]]


async def handle_drill(daemon: Any, request: dict[str, Any], send: Send, user: str) -> None:
    source, onto = request.get("source"), request.get("onto")
    for name, value in (("source", source), ("onto", onto)):
        if not isinstance(value, str) or not MINION_ID_RE.match(value):
            raise LinkpeekError(f"drill: {name} must be a minion id")
    runner = daemon.drills
    outbox = Outbox(send)
    task = asyncio.ensure_future(runner.run(source, onto, rebuild=bool(request.get("rebuild")),
                                            force=bool(request.get("force")), user=user,
                                            progress=outbox.put))
    try:
        result = await asyncio.shield(task)
    finally:
        await outbox.close()
    await send({"event": "done", "result": result.as_dict()})


class Outbox:
    """The drill's events to the CLI, written by a task of their own: a drill never waits on a
    CLI that stopped reading (it goes on, and is recorded). At most `limit` events wait; beyond,
    the oldest is dropped (a drill sends a few per phase, so that is a CLI stuck for good)."""

    def __init__(self, send: Send, limit: int = 1000) -> None:
        self._send, self.limit, self.dropped = send, limit, 0
        self._events: collections.deque[dict[str, Any] | None] = collections.deque()
        self._ready = asyncio.Event()
        self._task = asyncio.ensure_future(self._write())

    def put(self, event: dict[str, Any]) -> None:
        if len(self._events) >= self.limit:
            self._events.popleft()
            self.dropped += 1
        self._events.append(event)
        self._ready.set()

    async def close(self) -> None:
        """Write what waits (the CLI may be gone: then nothing), then stop."""
        self._events.append(None)
        self._ready.set()
        try:
            await self._task
        except Exception:  # the CLI went away: the drill result is recorded all the same
            pass

    async def _write(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._events:
                event = self._events.popleft()
                if event is None:
                    return
                if self.dropped:
                    dropped, self.dropped = self.dropped, 0
                    await self._send({"event": "progress_dropped", "count": dropped,
                                      "note": f"{dropped} drill event(s) dropped: the output did not keep up"})
                await self._send(event)
