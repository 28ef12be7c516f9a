"""Host file operations shared by the file state functions: look (stat, read, diff) and change
(atomic write keeping the owner, chown/chmod, makedirs). No subprocess: everything is a system
call.
"""

from __future__ import annotations

import functools
import os
import stat
from dataclasses import dataclass
from typing import Any, Mapping

from core.errors import StateArgError
from minion.providers.safefs import (
    DirSpec,
    Entry,
    MissingParent,
    ensure_dir,
    locate,
    read_file,
    read_in,
    set_meta_in,
    write_in,
)
from minion.state.contract import StateFailed


# -- arguments ------------------------------------------------------------------------------
def parse_mode(where: str, value: Any) -> int | None:
    """Salt's mode: int 644 or 600 means octal (YAML `0600` reaches us as 600), "0644" too."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise StateArgError(f"{where}: bad mode {value!r}")
    text = str(value).strip().lower()
    if text.startswith("0o"):
        text = text[2:]
    if not text.isdigit() or any(c in "89" for c in text) or len(text.lstrip("0")) > 4:
        raise StateArgError(f"{where}: mode must be octal like 0644 or 644, not {value!r}")
    return int(text, 8)


def fmt_mode(mode: int) -> str:
    return f"{stat.S_IMODE(mode):04o}"


def check_path(where: str, name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise StateArgError(f"{where}: name must be a path")
    if "\x00" in name:
        raise StateArgError(f"{where}: name contains a NUL byte")
    if not os.path.isabs(name):
        raise StateArgError(f"{where}: {name!r} is not an absolute path")
    return os.path.normpath(name) if name != "/" else name


def owner_arg(where: str, key: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise StateArgError(f"{where}: {key} must be a name or a number, not {value!r}")
    return str(value)


def parse_owner(where: str, args: Mapping[str, Any], mode_key: str | None = "mode") -> Owner:
    """The `user`, `group` and `mode_key` (None: no mode) arguments of a state as an Owner."""
    return Owner(
        user=owner_arg(where, "user", args.get("user")),
        group=owner_arg(where, "group", args.get("group")),
        mode=parse_mode(where, args.get(mode_key)) if mode_key else None,
    )


# -- users and groups -----------------------------------------------------------------------
def uid_of(user: str) -> int:
    """The uid of `user` (a name or a number), looked up every time: a minion daemon lives
    longer than a uid (groupmod/usermod by hand must show as drift)."""
    import pwd

    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        if user.isdigit():
            return int(user)
        raise StateFailed(f"User {user} is not available") from None


def gid_of(group: str) -> int:
    """The gid of `group` (a name or a number), looked up every time (see uid_of)."""
    import grp

    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        if group.isdigit():
            return int(group)
        raise StateFailed(f"Group {group} is not available") from None


@functools.lru_cache(maxsize=1)
def default_file_mode() -> int:
    """0666 less the process umask (what a new file gets when no mode is given)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


@dataclass(frozen=True)
class Owner:
    """Wanted ownership and mode; None leaves that attribute alone."""

    user: str | None = None
    group: str | None = None
    mode: int | None = None


def owner_changes(st: os.stat_result | None, want: Owner) -> dict[str, Any]:
    """The {user, group, mode} changes needed on an existing entry `st` (None: a new one).

    A user or group that does not exist yet counts as a change (an earlier state may create
    it); apply then fails if it still does not exist.
    """
    changes: dict[str, Any] = {}
    if want.user is not None and (st is None or st.st_uid != _id_or_none(uid_of, want.user)):
        changes["user"] = want.user
    if want.group is not None and (st is None or st.st_gid != _id_or_none(gid_of, want.group)):
        changes["group"] = want.group
    if want.mode is not None and (st is None or stat.S_IMODE(st.st_mode) != want.mode):
        changes["mode"] = fmt_mode(want.mode)
    return changes


def created_changes(want: Owner) -> dict[str, Any]:
    """What Salt reports for an entry it has just created: the user and group it was given,
    when they are not the creator's (the mode it was created with is not a change)."""
    changes: dict[str, Any] = {}
    if want.user is not None and _id_or_none(uid_of, want.user) != os.geteuid():
        changes["user"] = want.user
    if want.group is not None and _id_or_none(gid_of, want.group) != os.getegid():
        changes["group"] = want.group
    return changes


def dir_mode_for(file_mode: int | None) -> int | None:
    """Salt's mode for the directories makedirs creates above a file when no dir_mode is given:
    the file's permission bits with execute added to each non-zero digit (0640 -> 0750,
    0620 -> 0730); setuid, setgid and sticky are left off."""
    if file_mode is None:
        return None
    perms = file_mode & 0o777
    return perms | sum(0o1 << shift for shift in (0, 3, 6) if perms >> shift & 0o7)


def _id_or_none(lookup: Any, name: str) -> int | None:
    try:
        return int(lookup(name))
    except StateFailed:
        return None


def want_uid(want: Owner | None) -> int | None:
    """The uid `want` gives the file (None: not given, or the user does not exist yet)."""
    if want is None or want.user is None:
        return None
    return _id_or_none(uid_of, want.user)


