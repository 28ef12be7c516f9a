"""Root's file writes that a local user cannot redirect with a planted symlink (issue 14).

A path is walked from `/` one component at a time, each opened relative to the directory
before it with O_NOFOLLOW, so nothing can be swapped between a check and the use. A symlink
on the way (a directory, or the entry itself when `follow` asks for it, as Salt's
`follow_symlinks` does) is followed only when it is trusted:

- the link is owned by root or by the file's owner (`owner`, the state's `user`), and
- the directory holding it is owned by root or the owner and nobody else can write it;
- a link owned by the owner rather than root may only lead to an entry that the owner
  already owns, or to a new one in a directory the owner owns (root must never write,
  through a user's link, where that user could not).

Anything else raises UnsafeWrite naming the link and what to do. Writes go to a temp file
made with O_EXCL beside the (resolved) entry, get owner and mode on the open descriptor,
and are renamed over the entry, so the destination itself is never opened for writing.

Inside `walkcache.using()` (a state run) a walk starts from the deepest directory an earlier
walk of the run reached through plain directories, after checking that every component on the
way is still that same directory (see minion/providers/walkcache.py).
"""

from __future__ import annotations

import errno
import os
import stat
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from minion.providers import walkcache
from minion.state.contract import StateFailed

MAX_LINKS = 40
MAX_RETRIES = 1000
_T = TypeVar("_T")
_DIR = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafeWrite(StateFailed):
    """A write (or read for a diff) that could be redirected by someone other than root."""


class MissingParent(StateFailed):
    """A directory on the way does not exist (and was not to be made)."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"Parent directory not present: {path} (set makedirs: True)")


@dataclass(frozen=True)
class DirSpec:
    """How to make missing directories: mode, and uid/gid (-1: ours)."""

    mode: int = 0o755
    uid: int = -1
    gid: int = -1


@dataclass
class Entry:
    """The last component of a walked path: `name` in the open directory `dir_fd`.

    `path` is where it really is (links followed), `st` its lstat (None: it does not exist;
    a symlink only when it was not to be followed). Close it (or use `with`).
    """

    dir_fd: int
    name: str
    path: str
    st: os.stat_result | None
    dir_st: os.stat_result

    def close(self) -> None:
        if self.dir_fd >= 0:
            os.close(self.dir_fd)
            self.dir_fd = -1

    def __enter__(self) -> Entry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def restat(self) -> os.stat_result | None:
        try:
            self.st = os.stat(self.name, dir_fd=self.dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            self.st = None
        return self.st


def _user(uid: int) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def others_can_write(st: os.stat_result, trusted: frozenset[int]) -> str | None:
    """Who besides `trusted` users could change entries in the directory `st` (None: nobody)."""
    if st.st_uid not in trusted:
        return f"it is owned by {_user(st.st_uid)}"
    if st.st_mode & stat.S_IWOTH:
        return "every user can write it"
    if st.st_mode & stat.S_IWGRP and st.st_gid != 0:
        return f"group {st.st_gid} can write it"
    return None


def _own_new_dir(dir_fd: int, name: str, spec: DirSpec) -> None:
    """Give the just-made directory `name` (0700 so far) `spec`'s owner, then its mode."""
    fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        if spec.uid != -1 or spec.gid != -1:
            os.fchown(fd, spec.uid, spec.gid)
        os.fchmod(fd, spec.mode)
    finally:
        os.close(fd)


def _split(path: str) -> list[str]:
    return [p for p in path.split("/") if p]


