"""A drill's events to an `lpmaster drill` client that stopped reading never hold the drill up
(master/drills/control.Outbox): the drill runs to its end, and the client, once it reads again,
gets every event and the result. The drill runner here is a stand-in that sends large events
(a real drill needs a source and a scratch host; tests/drills/test_story_hosts.py runs those);
the control op, the socket and the writer are the master's own."""
from __future__ import annotations

import asyncio
import json
import socket
from types import SimpleNamespace
from typing import Any

from master.control import _send
from master.drills.control import handle_drill

EVENTS = 40


class StandInRunner:
    def __init__(self) -> None:
        self.finished = asyncio.Event()

    async def run(self, source: str, onto: str, *, progress: Any, **_: Any) -> Any:
        for i in range(EVENTS):
            outcome = progress({"event": "phase", "name": f"p{i}", "log": "x" * 65536})
            if asyncio.iscoroutine(outcome):
                await outcome
        self.finished.set()
        return SimpleNamespace(as_dict=lambda: {"source": source, "onto": onto, "passed": True})


async def _scenario() -> tuple[bool, list[dict[str, Any]]]:
    loop = asyncio.get_running_loop()
    cli, ours = socket.socketpair()
    cli.setblocking(False)
    _, writer = await asyncio.open_unix_connection(sock=ours)
    runner = StandInRunner()
    handler = asyncio.ensure_future(handle_drill(SimpleNamespace(drills=runner),
                                                 {"source": "web1", "onto": "scratch1"},
                                                 lambda event: _send(writer, event), "root"))
    try:
        await asyncio.wait_for(runner.finished.wait(), 20)   # the old code: stuck on the 3rd event
        ran_to_the_end = True
    except asyncio.TimeoutError:
        ran_to_the_end = False
    data = b""
    while b'"event": "done"' not in data:
        chunk = await asyncio.wait_for(loop.sock_recv(cli, 1 << 20), 20)
        if not chunk:
            break
        data += chunk
    await asyncio.wait_for(handler, 20)
    writer.close()
    cli.close()
    return ran_to_the_end, [json.loads(line) for line in data.splitlines() if line.strip()]


def test_a_client_that_stops_reading_does_not_hold_up_the_drill():
    ran_to_the_end, events = asyncio.run(_scenario())
    assert ran_to_the_end
    assert [e["name"] for e in events if e["event"] == "phase"] == [f"p{i}" for i in range(EVENTS)]
    assert events[-1] == {"event": "done", "result": {"source": "web1", "onto": "scratch1", "passed": True}}
