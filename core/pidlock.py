"""One daemon per config: an exclusive lock on a pid file beside the daemon's state.

    with hold_pidlock(os.path.join(cfg.root, "minion.pid"), "lpminion", config_path):
        run the daemon

The lock is `flock` on the open file, so the kernel drops it when the process dies (a
crashed daemon never leaves a stale lock); the file holds the holder's pid so that the
refusal can name it. A second daemon with the same config gets a ConfigError naming the
running pid and what to do.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
from typing import Iterator

from core.errors import ConfigError


@contextlib.contextmanager
def hold_pidlock(path: str, daemon: str, config_path: str = "") -> Iterator[None]:
    """Hold the lock for the life of the block; ConfigError when another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            who = f"pid {pid}" if pid else "another process"
            conf = f" with {config_path}" if config_path else ""
            raise ConfigError(f"{daemon} is already running{conf} ({who}, lock {path}); "
                              f"stop it first{f' (kill {pid})' if pid else ''}, or use another config")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
