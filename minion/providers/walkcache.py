"""Directories a state run has already walked to, kept open for the run's later walks.

    with walkcache.using():      # minion.state.runner.run_plan: one state run
        ...                      # safefs.locate() starts from the deepest directory cached

Only directories reached from `/` through plain directories are kept (a walk that follows a
link or `..` records nothing below it): reaching them needed no trust decision, so they serve
every owner's walk alike. A descriptor stays the directory it was opened as, whatever happens to
its path later, and before each use every cached component is looked at again (one
`fstatat(parent, name, AT_SYMLINK_NOFOLLOW)` each): a component that is no longer the same
directory (swapped for a symlink, renamed away, replaced) ends the cached prefix there, and the
walk goes on from the last directory that still checks out, with every rule of a fresh walk.
"""

from __future__ import annotations

import contextlib
import os
import stat
from contextvars import ContextVar
from typing import Iterator

MAX_DIRS = 256  # descriptors held at most (the usual soft limit is 1024)
_DIR = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

_ACTIVE: ContextVar["WalkCache | None"] = ContextVar("walk_cache", default=None)


class WalkCache:
    """Open descriptors of plain directories by absolute path, with their (st_dev, st_ino)."""

    def __init__(self) -> None:
        self._dirs: dict[str, tuple[int, int, int]] = {}
        self._retired: list[int] = []
        self.hits = 0

    def start(self, parts: list[str]) -> tuple[int, str, int] | None:
        """(a new descriptor, its path, how many of `parts` it covers) for the deepest cached
        directory on the way to `parts`' last component that still checks out; None: none."""
        parent = self._dirs.get("/")
        if parent is None:
            return None
        good, path = 0, ""
        for name in parts[:-1]:
            child = f"{path}/{name}"   # never cached for "." or "..": recorded names are plain
            cached = self._dirs.get(child)
            if cached is None:
                break
            if not _same_dir(parent[0], name, cached):
                self._forget(child)
                break
            parent, path, good = cached, child, good + 1
        if good == 0:
            return None
        self.hits += 1
        return os.dup(parent[0]), path, good

    def record(self, path: str, fd: int) -> None:
        """Keep (a duplicate of) `fd`, the plain directory just walked into at `path`."""
        if path in self._dirs or len(self._dirs) >= MAX_DIRS:
            return
        try:
            if "/" not in self._dirs:
                root = os.open("/", _DIR)
                rst = os.fstat(root)
                self._dirs["/"] = (root, rst.st_dev, rst.st_ino)
            st = os.fstat(fd)
            self._dirs[path] = (os.dup(fd), st.st_dev, st.st_ino)
        except OSError:  # out of descriptors: the walks go on uncached
            pass

    def _forget(self, path: str) -> None:
        """Drop `path` and everything cached below it (closed at the end of the run: another
        walk may be checking a descriptor right now, and its number must not be reused)."""
        for key in [k for k in self._dirs if k == path or k.startswith(path + "/")]:
            self._retired.append(self._dirs.pop(key)[0])

    def close(self) -> None:
        for fd in [entry[0] for entry in self._dirs.values()] + self._retired:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._dirs.clear()
        self._retired.clear()


def _same_dir(parent_fd: int, name: str, cached: tuple[int, int, int]) -> bool:
    try:
        st = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and (st.st_dev, st.st_ino) == cached[1:]


@contextlib.contextmanager
def using() -> Iterator[WalkCache]:
    """Cache walked directories inside this block (nested blocks share the outer cache)."""
    outer = _ACTIVE.get()
    if outer is not None:
        yield outer
        return
    cache = WalkCache()
    token = _ACTIVE.set(cache)
    try:
        yield cache
    finally:
        _ACTIVE.reset(token)
        cache.close()


def active() -> WalkCache | None:
    return _ACTIVE.get()


__all__ = ["WalkCache", "active", "using"]
