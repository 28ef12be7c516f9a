"""The control-socket op `drill`: the CLI asks the daemon to drill (or rebuild) and follows it.

    {"op": "drill", "source": "web1", "onto": "scratch1", "rebuild": false, "force": false}
      -> {"event": "drill", ...}  {"event": "phase_started", "phase": "converge"}
      -> {"event": "phase", "name": "converge", "duration": 41.2, "passed": true, ...}  ...
      -> {"event": "done", "result": {...record.py's as_dict...}}

The drill runs in the daemon: a CLI that goes away does not stop it, and it is recorded.
"""
from __future__ import annotations

import asyncio
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
    task = asyncio.ensure_future(runner.run(source, onto, rebuild=bool(request.get("rebuild")),
                                            force=bool(request.get("force")), user=user,
                                            progress=send))
    result = await asyncio.shield(task)
    await send({"event": "done", "result": result.as_dict()})
