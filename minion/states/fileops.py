"""Host file operations shared by the file state functions: look (stat, read, diff) and change
(atomic write keeping the owner, chown/chmod, makedirs). No subprocess: everything is a system
call.
"""

from __future__ import annotations

import difflib
import functools
import os
import stat
from dataclasses import dataclass
from typing import Any, Mapping

from core.errors import StateArgError
from minion.providers.atomic import write_atomic
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
@functools.lru_cache(maxsize=256)
def uid_of(user: str) -> int:
    import pwd

    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        if user.isdigit():
            return int(user)
        raise StateFailed(f"User {user} is not available") from None


@functools.lru_cache(maxsize=256)
def gid_of(group: str) -> int:
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


def _id_or_none(lookup: Any, name: str) -> int | None:
    try:
        return int(lookup(name))
    except StateFailed:
        return None


def set_owner(path: str, want: Owner, follow: bool = True) -> None:
    """chown/chmod `path` to `want` (only the attributes given)."""
    if want.user is not None or want.group is not None:
        uid = uid_of(want.user) if want.user is not None else -1
        gid = gid_of(want.group) if want.group is not None else -1
        os.chown(path, uid, gid, follow_symlinks=follow)
    if want.mode is not None and (follow or not os.path.islink(path)):
        os.chmod(path, want.mode)


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
def makedirs(path: str, want: Owner | None = None) -> None:
    """Create `path` and missing parents; new directories get `want`'s owner/mode when given."""
    missing = []
    cur = path
    while cur and not os.path.isdir(cur):
        missing.append(cur)
        nxt = os.path.dirname(cur)
        if nxt == cur:
            break
        cur = nxt
    for d in reversed(missing):
        os.mkdir(d, 0o755)
        if want is not None:
            set_owner(d, want)


def write_keeping_owner(path: str, data: bytes, want: Owner | None = None) -> None:
    """Replace `path` atomically with `data`, keeping its mode and (as root) its owner, except
    what `want` sets; a new file gets the default mode and our owner."""
    st = lstat_or_none(path)
    if st is None:
        mode, uid, gid = default_file_mode(), -1, -1
    else:
        mode, uid, gid = stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid
    if os.geteuid() != 0:  # only root can keep someone else's ownership
        uid, gid = -1, -1
    if want is not None:
        if want.mode is not None:
            mode = want.mode
        if want.user is not None:
            uid = uid_of(want.user)
        if want.group is not None:
            gid = gid_of(want.group)
    write_atomic(path, data, mode, uid, gid, sync=False)


def remove_any(path: str) -> None:
    """Remove a file, a symlink, or a directory tree (never following symlinks)."""
    st = lstat_or_none(path)
    if st is None:
        return
    if stat.S_ISDIR(st.st_mode):
        import shutil

        shutil.rmtree(path)
    else:
        os.unlink(path)
