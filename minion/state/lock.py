"""One state run at a time per host: an exclusive flock on `<cachedir>/run/state.lock`.

    with state_run_lock(cachedir, what="apply --local web"):
        run_plan(...)

A second run while the lock is held waits up to `wait` seconds, then raises RunLockedError
naming the holder (pid, start time, what it runs). The kernel drops the lock when the holder dies, so a crash never leaves it stuck.
"""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from typing import Iterator

from core.errors import RunLockedError

LOCK_NAME = "state.lock"
POLL_S = 0.2


def lock_path(cachedir: str) -> str:
    return os.path.join(cachedir, "run", LOCK_NAME)


@contextmanager
def state_run_lock(cachedir: str, what: str = "state run", wait: float = 0.0) -> Iterator[str]:
    """Hold the host's state-run lock for the block; RunLockedError if another run still holds
    it after `wait` seconds."""
    path = lock_path(cachedir)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _read_holder(fd)
                    raise RunLockedError(
                        f"another state run is in progress ({holder}); lock file {path}"
                    ) from None
                time.sleep(POLL_S)
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
