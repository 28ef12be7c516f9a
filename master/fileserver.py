"""The master's file server: `salt://path` served from the state tree, and nothing else.

Every path comes from a minion, so each goes through core.safepath (realpath +
commonpath; `..`, absolute paths, NUL bytes and symlinks leaving the tree refused) and
only regular files are served. The tree is read fresh for every request (editing a file
needs no restart); hashes are cached by (inode, size, mtime) so an unchanged tree is not
re-read. Costs are bounded: a file above `max_size` (master.yaml `fileserver_max_size`,
MiB) is refused before it is hashed, and every file is opened with O_NOFOLLOW|O_NONBLOCK
and checked on the open descriptor, so a FIFO or device swapped in after the path checks
is refused instead of blocking a worker.

Requests and replies (the ROUTER handlers wrap these; `path` may carry `salt://`):

    file       {path, chunk=0}   -> {path, sha256, size, mode, chunk, chunks, data}
    file_stat  {paths: [...]}    -> {files: {path: {sha256, size, mode} | {error}}}
    file_list  {path=""}         -> {path, files: {relpath: {sha256, size, mode}}, dirs: [...]}
    file_batch {paths: [...]}    -> {files: {path: {sha256, size, mode, data} | {error}}}
                                    (small files in one round trip; at most chunk_size bytes
                                    of data in all, the rest answered {error: "too large..."})

A refused or missing path answers `{"error": ...}` (the same shape for both, so a reply
does not tell a minion what exists outside the tree).
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import threading
from typing import Any, Iterator

from core.errors import UnsafePathError
from core.safepath import check_relative, safe_join, safe_regular_file

CHUNK_SIZE = 512 * 1024  # well under the wire's message limit, large enough to be cheap
MAX_SIZE = 100 * 1024 * 1024  # the default of master.yaml's fileserver_max_size (100 MiB)
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
MAX_STAT_PATHS = 10000
SKIP_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__"})


def strip_url(url: str) -> str:
    """`salt://a/b?saltenv=base` -> `a/b`; a plain relative path is returned as is."""
    if not isinstance(url, str):
        raise UnsafePathError("a path must be a string")
    if url.startswith("salt://"):
        url = url[len("salt://"):]
        url = url.split("?", 1)[0]
    return url


class FileServer:
    """Serves one state tree. Thread-safe; `root` is re-resolved on every request."""

    def __init__(self, root: str, chunk_size: int = CHUNK_SIZE, max_size: int = MAX_SIZE) -> None:
        self.root = root
        self.chunk_size = chunk_size
        self.max_size = max_size  # 0: no cap
        self._hashes: dict[str, tuple[tuple[int, int, int, int], str]] = {}
        self._lock = threading.Lock()

    # --- request handlers (each returns a reply map, never raises for bad input) ----------

    def file(self, request: dict[str, Any]) -> dict[str, Any]:
        """One chunk of one file, with the whole file's hash so the client can verify."""
        path = request.get("path")
        chunk = request.get("chunk", 0)
        if not isinstance(chunk, int) or isinstance(chunk, bool) or chunk < 0:
            return {"error": "chunk must be a non-negative integer"}
        try:
            rel = self._clean(path)
            real = safe_regular_file(self.root, rel)
            with self._open(rel, real) as (fh, st):
                digest = self._hash_open(real, fh, st)
                chunks = max(1, -(-st.st_size // self.chunk_size))
                if chunk >= chunks:
                    return {"error": f"{rel}: chunk {chunk} out of range (the file has {chunks})"}
                fh.seek(chunk * self.chunk_size)
                data = fh.read(self.chunk_size)
        except (UnsafePathError, OSError) as exc:
            return {"error": _describe(path, exc)}
        return {"path": rel, "sha256": digest, "size": st.st_size, "mode": stat.S_IMODE(st.st_mode),
                "chunk": chunk, "chunks": chunks, "data": data}

    def file_stat(self, request: dict[str, Any]) -> dict[str, Any]:
        """Hash, size and mode of many files in one round trip."""
        paths = request.get("paths")
        if not isinstance(paths, list) or len(paths) > MAX_STAT_PATHS:
            return {"error": f"paths must be a list of at most {MAX_STAT_PATHS} paths"}
        files: dict[str, Any] = {}
        for path in paths:
            key = path if isinstance(path, str) else repr(path)
            try:
                files[key] = self.stat(path)
            except (UnsafePathError, OSError) as exc:
                files[key] = {"error": _describe(path, exc)}
        return {"files": files}

    def file_list(self, request: dict[str, Any]) -> dict[str, Any]:
        """Every regular file below a directory of the tree (relative to it), with stats."""
        path = request.get("path", "")
        try:
            rel = "" if strip_url(path) in ("", ".", "/") else self._clean(path)
            top = safe_join(self.root, rel) if rel else os.path.realpath(self.root)
            if not os.path.isdir(top):
                raise FileNotFoundError(2, "No such directory")
            files, dirs = self._walk(top)
        except (UnsafePathError, OSError) as exc:
            return {"error": _describe(path, exc)}
        return {"path": rel, "files": files, "dirs": dirs}

    def file_batch(self, request: dict[str, Any]) -> dict[str, Any]:
        """The contents of several small files at once (a state tree's SLS files, say)."""
        paths = request.get("paths")
        if not isinstance(paths, list) or len(paths) > MAX_STAT_PATHS:
            return {"error": f"paths must be a list of at most {MAX_STAT_PATHS} paths"}
        budget = self.chunk_size
        files: dict[str, Any] = {}
        for path in paths:
            key = path if isinstance(path, str) else repr(path)
            try:
                rel = self._clean(path)
                real = safe_regular_file(self.root, rel)
                with self._open(rel, real) as (fh, st):
                    if st.st_size > budget:
                        files[key] = {"error": "too large for a batch; fetch it with `file`"}
                        continue
                    data = fh.read(st.st_size + 1)
                    digest = hashlib.sha256(data).hexdigest()
            except (UnsafePathError, OSError) as exc:
                files[key] = {"error": _describe(path, exc)}
                continue
            budget -= len(data)
            files[key] = {"sha256": digest, "size": len(data), "mode": stat.S_IMODE(st.st_mode),
                          "data": data}
        return {"files": files}

    # --- library calls ---------------------------------------------------------------------

    def stat(self, path: str) -> dict[str, Any]:
        """{sha256, size, mode} of one file; UnsafePathError / OSError when refused or missing."""
        rel = self._clean(path)
        real = safe_regular_file(self.root, rel)
        with self._open(rel, real) as (fh, st):
            digest = self._hash_open(real, fh, st)
        return {"sha256": digest, "size": st.st_size, "mode": stat.S_IMODE(st.st_mode)}

    def _walk(self, top: str) -> tuple[dict[str, Any], list[str]]:
        real_root = os.path.realpath(self.root)
        files: dict[str, Any] = {}
        dirs: list[str] = []
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS
                                 and not os.path.islink(os.path.join(dirpath, d)))
            for d in dirnames:
                dirs.append(os.path.relpath(os.path.join(dirpath, d), top))
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                rel_to_root = os.path.relpath(full, real_root)
                try:  # stat() refuses what is not a regular file inside the tree (symlinks too)
                    files[os.path.relpath(full, top)] = self.stat(rel_to_root)
                except (UnsafePathError, OSError):
                    continue
        return files, dirs

    @contextlib.contextmanager
    def _open(self, rel: str, real: str) -> Iterator[tuple[Any, os.stat_result]]:
        """The file and its stat, checked on the descriptor: regular, and within max_size."""
        fd = os.open(real, _OPEN_FLAGS)  # never blocks (FIFO), never follows a last-moment link
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise UnsafePathError(f"{rel!r} is not a regular file")
            if self.max_size and st.st_size > self.max_size:
                raise UnsafePathError(f"{rel!r} is {st.st_size} bytes, above fileserver_max_size "
                                      f"({self.max_size // (1024 * 1024)} MiB in master.yaml)")
            fh = os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise
        with fh:
            yield fh, st

    def _clean(self, path: Any) -> str:
        return check_relative(strip_url(path))

    def _hash_open(self, real: str, fh: Any, st: os.stat_result) -> str:
        key = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        with self._lock:
            cached = self._hashes.get(real)
        if cached is not None and cached[0] == key:
            return cached[1]
        h = hashlib.sha256()
        fh.seek(0)
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
        digest = h.hexdigest()
        with self._lock:
            self._hashes[real] = (key, digest)
        return digest


def _describe(path: Any, exc: BaseException) -> str:
    shown = path[:200] if isinstance(path, str) else repr(path)[:200]
    if isinstance(exc, FileNotFoundError):
        return f"{shown!r}: not found in the state tree"
    if isinstance(exc, UnsafePathError):
        return f"refused: {exc}"
    return f"{shown!r}: {getattr(exc, 'strerror', None) or exc}"
