"""file.*: read and inspect files on the minion (Salt's file module, its read-only part).

    lpmaster run web1 file.read /etc/nginx/nginx.conf        (at most 1 MiB; a larger file is refused)
    lpmaster run web1 file.stats /etc/passwd hash_type=sha256
    lpmaster run '*' file.file_exists /etc/linkpeek/app.conf
"""
from __future__ import annotations

import grp
import hashlib
import os
import pwd
import stat as stat_mod
from typing import Any

from minion.functions import FunctionResult
from minion.functions.signature import FunctionArgError

MAX_READ_BYTES = 1024 * 1024
HASHES = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
TYPES = ((stat_mod.S_ISDIR, "dir"), (stat_mod.S_ISREG, "file"), (stat_mod.S_ISLNK, "link"),
         (stat_mod.S_ISCHR, "char"), (stat_mod.S_ISBLK, "block"), (stat_mod.S_ISFIFO, "pipe"),
         (stat_mod.S_ISSOCK, "socket"))


def read(ctx: Any, path: str) -> FunctionResult:
    """The text of the file at `path` (UTF-8; other bytes shown as U+FFFD), at most 1 MiB."""
    path = _path("file.read", path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        return _error(f"cannot read {path}: {exc.strerror}")
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat_mod.S_ISREG(st.st_mode):
            return _error(f"{path} is not a regular file")
        if st.st_size > MAX_READ_BYTES:
            return _error(f"{path} is {st.st_size} bytes, more than file.read returns ({MAX_READ_BYTES}); "
                          f"read a part with cmd.run 'head -c 65536 {path}'")
        data = fh.read(MAX_READ_BYTES + 1)
    if len(data) > MAX_READ_BYTES:
        return _error(f"{path} grew past {MAX_READ_BYTES} bytes while it was read")
    return FunctionResult(data.decode("utf-8", errors="replace"))


def stats(ctx: Any, path: str, hash_type: str | None = None, follow_symlinks: bool = True) -> FunctionResult:
    """Salt's file.stats: inode, uid, gid, user, group, atime, mtime, ctime, size, mode, type,
    target (the resolved path) and, with hash_type=sha256 (or md5, sha1, sha512...), sum."""
    path = _path("file.stats", path)
    if hash_type is not None and hash_type not in HASHES:
        raise FunctionArgError(f"file.stats: hash_type= must be one of {', '.join(HASHES)}")
    try:
        st = os.stat(path) if follow_symlinks else os.lstat(path)
    except OSError as exc:
        return _error(f"Path not found: {path}" if exc.errno == 2 else f"cannot stat {path}: {exc.strerror}")
    ret: dict[str, Any] = {
        "inode": st.st_ino, "uid": st.st_uid, "gid": st.st_gid,
        "group": _name(grp.getgrgid, st.st_gid), "user": _name(pwd.getpwuid, st.st_uid),
        "atime": st.st_atime, "mtime": st.st_mtime, "ctime": st.st_ctime, "size": st.st_size,
        "mode": f"0{stat_mod.S_IMODE(st.st_mode):o}",
        "type": next((t for test, t in TYPES if test(st.st_mode)), "unknown"),
        "target": os.path.realpath(path),
    }
    if hash_type and stat_mod.S_ISREG(st.st_mode):
        digest = hashlib.new(hash_type)
        try:
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
        except OSError as exc:
            return _error(f"cannot read {path}: {exc.strerror}")
        ret["sum"] = digest.hexdigest()
    return FunctionResult(ret)


def file_exists(ctx: Any, path: str) -> bool:
    """True when `path` is a regular file (a link to one counts)."""
    return os.path.isfile(_path("file.file_exists", path))


def directory_exists(ctx: Any, path: str) -> bool:
    """True when `path` is a directory (a link to one counts)."""
    return os.path.isdir(_path("file.directory_exists", path))


def exists(ctx: Any, path: str) -> bool:
    """True when anything is at `path`."""
    return os.path.lexists(_path("file.exists", path))


def _path(where: str, path: Any) -> str:
    if not isinstance(path, str) or not path.startswith("/") or "\0" in path:
        raise FunctionArgError(f"{where} needs an absolute path, e.g. {where} /etc/hostname")
    return os.path.normpath(path)


def _name(lookup: Any, num: int) -> str:
    try:
        return str(lookup(num)[0])
    except KeyError:
        return str(num)


def _error(text: str) -> FunctionResult:
    return FunctionResult(f"Error: {text}", success=False, retcode=1)
