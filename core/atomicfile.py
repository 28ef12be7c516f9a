"""Write a file atomically: under a fresh random name beside it, created 0600, then renamed over."""
from __future__ import annotations

import os
from typing import BinaryIO, Callable


def write_atomically(path: str, fill: Callable[[BinaryIO], object], mode: int = 0o600,
                     prefix: str | None = None) -> None:
    """`fill(out)` writes the content; `path` then gets it with `mode`, or is left as it was.

    The temporary file is never briefly wider than 0600 and has a fresh random name, so a file
    or link someone else planted beside `path` is never opened."""
    import tempfile  # imports random: kept off the start-up path of what imports core.keys

    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=prefix or f".{os.path.basename(path)}.", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), mode)
            fill(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
