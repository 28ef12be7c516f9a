"""One state run at a time per host: an exclusive flock on `<cachedir>/run/state.lock`.

    with state_run_lock(cachedir, what="apply --local web"):
        run_plan(...)

A second run while the lock is held raises RunLockedError naming the holder (pid, start time,
what it runs). The kernel drops the lock when the holder dies, so a crash never leaves it stuck.
"""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from typing import Iterator

from core.errors import RunLockedError

LOCK_NAME = "state.lock"


def lock_path(cachedir: str) -> str:
    return os.path.join(cachedir, "run", LOCK_NAME)


@contextmanager
def state_run_lock(cachedir: str, what: str = "state run") -> Iterator[str]:
    """Hold the host's state-run lock for the block; RunLockedError if another run holds it."""
    path = lock_path(cachedir)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            raise RunLockedError(
                f"another state run is in progress ({holder}); lock file {path}"
            ) from None
        os.ftruncate(fd, 0)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        os.pwrite(fd, f"pid {os.getpid()}, started {stamp} UTC, {what}\n".encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 512, 0).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return "".join(ch for ch in text if ch.isprintable()) or "holder unknown"
