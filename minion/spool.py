"""Durable spool of messages for the master (returns, later reports): one file each.

Written with providers/atomic.write_atomic (temp file, fsync, rename, fsync of the
directory), so a spooled return survives a crash; delivered oldest first and removed only
once the master acked it. When the spool cannot be written (disk full, read-only), the
newest MEMORY_LIMIT messages are kept in memory instead, said loudly in the log, and
delivered the same way (a crash before then loses only those).

    spool = shared(f"{config.spool_dir}/returns")   # the daemon's one spool of that directory

Everything in a process that spools into one directory (the daemon's returns, the backup
reports its functions send) takes `shared(directory)`, so a message kept in memory is in the
spool the daemon delivers from, not in a throwaway object.
"""
from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections import OrderedDict
from typing import Any, Iterator

from core import wire
from core.errors import WireError
from core.keys import ensure_private_dir
from minion.providers.atomic import write_atomic
from minion.providers.safefs import UnsafeWrite

log = logging.getLogger("lp.minion.spool")
_UNSAFE_TAG = re.compile(r"[^A-Za-z0-9_.-]|\.\.")
MEMORY_LIMIT = 1000
MEMORY_PREFIX = "memory:"
_SHARED: dict[str, Spool] = {}
_SHARED_LOCK = threading.Lock()


def kept_drift_report_path(spool_dir: str) -> str:
    """The one drift report kept while the master was away (minion/drift_remote.py writes it)."""
    return os.path.join(spool_dir, "drift-report.json")


def shared(directory: str) -> Spool:
    """This process's one Spool of `directory` (made on first use)."""
    key = os.path.abspath(directory)
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = Spool(key)
        return _SHARED[key]


class Spool:
    """A directory of msgpack files, one message each."""

    def __init__(self, directory: str, memory_limit: int = MEMORY_LIMIT) -> None:
        self.directory = directory
        self.memory_limit = memory_limit
        self._memory: OrderedDict[str, dict[str, Any]] = OrderedDict()  # "memory:NAME" -> message
        self._lock = threading.Lock()   # put() runs in job worker threads too
        try:
            ensure_private_dir(directory)
        except OSError as exc:
            log.error("spool %s cannot be made (%s): returns are kept in memory", directory, exc)

    def put(self, message: dict[str, Any], tag: str = "msg") -> str:
        """Store one message durably; return its path (or a `memory:` key when the disk
        refused it). `tag` (a jid, from the master) only decorates the file name, so anything
        but [A-Za-z0-9_.-] in it becomes `_`."""
        name = f"{time.time_ns():020d}-{os.getpid()}-{_UNSAFE_TAG.sub('_', tag)}.mp"
        path = os.path.join(self.directory, name)
        data = wire.encode(message)
        try:
            write_atomic(path, data, mode=0o600, sync_dir=True)
        except (OSError, UnsafeWrite) as exc:   # UnsafeWrite: the directory is no longer one
            return self._keep_in_memory(name, message, exc)
        return path

    def _keep_in_memory(self, name: str, message: dict[str, Any], exc: Exception) -> str:
        key = MEMORY_PREFIX + name
        dropped = 0
        with self._lock:
            self._memory[key] = message
            while len(self._memory) > self.memory_limit:
                self._memory.popitem(last=False)
                dropped += 1
        log.error("spool %s cannot be written (%s): %s kept in memory (%d there now) and sent when the "
                  "master answers; stopping the minion before then loses them%s", self.directory,
                  getattr(exc, "strerror", None) or exc, name, len(self._memory),
                  f"; the {dropped} oldest were dropped" if dropped else "")
        return key

    def __len__(self) -> int:
        return len(self._memory) + sum(1 for n in self._names() if n.endswith(".mp"))

    def _names(self) -> list[str]:
        try:
            return os.listdir(self.directory)
        except OSError:
            return []

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(path, message) oldest first, those kept in memory among them; unreadable files
        are set aside as .bad."""
        with self._lock:
            memory = dict(self._memory)
        names = [n for n in self._names() if n.endswith(".mp")] + list(memory)
        for name in sorted(names, key=lambda n: n.removeprefix(MEMORY_PREFIX)):
            if name.startswith(MEMORY_PREFIX):
                if name in self._memory:
                    yield name, memory[name]
                continue
            path = os.path.join(self.directory, name)
            try:
                with open(path, "rb") as fh:
                    yield path, wire.decode(fh.read())
            except FileNotFoundError:
                continue
            except (OSError, WireError) as exc:
                log.warning("spooled file %s unreadable (%s); set aside", name, exc)
                os.replace(path, path + ".bad")

    def remove(self, path: str) -> None:
        if path.startswith(MEMORY_PREFIX):
            with self._lock:
                self._memory.pop(path, None)
            return
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
