"""Replace a file atomically: write a temp file beside it, set owner/mode, rename over it.

The one place the minion writes a whole file so that readers see the old or the new one,
never a half (file states, providers' config files, the minion's own JSON state files).
"""

from __future__ import annotations

import os
import tempfile


def write_atomic(
    path: str, data: str | bytes, mode: int = 0o644, uid: int = -1, gid: int = -1, *,
    sync: bool = True, sync_dir: bool = False,
) -> None:
    """Write `data` to `path` so that readers see the old or the new file, never a half.

    The temp file `.NAME.XXXX.lp-tmp` sits in the same directory, gets `uid`/`gid` (-1:
    unchanged) and then `mode`, and is renamed over `path`; it is removed on any failure.
    `sync` fsyncs the data before the rename; `sync_dir` fsyncs the directory after it,
    so the rename itself survives a crash.
    """
    raw = data.encode() if isinstance(data, str) else data
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".lp-tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            if sync:
                fh.flush()
                os.fsync(fh.fileno())
            if uid != -1 or gid != -1:
                os.fchown(fh.fileno(), uid, gid)
            os.fchmod(fh.fileno(), mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if sync_dir:
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
