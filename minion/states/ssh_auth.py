"""ssh_auth states: present / absent, one public key in a user's authorized_keys.

    deploy-key:
      ssh_auth.present:
        - name: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI... deploy@ci
        - user: linkpeek
        - options: ['from="10.0.0.0/8"', no-pty]
    team-keys:
      ssh_auth.present:
        - user: linkpeek
        - source: salt://keys/team.pub       # every key in the file (the name is then free)

The key is matched by its base64 blob, so a changed comment or options replace the line.
The file is replaced atomically, 0600 and owned by the user; symlinks are refused.
"""

from __future__ import annotations

import pwd
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import StateArgError, UnsafePathError
from core.safepath import check_relative, safe_join
from minion.providers.safefs import DirSpec, read_file, write_file
from minion.state.contract import ExecContext, Pending, StateFailed
from minion.states.specargs import check_known, one_line

KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-dss",
)
BLOB = re.compile(r"^[A-Za-z0-9+/]+={0,3}$")


@dataclass(frozen=True)
class KeySpec:
    user: str
    enc: str
    blob: str
    comment: str
    options: tuple[str, ...]
    config: str
    source: str | None = None  # a file of keys, one a line; each key is then a KeySpec of its own

    @property
    def line(self) -> str:
        opts = ",".join(self.options)
        return " ".join(p for p in (opts, self.enc, self.blob, self.comment) if p)


def _key_fields(key: str, enc: str, comment: str) -> tuple[str, str, str]:
    """(type, blob, comment) of `[type] base64-blob [comment]`; StateArgError when it is not."""
    words = key.split()
    if words and words[0] in KEY_TYPES:
        enc, words = words[0], words[1:]
    if not words or not BLOB.match(words[0]):
        raise StateArgError("name must be a public key: [type] base64-blob [comment]")
    if enc not in KEY_TYPES:
        raise StateArgError(f"enc must be one of {', '.join(KEY_TYPES)}")
    return enc, words[0], comment or " ".join(words[1:])


def parse_key(where: str, name: str, args: Mapping[str, Any], *, sourced: bool = False) -> KeySpec:
    check_known(where, args, ("user", "enc", "comment", "options", "config")
                + (("source",) if sourced else ()))
    if not args.get("user"):
        raise StateArgError("user is required (whose authorized_keys)")
    source = args.get("source")
    if source is not None and not (isinstance(source, str) and source):
        raise StateArgError("source must be a salt:// URL or a path of a file of public keys")
    enc = str(args.get("enc", "ssh-ed25519"))
    comment = one_line("comment", args.get("comment", ""))
    blob = ""
    if source is None:
        enc, blob, comment = _key_fields(one_line("name", name), enc, comment)
    options = args.get("options") or []
    if not isinstance(options, list):
        raise StateArgError("options must be a list")
    config = one_line("config", args.get("config", ".ssh/authorized_keys"))
    if not config.startswith("/"):  # under the user's home: no way out of it (SECURITY.md rule 4)
        try:
            config = check_relative(config)
        except UnsafePathError as exc:
            raise StateArgError(f"config: {exc}") from None
    return KeySpec(
        str(args["user"]),
        enc,
        blob,
        comment,
        tuple(one_line("options", o) for o in options),
        config,
        source,
    )


def sourced_keys(ctx: ExecContext, spec: KeySpec) -> list[KeySpec]:
    """The keys a spec stands for: itself, or each key line of its `source` file."""
    if spec.source is None:
        return [spec]
    from dataclasses import replace

    with open(ctx.files.cache_file(spec.source), encoding="utf-8", errors="replace") as fh:
        lines = [ln.strip() for ln in fh if ln.strip() and not ln.lstrip().startswith("#")]
    keys = []
    for line in lines:
        try:
            enc, blob, comment = _key_fields(line, spec.enc, "")
        except StateArgError:
            raise StateFailed(f"{spec.source}: {line[:40]!r} is not a public key line") from None
        keys.append(replace(spec, enc=enc, blob=blob, comment=comment, source=None))
    if not keys:
        raise StateFailed(f"{spec.source} holds no public key")
    return keys