class _Walk:
    def __init__(self, path: str, owner: int | None, make_dirs: DirSpec | None) -> None:
        if not isinstance(path, str) or not path.startswith("/") or "\x00" in path:
            raise UnsafeWrite(f"{path!r} is not an absolute path")
        self.path = path
        # root, the file's owner, and whoever runs this (a link of theirs only redirects
        # their own writes)
        self.trusted = frozenset(
            {0, os.geteuid()} | (set() if owner is None or owner < 0 else {owner})
        )
        self.owner = owner
        self.make_dirs = make_dirs
        self.links = 0
        self.retries = 0
        self.user_link: tuple[str, int] | None = None
        self.fd = -1
        self.cur = "/"

    def _again(self, name: str, parts: deque[str]) -> None:
        self.retries += 1
        if self.retries > MAX_RETRIES:
            raise UnsafeWrite(f"{os.path.join(self.cur, name)} keeps changing while it is walked")
        parts.appendleft(name)

    def _chdir(self, fd: int, cur: str) -> None:
        os.close(self.fd)
        self.fd, self.cur = fd, cur

    def _follow(self, name: str, parts: deque[str]) -> None:
        """Check the link `name` in the current directory and queue its target's parts."""
        where = os.path.join(self.cur, name)
        lfd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=self.fd)
        try:
            lst = os.fstat(lfd)
            if not stat.S_ISLNK(lst.st_mode):  # swapped since we looked
                self._again(name, parts)
                return
            target = os.readlink("", dir_fd=lfd)
        finally:
            os.close(lfd)
        self.links += 1
        if self.links > MAX_LINKS:
            raise UnsafeWrite(f"{self.path}: too many levels of symbolic links")
        if lst.st_uid not in self.trusted:
            raise UnsafeWrite(
                f"{where} is a symlink owned by {_user(lst.st_uid)}: refusing to follow it as "
                f"root (it could point anywhere); replace it with a plain file or directory, "
                f"or make root its owner"
            )
        why = others_can_write(os.fstat(self.fd), self.trusted)
        if why is not None:
            raise UnsafeWrite(
                f"{where} is a symlink in {self.cur}, and {why}: refusing to follow it as root "
                f"(it can be swapped for a link to any file); replace it with a plain file or "
                f"directory, or make the directory root's and not writable by others"
            )
        if lst.st_uid not in (0, os.geteuid()) and self.user_link is None:
            self.user_link = (where, lst.st_uid)
        if target.startswith("/"):
            self._chdir(os.open("/", _DIR), "/")
        parts.extendleft(reversed(_split(target)))

    def _mkdir(self, name: str) -> None:
        spec = self.make_dirs
        where = os.path.join(self.cur, name)
        if spec is None:
            raise MissingParent(where)
        if self.user_link is not None and os.fstat(self.fd).st_uid != self.user_link[1]:
            raise UnsafeWrite(
                f"refusing to create {where} through {self.user_link[0]}, a symlink owned by "
                f"{_user(self.user_link[1])}, in a directory that user does not own"
            )
        try:
            os.mkdir(name, 0o700, dir_fd=self.fd)
        except FileExistsError:
            return  # made by someone else meanwhile: the walk looks at it again
        _own_new_dir(self.fd, name, spec)

    def _start(self, parts: deque[str]) -> walkcache.WalkCache | None:
        """Open where the walk starts: `/`, or in a cached run the deepest cached directory on
        the way. Returns the cache to record into while the walk is on plain directories."""
        cache = walkcache.active()
        found = cache.start(list(parts)) if cache is not None else None
        if found is None:
            self.fd, self.cur = os.open("/", _DIR), "/"
            return cache
        self.fd, self.cur, covered = found
        for _ in range(covered):
            parts.popleft()
        return cache

    def run(self, follow: bool) -> Entry:
        parts: deque[str] = deque(_split(self.path))
        if not parts:
            raise UnsafeWrite("/ is not a file")
        cache = self._start(parts)
        try:
            while True:
                if not parts:  # the last link pointed at a directory by "/" or "."
                    raise UnsafeWrite(f"{self.path} leads to the directory {self.cur}")
                name = parts.popleft()
                if name == ".":
                    if not parts:
                        raise UnsafeWrite(f"{self.path}: ends in '.'")
                    continue
                if name == "..":
                    cache = None
                    self._chdir(os.open("..", _DIR, dir_fd=self.fd), os.path.dirname(self.cur))
                    if not parts:
                        raise UnsafeWrite(f"{self.path}: ends in '..'")
                    continue
                try:
                    st: os.stat_result | None = os.stat(
                        name, dir_fd=self.fd, follow_symlinks=False
                    )
                except FileNotFoundError:
                    st = None
                if not parts:
                    if st is not None and stat.S_ISLNK(st.st_mode) and follow:
                        cache = None
                        self._follow(name, parts)
                        continue
                    return self._entry(name, st)
                if st is None:
                    self._mkdir(name)
                    self._again(name, parts)
                    continue
                if stat.S_ISLNK(st.st_mode):
                    cache = None
                    self._follow(name, parts)
                    continue
                if not stat.S_ISDIR(st.st_mode):
                    raise UnsafeWrite(f"{os.path.join(self.cur, name)} is not a directory")
                try:
                    fd = os.open(name, _DIR, dir_fd=self.fd)
                except OSError as exc:
                    if exc.errno not in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
                        raise
                    self._again(name, parts)  # swapped since we looked
                    continue
                self._chdir(fd, os.path.join(self.cur, name))
                if cache is not None:
                    cache.record(self.cur, fd)
        except BaseException:
            os.close(self.fd)
            raise

    def _entry(self, name: str, st: os.stat_result | None) -> Entry:
        where = os.path.join(self.cur, name)
        dir_st = os.fstat(self.fd)
        if self.user_link is not None:
            link, uid = self.user_link
            if st is None:
                ok = dir_st.st_uid == uid
                what = "is in a directory that user does not own"
            else:
                ok = st.st_uid == uid and not (stat.S_ISREG(st.st_mode) and st.st_nlink > 1)
                what = "that user does not own alone"
            if not ok:
                raise UnsafeWrite(
                    f"{link} is a symlink owned by {_user(uid)} leading to {where}, which "
                    f"{what}: refusing to write there as root"
                )
        return Entry(self.fd, name, where, st, dir_st)


