"""Replace a file atomically: write a temp file beside it, fsync, set owner/mode, rename."""

from __future__ import annotations

import os
import tempfile


def write_atomic(
    path: str, data: str | bytes, mode: int = 0o644, uid: int = -1, gid: int = -1
) -> None:
    """Write `data` to `path` so that readers see the old or the new file, never a half."""
    raw = data.encode() if isinstance(data, str) else data
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=".lp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        if uid != -1 or gid != -1:
            os.chown(tmp, uid, gid)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
