"""Per-user crontab files, with a managed section that state runs own.

    <the user's own lines, kept as they are>
    # Lines below here are managed by linkpeek-ops, do not edit
    MAILTO=ops@example.com
    # SALT_CRON_IDENTIFIER:backup
    0 3 * * * /usr/local/bin/backup

Entries are found by their identifier comment, so an edited schedule replaces its line instead
of adding a second one. A crontab Salt wrote (its own marker line) is read as managed too. The file lives in cron's spool (/var/spool/cron/crontabs/USER, what
`crontab -u USER` writes), is replaced atomically, 0600, owned by the user and group crontab.
"""

from __future__ import annotations

import grp
import os
import pwd
from dataclasses import dataclass, field

from minion.providers.atomic import write_atomic
from minion.providers.safefs import DirSpec, UnsafeWrite, read_file
from minion.state.contract import StateFailed

SPOOL = "/var/spool/cron/crontabs"
MARKER = "# Lines below here are managed by linkpeek-ops, do not edit"
SALT_MARKER = "# Lines below here are managed by Salt, do not edit"  # a crontab Salt wrote
IDENT = "# SALT_CRON_IDENTIFIER:"


@dataclass
class Crontab:
    """A parsed crontab: `head` (unmanaged lines) and the managed items in order."""

    head: list[str] = field(default_factory=list)
    # ("env", NAME, line) | ("job", identifier, line) | ("raw", "", line)
    items: list[tuple[str, str, str]] = field(default_factory=list)

    def find(self, kind: str, key: str) -> int | None:
        for i, (k, name, _) in enumerate(self.items):
            if k == kind and name == key:
                return i
        return None

    def render(self) -> str:
        if not self.items:
            return "".join(f"{ln}\n" for ln in self.head)
        out = [*self.head, MARKER]
        for kind, key, line in self.items:
            if kind == "job":
                out.append(f"{IDENT}{key}")
            out.append(line)
        return "".join(f"{ln}\n" for ln in out)


def parse(text: str) -> Crontab:
    tab = Crontab()
    lines = text.splitlines()
    at = next((i for i, line in enumerate(lines) if line in (MARKER, SALT_MARKER)), None)
    if at is None:
        tab.head = lines
        return tab
    tab.head = lines[:at]
    pending_ident: str | None = None
    for line in lines[at + 1 :]:
        if line.startswith(IDENT):
            pending_ident = line[len(IDENT) :].strip()
        elif pending_ident is not None:
            tab.items.append(("job", pending_ident, line))
            pending_ident = None
        elif (
            "=" in line
            and not line.lstrip().startswith("#")
            and line.split("=", 1)[0].strip().isidentifier()
        ):
            tab.items.append(("env", line.split("=", 1)[0].strip(), line))
        else:
            tab.items.append(("raw", "", line))
    return tab


def path_for(user: str, spool: str = SPOOL) -> str:
    return os.path.join(spool, user)


def read(user: str, spool: str = SPOOL) -> Crontab:
    path = path_for(user, spool)
    try:
        data = read_file(os.path.abspath(path), follow=False)
    except UnsafeWrite:
        raise StateFailed(f"{path} is a symlink: refusing to use it; replace it with a file") from None
    return Crontab() if data is None else parse(data.decode("utf-8", "replace"))


def write(user: str, tab: Crontab, spool: str = SPOOL) -> None:
    try:
        entry = pwd.getpwnam(user)
    except KeyError as exc:
        raise StateFailed(
            f"user {user} does not exist: add a user.present for it and require it"
        ) from exc
    try:
        gid = grp.getgrnam("crontab").gr_gid
    except KeyError:
        gid = entry.pw_gid
    write_atomic(
        path_for(user, spool), tab.render(), mode=0o600, uid=entry.pw_uid, gid=gid,
        make_dirs=DirSpec(0o1730, -1, gid),
    )