def locate(
    path: str, *, follow: bool = False, owner: int | None = None,
    make_dirs: DirSpec | None = None,
) -> Entry:
    """Walk to `path`'s last component (see the module docstring); the caller closes it.

    `follow`: follow a symlink at the entry itself (trusted links only). `owner`: the uid the
    file will belong to, whose links are trusted too. `make_dirs`: create missing directories
    on the way (else a missing one raises UnsafeWrite "Parent directory not present").
    """
    return _Walk(path, owner, make_dirs).run(follow)


def _tmp_name(name: str) -> str:
    return f".{name[:200]}.{os.urandom(5).hex()}.lp-tmp"


def _make_beside(entry: Entry, what: str, make: Callable[[str], _T]) -> tuple[str, _T]:
    """`make` a fresh temp name beside `entry` (retried while the name is taken)."""
    for _ in range(100):
        tmp = _tmp_name(entry.name)
        try:
            return tmp, make(tmp)
        except FileExistsError:
            continue
    raise StateFailed(f"could not create a temp {what} beside {entry.path}")


def _discard(entry: Entry, tmp: str) -> None:
    try:
        os.unlink(tmp, dir_fd=entry.dir_fd)
    except OSError:
        pass


def write_in(
    entry: Entry, data: bytes, mode: int, uid: int = -1, gid: int = -1, *,
    sync: bool = True, sync_dir: bool = False,
) -> None:
    """Replace `entry` with a new file holding `data` (temp file made with O_EXCL, renamed)."""
    if entry.st is not None and stat.S_ISDIR(entry.st.st_mode):
        raise StateFailed(f"{entry.path} is a directory")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    tmp, fd = _make_beside(
        entry, "file", lambda name: os.open(name, flags, 0o600, dir_fd=entry.dir_fd))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if sync:
                fh.flush()
                os.fsync(fh.fileno())
            if uid != -1 or gid != -1:
                os.fchown(fh.fileno(), uid, gid)
            os.fchmod(fh.fileno(), mode)
        os.rename(tmp, entry.name, src_dir_fd=entry.dir_fd, dst_dir_fd=entry.dir_fd)
    except BaseException:
        _discard(entry, tmp)
        raise
    entry.restat()
    if sync_dir:
        dfd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=entry.dir_fd)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def link_in(entry: Entry, target: str) -> None:
    """Replace `entry` with a symlink to `target` (made under a fresh name, renamed over)."""
    tmp, _ = _make_beside(
        entry, "link", lambda name: os.symlink(target, name, dir_fd=entry.dir_fd))
    try:
        os.rename(tmp, entry.name, src_dir_fd=entry.dir_fd, dst_dir_fd=entry.dir_fd)
    except BaseException:
        _discard(entry, tmp)
        raise
    entry.restat()


