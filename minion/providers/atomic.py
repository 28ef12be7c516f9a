"""Replace a file atomically: write a temp file beside it, set owner/mode, rename over it.

The one place the minion writes a whole file so that readers see the old or the new one,
never a half (file states, providers' config files, the minion's own JSON state files).
The walk to the file and the temp file are minion/providers/safefs.py's: no symlink on
the way is followed unless root (or the file's new owner) could be the only one to plant it,
and a symlink at the path itself is replaced, never written through.
"""

from __future__ import annotations

from minion.providers.safefs import DirSpec, write_file


def write_atomic(
    path: str, data: str | bytes, mode: int = 0o644, uid: int = -1, gid: int = -1, *,
    sync: bool = True, sync_dir: bool = False, make_dirs: DirSpec | None = None,
) -> None:
    """Write `data` to `path` so that readers see the old or the new file, never a half.

    The temp file `.NAME.XXXX.lp-tmp` is created with O_EXCL in the same directory, gets
    `uid`/`gid` (-1: unchanged) and then `mode`, and is renamed over `path`; it is removed on
    any failure. `sync` fsyncs the data before the rename; `sync_dir` fsyncs the directory
    after it, so the rename itself survives a crash. `make_dirs` creates missing parents.
    """
    import os

    write_file(
        os.path.abspath(path), data, mode, uid, gid, sync=sync, sync_dir=sync_dir,
        make_dirs=make_dirs,
    )
