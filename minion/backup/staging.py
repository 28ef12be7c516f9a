"""A files restore that a local user cannot redirect with a symlink planted mid-restore.

restic writes by path and follows a symlink it finds on the way, so root's restic never writes
where the restore goes. It restores into a staging directory made 0700 by root, inside a
directory no other user can change (root's, not group/other-writable, or sticky), on the same
filesystem as the destination. What was restored is checked there (no device node; setuid or
setgid only into a private target), then moved into place entry by entry with renameat()
between directory descriptors opened with O_NOFOLLOW (minion/providers/safefs.py walks to each
destination root): an existing entry is replaced, never written through, and a symlink that
appears on the way is never followed.

    skipped = restore_staged(restic, sid, excludes, roots, private=False)

`roots` maps each destination root (absolute; in place a job path, else TARGET/PATH) to its
path in the snapshot. Each {path, why} that could not be placed is returned (a directory where
the snapshot has a file, an entry that changed during the restore, another filesystem).
"""
from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import stat
from typing import Iterable, Mapping

from core.errors import UnsafePathError
from core.restic import Restic
from minion.backup.protect import exact_pattern
from minion.providers import safefs

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
PRIVILEGED = stat.S_ISUID | stat.S_ISGID


def restore_staged(restic: Restic, sid: str, excludes: Iterable[str], roots: Mapping[str, str], *,
                   private: bool) -> list[dict[str, str]]:
    """Restore snapshot `sid` into staging, check it, move `roots` into place (module doc)."""
    groups: dict[str, dict[str, str]] = {}
    for dest, snap_path in sorted(roots.items()):
        groups.setdefault(staging_parent(dest), {})[dest] = snap_path
    skipped: list[dict[str, str]] = []
    for parent, group in sorted(groups.items()):
        others = [exact_pattern(p) for g in groups.values() if g is not group for p in g.values()]
        stage = _make_stage(parent)
        try:
            restic.restore(sid, stage, [*excludes, *others])
            check_staged(stage, private)
            for dest, snap_path in sorted(group.items()):
                _place(stage, snap_path, dest, skipped)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    return skipped


def _trusted(st: os.stat_result) -> bool:
    """A directory whose entries only root (or we) can replace: ours, and nobody else may
    write it, or it is sticky (others cannot rename or remove what we make in it)."""
    return (stat.S_ISDIR(st.st_mode) and st.st_uid in (0, os.geteuid())
            and (not st.st_mode & 0o022 or bool(st.st_mode & stat.S_ISVTX)))


def staging_parent(dest: str) -> str:
    """The deepest directory above `dest` (or `dest` itself, when it is a mount point or the
    restore's own target) that only root can change and that shares `dest`'s filesystem."""
    parts = [p for p in dest.split("/") if p]
    chain: list[tuple[str, os.stat_result]] = []
    existing: os.stat_result | None = None
    current = "/"
    trusted = True
    for i in range(len(parts) + 1):
        if i:
            current = os.path.join(current, parts[i - 1])
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            break
        if not stat.S_ISDIR(st.st_mode):
            break
        existing = st
        trusted = trusted and _trusted(st)
        if trusted:
            chain.append((current, st))
    if existing is None:
        raise UnsafePathError(f"cannot restore {dest}: nothing on its way exists")
    same = [path for path, st in chain if st.st_dev == existing.st_dev]
    above = [path for path in same if path != os.path.normpath(dest)]
    if above or same:
        return (above or same)[-1]
    raise UnsafePathError(f"cannot restore {dest} safely: no directory on its filesystem above it is root's "
                          "and closed to other users (to stage the restore in); restore it --to a new directory")


_STAGE_RE = re.compile(r"\.lp-restore-(\d+)-[0-9a-f]{12}")