def set_owner(path: str, want: Owner, follow: bool = True) -> None:
    """chown/chmod `path` to `want` (only the attributes given), through trusted links only."""
    if want.user is None and want.group is None and want.mode is None:
        return
    uid = uid_of(want.user) if want.user is not None else -1
    gid = gid_of(want.group) if want.group is not None else -1
    with locate(path, follow=follow, owner=uid) as entry:
        if entry.st is None:
            raise StateFailed(f"{path} does not exist")
        set_meta_in(entry, uid, gid, want.mode)


# -- looking --------------------------------------------------------------------------------
def lstat_or_none(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None


def read_bytes(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def is_binary(data: bytes) -> bool:
    if b"\x00" in data[:8192]:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def text_diff(old: bytes, new: bytes) -> str:
    """A unified diff of two contents, Salt-like headers; 'Replace binary file' for binary data."""
    if is_binary(old) or is_binary(new):
        return "Replace binary file"
    a = old.decode("utf-8").splitlines(keepends=True)
    b = new.decode("utf-8").splitlines(keepends=True)
    lines = []
    import difflib

    for line in difflib.unified_diff(a, b, fromfile="", tofile="", n=3):
        lines.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(lines)


def parent_missing(path: str) -> str | None:
    parent = os.path.dirname(path)
    return None if os.path.isdir(parent) else parent


def missing_parent_note(path: str, make_dirs: bool) -> str:
    """For check: a note when `path`'s directory is missing and will not be made (the run may
    still create it in an earlier state, so check does not fail; apply does, via need_parent)."""
    missing = parent_missing(path)
    if missing and not make_dirs:
        return f" (its directory {missing} does not exist yet)"
    return ""


def need_parent(path: str, make_dirs: bool, what: str = "Parent directory") -> None:
    """For apply: StateFailed when `path`'s directory is missing and makedirs is not set."""
    missing = parent_missing(path)
    if missing and not make_dirs:
        raise StateFailed(f"{what} not present: {missing} (set makedirs: True)")


# -- changing -------------------------------------------------------------------------------
def makedirs(path: str, want: Owner | None = None, trust: int | None = None) -> None:
    """Create `path` and missing parents; new directories get `want`'s owner/mode when given
    (0755 otherwise). Symlinks on the way are followed only when root planted them, or the
    user `trust` (the uid of the file to be written there; default: `want`'s user)."""
    want = want or Owner()
    uid = uid_of(want.user) if want.user is not None else -1
    gid = gid_of(want.group) if want.group is not None else -1
    mode = want.mode if want.mode is not None else 0o755 & ~_umask()
    ensure_dir(path, DirSpec(mode, uid, gid), owner=uid if trust is None else trust)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def read_target(path: str, follow: bool = True, want: Owner | None = None) -> bytes | None:
    """The content of the file a state manages (None: missing), read through trusted links
    only, so a diff never shows a file a planted link points at."""
    return read_file(path, follow=follow, owner=want_uid(want))


def write_keeping_owner(
    path: str, data: bytes, want: Owner | None = None, follow: bool = False
) -> None:
    """Replace `path` atomically with `data`, keeping its mode and (as root) its owner, except
    what `want` sets; a new file gets the default mode and our owner. `follow`: write the
    file a symlink at `path` names (trusted links only) instead of replacing the link."""
    uid = gid = -1
    if want is not None:
        if want.user is not None:
            uid = uid_of(want.user)
        if want.group is not None:
            gid = gid_of(want.group)
    with locate(path, follow=follow, owner=uid) as entry:
        st = entry.st
        if st is None or stat.S_ISLNK(st.st_mode):
            mode, keep_uid, keep_gid = default_file_mode(), -1, -1
        else:
            mode, keep_uid, keep_gid = stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid
        if os.geteuid() != 0:  # only root can keep someone else's ownership
            keep_uid, keep_gid = -1, -1
        if want is not None and want.mode is not None:
            mode = want.mode
        write_in(
            entry, data, mode, uid if uid != -1 else keep_uid, gid if gid != -1 else keep_gid,
            sync=False,
        )


def backup_copy(path: str, suffix: str) -> None:
    """Copy `path` (links followed only when trusted) to its real path + `suffix`, keeping
    its mode and owner; the copy replaces whatever is at that name, a link included."""
    with locate(path, follow=True) as entry:
        data = read_in(entry)
        st = entry.st
        if data is None or st is None:
            return
        backup = Entry(entry.dir_fd, entry.name + suffix, entry.path + suffix, None, entry.dir_st)
        backup.restat()
        uid, gid = (st.st_uid, st.st_gid) if os.geteuid() == 0 else (-1, -1)
        write_in(backup, data, stat.S_IMODE(st.st_mode), uid, gid, sync=False)


def remove_any(path: str) -> None:
    """Remove a file, a symlink, or a directory tree (never following symlinks, on the way
    to it either, unless root alone could have planted them)."""
    import shutil

    try:
        entry = locate(path, follow=False)
    except MissingParent:
        return
    with entry:
        st = entry.st
        if st is None:
            return
        if stat.S_ISDIR(st.st_mode):
            shutil.rmtree(entry.name, dir_fd=entry.dir_fd)
        else:
            os.unlink(entry.name, dir_fd=entry.dir_fd)