def read_in(entry: Entry, limit: int | None = None) -> bytes | None:
    """The content of `entry` (None: it does not exist); it must be a regular file."""
    try:
        fd = os.open(entry.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                     dir_fd=entry.dir_fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # ELOOP: a symlink we were not asked to follow
            raise UnsafeWrite(f"{entry.path} is a symlink: refusing to read through it") from None
        raise
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise StateFailed(f"{entry.path} is not a regular file")
        return fh.read() if limit is None else fh.read(limit)


def set_meta_in(entry: Entry, uid: int = -1, gid: int = -1, mode: int | None = None) -> None:
    """chown/chmod the entry itself through a descriptor (a symlink: lchown only)."""
    st = entry.st
    if st is None:
        raise StateFailed(f"{entry.path} does not exist")
    if stat.S_ISLNK(st.st_mode):
        if uid != -1 or gid != -1:
            os.chown(entry.name, uid, gid, dir_fd=entry.dir_fd, follow_symlinks=False)
        return
    fd = os.open(entry.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                 dir_fd=entry.dir_fd)
    try:
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            raise UnsafeWrite(f"{entry.path} changed while it was being checked; run again")
        if (stat.S_ISREG(now.st_mode) and now.st_nlink > 1
                and others_can_write(entry.dir_st, frozenset({0})) is not None):
            raise UnsafeWrite(
                f"{entry.path} has {now.st_nlink} hard links and sits in a directory others "
                f"can write: refusing to change its owner or mode as root"
            )
        if uid != -1 or gid != -1:
            os.fchown(fd, uid, gid)
        if mode is not None:
            os.fchmod(fd, mode)
    finally:
        os.close(fd)
    entry.restat()


def make_dir_in(entry: Entry, spec: DirSpec) -> None:
    """Create the directory `entry` (missing) with `spec`'s mode and owner."""
    try:
        os.mkdir(entry.name, 0o700, dir_fd=entry.dir_fd)
    except FileExistsError:
        raise StateFailed(f"{entry.path} appeared while it was being created; run again") from None
    _own_new_dir(entry.dir_fd, entry.name, spec)
    entry.restat()


def ensure_dir(path: str, spec: DirSpec, owner: int | None = None) -> None:
    """`path` and its missing parents exist as directories (links on the way checked)."""
    if path == "/":
        return
    with locate(path, follow=True, owner=owner, make_dirs=spec) as entry:
        if entry.st is None:
            make_dir_in(entry, spec)
        elif not stat.S_ISDIR(entry.st.st_mode):
            raise StateFailed(f"{entry.path} exists and is not a directory")


def read_file(path: str, *, follow: bool = True, owner: int | None = None) -> bytes | None:
    """`path`'s content through trusted links only (None: it does not exist)."""
    try:
        entry = locate(path, follow=follow, owner=owner)
    except MissingParent:
        return None
    with entry:
        if entry.st is None:
            return None
        if stat.S_ISLNK(entry.st.st_mode):
            raise UnsafeWrite(f"{path} is a symlink: refusing to read through it")
        return read_in(entry)


def write_file(
    path: str, data: str | bytes, mode: int = 0o644, uid: int = -1, gid: int = -1, *,
    follow: bool = False, make_dirs: DirSpec | None = None, sync: bool = True,
    sync_dir: bool = False,
) -> None:
    """Replace `path` with `data`: the safe walk, then temp file + rename (see write_in)."""
    raw = data.encode() if isinstance(data, str) else data
    with locate(path, follow=follow, owner=uid, make_dirs=make_dirs) as entry:
        write_in(entry, raw, mode, uid, gid, sync=sync, sync_dir=sync_dir)
