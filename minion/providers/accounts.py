"""Local accounts: read users and groups through pwd/grp, change them with shadow's tools.

Facts come from this process's view of /etc/passwd and /etc/group (the minion runs on the
host it manages); changes run useradd/usermod/userdel/groupadd/groupmod/groupdel/gpasswd with
`--` before the name.
"""

from __future__ import annotations

import grp
import pwd
import re
from dataclasses import dataclass

from minion.providers.process import run_ok
from minion.state.contract import StateFailed

# shadow-utils on Debian (NAME_REGEX default), at most 32 characters.
ACCOUNT_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,30}[a-z0-9_$-]?$")
NAME_HINT = (
    "use lowercase letters, digits, '_' and '-', start with a letter or '_', at most 32 characters"
)


def check_account_name(kind: str, name: str) -> None:
    """StateFailed with what to do when `name` cannot be a user or group name."""
    if not ACCOUNT_NAME.match(name):
        raise StateFailed(f"{kind} name {name!r} is not valid: {NAME_HINT}")


@dataclass(frozen=True)
class UserFacts:
    name: str
    uid: int
    gid: int
    home: str
    shell: str
    fullname: str
    groups: tuple[str, ...]  # supplementary groups, sorted


def user(name: str) -> UserFacts | None:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    groups = sorted(g.gr_name for g in grp.getgrall() if name in g.gr_mem)
    return UserFacts(
        name,
        entry.pw_uid,
        entry.pw_gid,
        entry.pw_dir,
        entry.pw_shell,
        entry.pw_gecos.split(",")[0],
        tuple(groups),
    )


def group(name: str) -> grp.struct_group | None:
    try:
        return grp.getgrnam(name)
    except KeyError:
        return None


def group_by_id(gid: int) -> grp.struct_group | None:
    try:
        return grp.getgrgid(gid)
    except KeyError:
        return None


def group_id(name_or_id: str | int) -> int:
    """A gid from a name or number; StateFailed when the group does not exist."""
    if isinstance(name_or_id, int):
        return name_or_id
    found = group(name_or_id)
    if found is None:
        raise StateFailed(
            f"group {name_or_id!r} does not exist: add a group.present state for it and require it"
        )
    return found.gr_gid


def uid_taken(uid: int) -> str | None:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def shadow(argv: list[str], what: str) -> None:
    run_ok(argv, what=what)


SHADOW = "/etc/shadow"


def password_hash(name: str, path: str = SHADOW) -> str | None:
    """The user's password field in /etc/shadow (None: no entry or no shadow file)."""
    from minion.providers.safefs import read_file

    data = read_file(path, follow=False)
    for line in (data or b"").decode("utf-8", "replace").splitlines():
        fields = line.split(":")
        if len(fields) > 1 and fields[0] == name:
            return fields[1]
    return None


def set_password_hash(name: str, hashed: str) -> None:
    """Set the user's password hash with `chpasswd -e`, the hash on its stdin (never argv)."""
    run_ok(["chpasswd", "-e"], input=f"{name}:{hashed}\n", what="chpasswd")
