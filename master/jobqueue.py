"""What a command waiting on one job hears: its returns, presence changes and progress updates,
with the progress bounded (a minion sending progress without end, or a CLI that stopped
reading, never grows the master's memory).

    queue = JobQueue()                       # services.watch_job(jid)
    queue.put_nowait((minion_id, ret))       # returns and presence: always kept
    queue.put_progress(minion_id, progress)  # beyond MAX_PROGRESS waiting, the oldest is dropped
    mid, item = await queue.get()
    queue.take_dropped()                     # progress updates dropped since last asked

A progress update is a map; a return (core.wire.Return) or a presence word is never dropped.
"""
from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

MAX_PROGRESS = 100   # waiting progress updates per job (a backup sends one a second)

Item = tuple[str, Any]


class JobQueue(asyncio.Queue[Item]):
    """An asyncio.Queue of (minion id, item) whose progress maps are capped at `max_progress`."""

    def __init__(self, max_progress: int = MAX_PROGRESS) -> None:
        super().__init__()
        self.max_progress = max_progress
        self._progress = 0
        self._dropped = 0

    def put_progress(self, minion_id: str, progress: dict[str, Any]) -> None:
        self.put_nowait((minion_id, progress))

    def take_dropped(self) -> int:
        """How many progress updates were dropped since the last call."""
        dropped, self._dropped = self._dropped, 0
        return dropped

    def _init(self, maxsize: int) -> None:
        self._queue: deque[Item] = deque()

    def _put(self, item: Item) -> None:
        if isinstance(item[1], dict):
            if self._progress >= self.max_progress:
                self._drop_oldest_progress()
            self._progress += 1
        self._queue.append(item)

    def _get(self) -> Item:
        item = self._queue.popleft()
        if isinstance(item[1], dict):
            self._progress -= 1
        return item

    def _drop_oldest_progress(self) -> None:
        for i, (_, item) in enumerate(self._queue):
            if isinstance(item, dict):
                del self._queue[i]
                self._progress -= 1
                self._dropped += 1
                return


def dropped_event(count: int) -> dict[str, Any]:
    """The stream's note that `count` progress updates were dropped (the waiter fell behind)."""
    return {"event": "progress_dropped", "count": count,
            "note": f"{count} progress update(s) dropped: the output did not keep up; returns are kept"}
