"""Durable spool of messages for the master (returns, later reports): one file each.

Written with providers/atomic.write_atomic (temp file, fsync, rename, fsync of the
directory), so a spooled return survives a crash; delivered oldest first and removed only
once the master acked it.
"""
from __future__ import annotations

import logging
import os
import re
import time
from typing import Any, Iterator

from core import wire
from core.errors import WireError
from core.keys import ensure_private_dir
from minion.providers.atomic import write_atomic

log = logging.getLogger("lp.minion.spool")
_UNSAFE_TAG = re.compile(r"[^A-Za-z0-9_.-]|\.\.")


class Spool:
    """A directory of msgpack files, one message each."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        ensure_private_dir(directory)

    def put(self, message: dict[str, Any], tag: str = "msg") -> str:
        """Store one message durably; return its path. `tag` (a jid, from the master) only
        decorates the file name, so anything but [A-Za-z0-9_.-] in it becomes `_`."""
        name = f"{time.time_ns():020d}-{os.getpid()}-{_UNSAFE_TAG.sub('_', tag)}.mp"
        path = os.path.join(self.directory, name)
        write_atomic(path, wire.encode(message), mode=0o600, sync_dir=True)
        return path

    def __len__(self) -> int:
        return sum(1 for n in os.listdir(self.directory) if n.endswith(".mp"))

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(path, message) oldest first; unreadable files are set aside as .bad."""
        for name in sorted(os.listdir(self.directory)):
            if not name.endswith(".mp"):
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
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