def _target(spec: KeySpec) -> tuple[str, pwd.struct_passwd | None]:
    try:
        entry = pwd.getpwnam(spec.user)
    except KeyError:
        return "", None
    if spec.config.startswith("/"):
        return spec.config, entry
    try:  # every link resolved: the file must still be under the user's home (SECURITY.md rule 4)
        return safe_join(entry.pw_dir, spec.config), entry
    except UnsafePathError as exc:
        raise StateFailed(f"{spec.config} under {entry.pw_dir}: {exc}; a symlink on the way leads out "
                          "of the home directory: replace it with a plain directory") from None


def _lines(path: str, entry: pwd.struct_passwd) -> list[str]:
    """The file's lines, read through links only the user or root could plant (safefs)."""
    data = read_file(path, follow=True, owner=entry.pw_uid)
    return [] if data is None else data.decode("utf-8", "replace").splitlines()


def _find(lines: list[str], blob: str) -> int | None:
    for i, line in enumerate(lines):
        if blob in line.split():
            return i
    return None


def _write(path: str, entry: pwd.struct_passwd, lines: list[str]) -> None:
    uid, gid = entry.pw_uid, entry.pw_gid
    write_file(
        path, "".join(f"{ln}\n" for ln in lines), 0o600, uid, gid, follow=True,
        make_dirs=DirSpec(0o700, uid, gid), sync=True,
    )


class Present:
    """ssh_auth.present: the key is in the user's authorized_keys, with its options/comment."""

    def parse(self, name: str, args: Mapping[str, Any]) -> KeySpec:
        return parse_key("ssh_auth.present", name, args, sourced=True)

    def check(self, ctx: ExecContext, spec: KeySpec) -> Pending:
        keys = sourced_keys(ctx, spec)
        path, entry = _target(spec)
        lines = [] if entry is None else _lines(path, entry)  # the user may come from an earlier state
        changes: dict[str, Any] = {}
        for key in keys:
            index = _find(lines, key.blob)
            if index is None or lines[index] != key.line:
                label = "key" if spec.source is None else key.comment or key.blob[-12:]
                changes[label] = {"old": "" if index is None else lines[index], "new": key.line}
        if not changes:
            return Pending(comment=f"key{'s' if len(keys) > 1 else ''} already in {path}")
        return Pending(changes=changes, facts={"keys": keys})

    def apply(self, ctx: ExecContext, spec: KeySpec, pending: Pending) -> dict[str, Any]:
        path, entry = _target(spec)
        if entry is None:
            raise StateFailed(
                f"user {spec.user} does not exist: add a user.present for it and require it"
            )
        lines = _lines(path, entry)
        for key in pending.facts.get("keys") or [spec]:
            index = _find(lines, key.blob)
            if index is None:
                lines.append(key.line)
            else:
                lines[index] = key.line
        _write(path, entry, lines)
        return dict(pending.changes)


class Absent:
    """ssh_auth.absent: the key is not in the user's authorized_keys."""

    def parse(self, name: str, args: Mapping[str, Any]) -> KeySpec:
        return parse_key("ssh_auth.absent", name, args)

    def check(self, ctx: ExecContext, spec: KeySpec) -> Pending:
        path, entry = _target(spec)
        lines = [] if entry is None else _lines(path, entry)
        index = _find(lines, spec.blob)
        if index is None:
            return Pending(comment="key is absent")
        return Pending(changes={"key": {"old": lines[index], "new": ""}})

    def apply(self, ctx: ExecContext, spec: KeySpec, pending: Pending) -> dict[str, Any]:
        path, entry = _target(spec)
        assert entry is not None
        lines = [ln for ln in _lines(path, entry) if spec.blob not in ln.split()]
        _write(path, entry, lines)
        return dict(pending.changes)


FUNCTIONS = {"present": Present(), "absent": Absent()}
