"""Durable spool of messages for the master (returns, later reports): one file each.

Written as tmp file + fsync + rename + fsync of the directory, so a spooled return
survives a crash; delivered oldest first and removed only once the master acked it.
"""
from __future__ import annotations

import logging
import os
import time
from typing import Any, Iterator

from core import wire
from core.errors import WireError
from core.keys import ensure_private_dir

log = logging.getLogger("lp.minion.spool")


class Spool:
    """A directory of msgpack files, one message each."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        ensure_private_dir(directory)

    def put(self, message: dict[str, Any], tag: str = "msg") -> str:
        """Store one message durably; return its path."""
        name = f"{time.time_ns():020d}-{os.getpid()}-{tag}.mp"
        path = os.path.join(self.directory, name)
        tmp = path + ".tmp"
        data = wire.encode(message)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        dfd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
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