def _remove_stale_stages(parent: str) -> None:
    """Staging directories of ours whose restore died with its process (a minion killed mid-restore)."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        match = _STAGE_RE.fullmatch(name)
        if match is None or os.path.exists(f"/proc/{match.group(1)}"):
            continue
        path = os.path.join(parent, name)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid():
            shutil.rmtree(path, ignore_errors=True)


def _make_stage(parent: str) -> str:
    _remove_stale_stages(parent)
    for _ in range(100):
        path = os.path.join(parent, f".lp-restore-{os.getpid()}-{secrets.token_hex(6)}")
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue
        st = os.lstat(path)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
            raise UnsafePathError(f"the staging directory {path} is not ours alone; not restoring")
        return path
    raise UnsafePathError(f"could not make a staging directory in {parent}")


def check_staged(stage: str, private: bool) -> None:
    """What restic wrote: no device node; setuid/setgid files only when the target is private."""
    for dirpath, dirnames, filenames in os.walk(stage):
        for name in dirnames + filenames:
            st = os.lstat(os.path.join(dirpath, name))
            where = os.path.join(dirpath, name)[len(stage):]
            if stat.S_ISBLK(st.st_mode) or stat.S_ISCHR(st.st_mode):
                raise UnsafePathError(f"the snapshot restored a device node {where}; not restoring devices")
            if stat.S_ISREG(st.st_mode) and st.st_mode & PRIVILEGED and not private:
                raise UnsafePathError(f"the snapshot restored a setuid/setgid program {where}; restore it --to "
                                      "a new or 0700 directory and install it from there")


def _place(stage: str, snap_path: str, dest: str, skipped: list[dict[str, str]]) -> None:
    staged = os.path.join(stage, snap_path.lstrip("/"))
    try:
        src_fd = os.open(os.path.dirname(staged), _DIR_FLAGS)
    except FileNotFoundError:
        return                            # not in the snapshot (or excluded)
    try:
        if not os.path.lexists(staged):
            return
        made = _missing_above(dest)
        try:
            entry = safefs.locate(dest, make_dirs=safefs.DirSpec(0o755, 0, 0))
        except safefs.UnsafeWrite as exc:
            raise UnsafePathError(f"not restoring {dest}: {exc}") from None
        with entry:
            _merge(src_fd, os.path.basename(staged), entry.dir_fd, entry.name, dest, skipped)
        if dest == snap_path:             # in place: the snapshot holds those directories too
            _dirs_as_in_snapshot(made, stage)
    finally:
        os.close(src_fd)


def _missing_above(dest: str) -> list[str]:
    """The directories above `dest` that do not exist yet (the walk to it makes them)."""
    missing = []
    parent = os.path.dirname(os.path.normpath(dest))
    while parent != "/" and not os.path.lexists(parent):
        missing.append(parent)
        parent = os.path.dirname(parent)
    return missing


def _dirs_as_in_snapshot(made: list[str], stage: str) -> None:
    """Give directories the restore had to make the owner and mode the snapshot has for them
    (set through a descriptor opened by a walk that follows no symlink)."""
    for path in made:
        try:
            sst = os.lstat(os.path.join(stage, path.lstrip("/")))
        except FileNotFoundError:
            continue
        if not stat.S_ISDIR(sst.st_mode):
            continue
        try:
            with safefs.locate(path) as entry:
                fd = os.open(entry.name, _DIR_FLAGS, dir_fd=entry.dir_fd)
        except (OSError, safefs.UnsafeWrite):
            continue
        try:
            st = os.fstat(fd)
            if st.st_uid == os.geteuid():   # ours: not one a local user made there meanwhile
                os.fchown(fd, sst.st_uid, sst.st_gid)
                os.fchmod(fd, stat.S_IMODE(sst.st_mode))
        finally:
            os.close(fd)


def _merge(src_fd: int, name: str, dst_fd: int, dst_name: str, shown: str, skipped: list[dict[str, str]]) -> None:
    """Put the staged entry `name` (in src_fd) at `dst_name` (in dst_fd): a directory onto an
    existing directory entry by entry, anything else by one rename over what is there."""
    sst = os.stat(name, dir_fd=src_fd, follow_symlinks=False)
    try:
        dst: os.stat_result | None = os.stat(dst_name, dir_fd=dst_fd, follow_symlinks=False)
    except FileNotFoundError:
        dst = None
    if dst is not None and stat.S_ISDIR(dst.st_mode):
        if not stat.S_ISDIR(sst.st_mode):
            skipped.append({"path": shown, "why": "a directory is there; not replaced by the snapshot's file"})
            return
        _merge_dirs(src_fd, name, dst_fd, dst_name, sst, shown, skipped)
        return
    try:
        if dst is not None and stat.S_ISDIR(sst.st_mode):
            os.unlink(dst_name, dir_fd=dst_fd)      # the entry itself: a symlink is not followed
        os.rename(name, dst_name, src_dir_fd=src_fd, dst_dir_fd=dst_fd)
    except OSError as exc:
        skipped.append({"path": shown, "why": _why(exc)})


def _merge_dirs(src_fd: int, name: str, dst_fd: int, dst_name: str, sst: os.stat_result, shown: str,
                skipped: list[dict[str, str]]) -> None:
    s_dir = os.open(name, _DIR_FLAGS, dir_fd=src_fd)
    try:
        try:
            d_dir = os.open(dst_name, _DIR_FLAGS, dir_fd=dst_fd)
        except OSError as exc:            # swapped for a symlink (ELOOP) or a file since we looked
            skipped.append({"path": shown, "why": _why(exc)})
            return
        try:
            for child in sorted(os.listdir(s_dir)):
                _merge(s_dir, child, d_dir, child, os.path.join(shown, child), skipped)
            os.fchown(d_dir, sst.st_uid, sst.st_gid)
            os.fchmod(d_dir, stat.S_IMODE(sst.st_mode))
            os.utime(d_dir, ns=(sst.st_atime_ns, sst.st_mtime_ns))
        finally:
            os.close(d_dir)
    finally:
        os.close(s_dir)


def _why(exc: OSError) -> str:
    if exc.errno == errno.EXDEV:
        return "on another filesystem than the rest of the restore; restore it --to a directory there"
    if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EISDIR, errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
        return "it changed while the restore ran (a symlink or directory appeared); not written through"
    return f"not placed: {exc.strerror}"


def roots_in_place(job_paths: Iterable[str], kept: Iterable[str]) -> dict[str, str]:
    """In place: each job path restores onto itself."""
    kept_set = set(kept)
    return {os.path.normpath(p): os.path.normpath(p) for p in job_paths if os.path.normpath(p) in kept_set}


def roots_into(target: str, kept: Iterable[str]) -> dict[str, str]:
    """Into `target`: each top-level snapshot entry goes to TARGET/ENTRY."""
    tops = sorted({"/" + p.split("/")[1] for p in kept})
    return {os.path.join(target, top.lstrip("/")): top for top in tops}
