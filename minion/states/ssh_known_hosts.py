"""ssh_known_hosts.present: a host's public key is in a known_hosts file.

    github.com:
      ssh_known_hosts.present:
        - user: deploy
        - enc: ssh-ed25519
        - key: AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl
    git.internal:
      ssh_known_hosts.present:
        - config: /etc/ssh/ssh_known_hosts
        - port: 2222
        - key: AAAA...
        - hash_known_hosts: False

`user` means that user's ~/.ssh/known_hosts (`config` relative to the home, or an absolute
path without user). As Salt, names are hashed by default (`|1|salt|hmac`, what ssh-keygen -H
writes) and a port other than 22 is written `[host]:port`. The key must be given: fetching
it with ssh-keyscan (Salt's way without `key`) is not done here, so a first contact cannot
be spoofed into the file. Changes: `{old: [...], new: [{enc, key, hostname}]}`.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import pwd
import re
from dataclasses import dataclass
from typing import Any, Mapping

from core.errors import StateArgError, UnsafePathError
from core.safepath import check_relative, safe_join
from minion.providers.safefs import DirSpec, read_file, write_file
from minion.state.contract import ExecContext, Pending, StateFailed
from minion.states.specargs import as_bool, as_str, check_known, one_line
from minion.states.ssh_auth import BLOB, KEY_TYPES

HOST = re.compile(r"^[A-Za-z0-9._:-]+$")


@dataclass(frozen=True)
class KnownHostSpec:
    name: str
    port: int
    enc: str
    key: str
    user: str | None
    config: str
    hashed: bool

    @property
    def host_field(self) -> str:
        return self.name if self.port == 22 else f"[{self.name}]:{self.port}"


def hash_host(host: str, salt: bytes) -> str:
    digest = hmac.new(salt, host.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


def names_match(field: str, host: str) -> bool:
    """Whether a known_hosts line's first field names `host` (plain list or hashed)."""
    if field.startswith("|1|"):
        try:
            _, _, salt, _ = field.split("|", 3)
            return hmac.compare_digest(hash_host(host, base64.b64decode(salt)), field)
        except (ValueError, TypeError):
            return False
    return host in field.split(",")


class Present:
    """ssh_known_hosts.present"""

    def parse(self, name: str, args: Mapping[str, Any]) -> KnownHostSpec:
        where = "ssh_known_hosts.present"
        check_known(where, args, ("user", "key", "enc", "port", "config", "hash_known_hosts",
                                  "fingerprint", "fingerprint_hash_type", "timeout"))
        if not isinstance(name, str) or not HOST.match(name):
            raise StateArgError(f"{where}: {name!r} is not a host name or address")
        port = args.get("port", 22)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise StateArgError(f"{where}: port must be a number 1-65535")
        user = as_str(where, "user", args.get("user"))
        default = ".ssh/known_hosts" if user else None
        config = as_str(where, "config", args.get("config"), default)
        if config is None:
            raise StateArgError(f"{where}: give user (their ~/.ssh/known_hosts) or an absolute config")
        config = one_line("config", config)
        if not config.startswith("/"):
            if not user:
                raise StateArgError(f"{where}: a relative config needs user")
            try:
                config = check_relative(config)
            except UnsafePathError as exc:
                raise StateArgError(f"{where}: config: {exc}") from None
        key = args.get("key")
        if key is None:
            raise StateArgError(f"{where}: key is required (the host's public key, base64); "
                                "keys are not fetched with ssh-keyscan here")
        words = str(key).split()
        enc = str(args.get("enc") or "ssh-ed25519")
        if words and words[0] in KEY_TYPES:
            enc, words = words[0], words[1:]
        if len(words) != 1 or not BLOB.match(words[0]) or enc not in KEY_TYPES:
            raise StateArgError(f"{where}: key must be a base64 public key of one of "
                                f"{', '.join(KEY_TYPES)}")
        return KnownHostSpec(name, port, enc, words[0], user, config,
                             as_bool(where, "hash_known_hosts", args.get("hash_known_hosts"), True))

    def _path(self, spec: KnownHostSpec) -> tuple[str, pwd.struct_passwd | None]:
        if spec.user is None:
            return spec.config, None
        try:
            entry = pwd.getpwnam(spec.user)
        except KeyError:
            raise StateFailed(f"user {spec.user} does not exist: add a user.present for it "
                              "and require it") from None
        if spec.config.startswith("/"):
            return spec.config, entry
        try:
            return safe_join(entry.pw_dir, spec.config), entry
        except UnsafePathError as exc:
            raise StateFailed(f"{spec.config} under {entry.pw_dir}: {exc}") from None

    def check(self, ctx: ExecContext, spec: KnownHostSpec) -> Pending:
        path, entry = self._path(spec)
        data = read_file(path, owner=None if entry is None else entry.pw_uid)
        lines = [] if data is None else data.decode("utf-8", "replace").splitlines()
        mine = [ln for ln in lines if ln.split() and names_match(ln.split()[0], spec.host_field)]
        new = {"enc": spec.enc, "key": spec.key, "hostname": spec.name}
        if any(ln.split()[1:3] == [spec.enc, spec.key] for ln in mine):
            return Pending(comment=f"{spec.name}'s key is already in {path}")
        old = [{"enc": p[1], "key": p[2], "hostname": spec.name}
               for p in (ln.split() for ln in mine) if len(p) >= 3]
        return Pending(changes={"old": old, "new": [new]}, facts={"path": path, "lines": lines},
                       comment=f"{spec.name}'s key would be added to {path}",
                       applied_comment=f"{spec.name}'s key is in {path}")

    def apply(self, ctx: ExecContext, spec: KnownHostSpec, pending: Pending) -> dict[str, Any]:
        path, entry = self._path(spec)
        kept = [ln for ln in pending.facts["lines"]
                if not (ln.split() and names_match(ln.split()[0], spec.host_field))]
        field = hash_host(spec.host_field, os.urandom(20)) if spec.hashed else spec.host_field
        kept.append(f"{field} {spec.enc} {spec.key}")
        uid, gid = (entry.pw_uid, entry.pw_gid) if entry is not None else (-1, -1)
        write_file(path, "".join(f"{ln}\n" for ln in kept), 0o644 if entry is None else 0o600,
                   uid, gid, follow=True,
                   make_dirs=DirSpec(0o700 if entry else 0o755, uid, gid))
        return dict(pending.changes)


FUNCTIONS = {"present": Present()}
