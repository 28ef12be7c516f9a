"""Which job ids this minion has already run: each jid runs at most once, across restarts.

An append-only file of `jid expires` lines (fsynced before the job runs), pruned of
expired entries on load and when it grows past twice its bound.
"""
from __future__ import annotations

import os
import time

from core.keys import ensure_private_dir
from minion.providers.atomic import write_atomic


class SeenJobs:
    """A bounded, persisted set of job ids."""

    def __init__(self, path: str, max_entries: int = 10_000) -> None:
        self.path = path
        self.max_entries = max_entries
        ensure_private_dir(os.path.dirname(path))
        self._seen: dict[str, float] = {}
        self._load()
        self._fh = open(path, "a", encoding="ascii")

    def _load(self) -> None:
        """Read the file; rewrite it only when something in it is dropped (or it is missing)."""
        now = time.time()
        lines = -1
        try:
            with open(self.path, encoding="ascii", errors="replace") as fh:
                lines = 0
                for lines, line in enumerate(fh, 1):
                    jid, _, expires = line.strip().partition(" ")
                    try:
                        if float(expires) > now:
                            self._seen[jid] = float(expires)
                    except ValueError:
                        continue
        except FileNotFoundError:
            pass
        if lines != len(self._seen) or lines > self.max_entries:
            self._compact()

    def _compact(self) -> None:
        items = sorted(self._seen.items(), key=lambda kv: kv[1])[-self.max_entries:]
        self._seen = dict(items)
        write_atomic(self.path, "".join(f"{jid} {exp}\n" for jid, exp in items), mode=0o600)

    def first_time(self, jid: str, expires: float) -> bool:
        """Record `jid`; False if it was seen before (a replay: do nothing)."""
        if jid in self._seen:
            return False
        self._seen[jid] = expires
        self._fh.write(f"{jid} {expires}\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        if len(self._seen) > 2 * self.max_entries:
            self._fh.close()
            now = time.time()
            self._seen = {j: e for j, e in self._seen.items() if e > now}
            self._compact()
            self._fh = open(self.path, "a", encoding="ascii")
        return True

    def close(self) -> None:
        self._fh.close()
