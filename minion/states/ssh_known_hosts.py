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

    backup.internal:
      ssh_known_hosts.present:
        - config: /etc/ssh/ssh_known_hosts
        - fingerprint: SHA256:m42n4MaxfRvBwd7y2eZcumHt3GaEfnnHSGYl9tAM7lU   # or Salt's hex form
        - timeout: 5

`user` means that user's ~/.ssh/known_hosts (`config` relative to the home, or an absolute
path without user). As Salt, names are hashed by default (`|1|salt|hmac`, what ssh-keygen -H
writes) and a port other than 22 is written `[host]:port`.

Without `key` the host's keys are fetched with ssh-keyscan (`enc` picks one type, else all it
offers), in test mode too, so a dry run shows what would be trusted. With `fingerprint`
(`ssh-keygen -l`'s `SHA256:...`, or Salt's colon hex of `fingerprint_hash_type`, sha256 by
default) only a key that matches is written; none matching fails the state. Without one the
scanned keys are trusted on first use, as Salt does, and the comment says so. A host already
in the file is left alone then: no scan, and a changed key is never taken over (Salt's real
run re-scans and replaces it). Changes, as Salt's: `{old: [...] or null, new: [{enc, key,
hostname[, fingerprint (colon hex, as Salt)]}]}`.
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
    enc: str | None            # None: every type the host offers (a scan without `enc`)
    key: str | None            # None: scan the host
    user: str | None
    config: str
    hashed: bool
    fingerprint: bytes | None = None   # the digest a scanned key must have
    fingerprint_text: str = ""
    hash_type: str = "sha256"
    timeout: int = 5

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


def key_digest(key: str, hash_type: str = "sha256") -> bytes:
    """The digest of a base64 public key blob (what fingerprints are made of)."""
    return hashlib.new(hash_type, base64.b64decode(key)).digest()


def openssh_fingerprint(key: str) -> str:
    """`SHA256:...`, as ssh-keygen -l prints it."""
    return "SHA256:" + base64.b64encode(key_digest(key)).decode().rstrip("=")


def salt_fingerprint(key: str, hash_type: str = "sha256") -> str:
    """The digest in colon hex, as Salt reports (and takes) fingerprints."""
    return ":".join(f"{b:02x}" for b in key_digest(key, hash_type))


def parse_fingerprint(where: str, text: str, hash_type: str) -> tuple[bytes, str]:
    """(digest, hash type) of `SHA256:base64` / `MD5:hex` (ssh-keygen -l) or colon hex (Salt)."""
    prefix, _, rest = text.partition(":")
    try:
        if prefix.upper() == "SHA256" and rest:
            hash_type = "sha256"
            digest = base64.b64decode(rest + "=" * (-len(rest) % 4), validate=True)
        elif prefix.upper() == "MD5" and rest:
            hash_type, digest = "md5", bytes.fromhex(rest.replace(":", ""))
        else:
            digest = bytes.fromhex(text.replace(":", ""))
    except ValueError:
        digest = b""
    if len(digest) != hashlib.new(hash_type).digest_size:
        raise StateArgError(f"{where}: fingerprint must be SHA256:... as ssh-keygen -l prints it, "
                            f"or the {hash_type} digest in colon hex (fingerprint_hash_type)")
    return digest, hash_type


def keyscan(host: str, port: int, timeout: int) -> list[tuple[str, str]]:
    """[(enc, key)] the host offers, by ssh-keyscan (no secrets on its argv)."""
    import subprocess

    try:
        proc = subprocess.run(["ssh-keyscan", "-T", str(timeout), "-p", str(port), "--", host],
                              capture_output=True, text=True, timeout=timeout * 3 + 5)
    except FileNotFoundError:
        raise StateFailed("ssh-keyscan is not installed (Debian: openssh-client)") from None
    except subprocess.TimeoutExpired:
        return []
    found = []
    for line in proc.stdout.splitlines():
        words = line.split()
        if len(words) == 3 and words[1] in KEY_TYPES and BLOB.match(words[2]):
            if (words[1], words[2]) not in found:
                found.append((words[1], words[2]))
    return found


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
        hashed = as_bool(where, "hash_known_hosts", args.get("hash_known_hosts"), True)
        key = args.get("key")
        if key is None:
            return self._scan_spec(where, name, port, user, config, hashed, args)
        if args.get("fingerprint") is not None:
            raise StateArgError(f"{where}: give key or fingerprint, not both")
        words = str(key).split()
        enc = str(args.get("enc") or "ssh-ed25519")
        if words and words[0] in KEY_TYPES:
            enc, words = words[0], words[1:]
        if len(words) != 1 or not BLOB.match(words[0]) or enc not in KEY_TYPES:
            raise StateArgError(f"{where}: key must be a base64 public key of one of "
                                f"{', '.join(KEY_TYPES)}")
        return KnownHostSpec(name, port, enc, words[0], user, config, hashed)

    def _scan_spec(self, where: str, name: str, port: int, user: str | None, config: str,
                   hashed: bool, args: Mapping[str, Any]) -> KnownHostSpec:
        enc = args.get("enc")
        if enc is not None and str(enc) not in KEY_TYPES:
            raise StateArgError(f"{where}: enc must be one of {', '.join(KEY_TYPES)}")
        hash_type = str(args.get("fingerprint_hash_type") or "sha256").lower()
        if hash_type not in ("sha256", "sha1", "md5"):
            raise StateArgError(f"{where}: fingerprint_hash_type must be sha256, sha1 or md5")
        timeout = args.get("timeout", 5)
        if isinstance(timeout, bool) or not isinstance(timeout, int) or not 0 < timeout <= 600:
            raise StateArgError(f"{where}: timeout must be a number of seconds from 1 to 600")
        text = args.get("fingerprint")
        digest = None
        if text is not None:
            text = one_line("fingerprint", str(text)).strip()
            digest, hash_type = parse_fingerprint(where, text, hash_type)
        return KnownHostSpec(name, port, None if enc is None else str(enc), None, user, config,
                             hashed, digest, text or "", hash_type, timeout)

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
        kept: list[str] = []  # the lines of other hosts, which a write keeps
        stored: list[tuple[str, str]] = []
        for line in [] if data is None else data.decode("utf-8", "replace").splitlines():
            words = line.split()
            if not (words and names_match(words[0], spec.host_field)):
                kept.append(line)
            elif len(words) >= 3:
                stored.append((words[1], words[2]))
        old = [{"enc": enc, "key": key, "hostname": spec.name} for enc, key in stored] or None
        if spec.key is None:
            return self._check_scanned(spec, path, kept, stored, old)
        new = {"enc": spec.enc, "key": spec.key, "hostname": spec.name}
        if (spec.enc, spec.key) in stored:
            return Pending(comment=f"{spec.name}'s key is already in {path}")
        return Pending(changes={"old": old, "new": [new]},
                       facts={"path": path, "kept": kept, "keys": [(spec.enc, spec.key)]},
                       comment=f"{spec.name}'s key would be added to {path}",
                       applied_comment=f"{spec.name}'s key is in {path}")

    def _check_scanned(self, spec: KnownHostSpec, path: str, kept: list[str],
                       stored: list[tuple[str, str]], old: list[dict[str, Any]] | None) -> Pending:
        if spec.enc is not None:
            stored = [s for s in stored if s[0] == spec.enc]
        if spec.fingerprint is None and stored:
            return Pending(comment=f"{spec.name} is already in {path}")
        if any(self._matches(spec, key) for _, key in stored):
            return Pending(comment=f"{spec.name}'s key with fingerprint {spec.fingerprint_text} "
                                   f"is already in {path}")
        scanned = keyscan(spec.name, spec.port, spec.timeout)
        if spec.enc is not None:
            scanned = [s for s in scanned if s[0] == spec.enc]
        if not scanned:
            offered = f" of type {spec.enc}" if spec.enc else ""
            raise StateFailed(f"Unable to receive remote host keys{offered} from "
                              f"{spec.name} port {spec.port} (ssh-keyscan, {spec.timeout} s)")
        if spec.fingerprint is not None:
            matching = [s for s in scanned if self._matches(spec, s[1])]
            if not matching:
                seen = ", ".join(f"{enc} {openssh_fingerprint(key)}" for enc, key in scanned)
                raise StateFailed(f"{spec.name}'s keys found, but none matches the fingerprint "
                                  f"given ({spec.fingerprint_text}); it offers: {seen}")
            scanned, note = matching, f"(fingerprint {spec.fingerprint_text} checked)"
        else:
            note = ("trusted on first use: no fingerprint was given to check it against "
                    "(give fingerprint: to pin it)")
        new = [{"enc": enc, "key": key, "hostname": spec.name,
                "fingerprint": salt_fingerprint(key, spec.hash_type)} for enc, key in scanned]
        what = "key" if len(new) == 1 else f"{len(new)} keys"
        return Pending(changes={"old": old, "new": new},
                       facts={"path": path, "kept": kept, "keys": scanned},
                       comment=f"{spec.name}'s scanned {what} would be added to {path}, {note}",
                       applied_comment=f"{spec.name}'s scanned {what} saved to {path}, {note}")

    @staticmethod
    def _matches(spec: KnownHostSpec, key: str) -> bool:
        return spec.fingerprint is not None and hmac.compare_digest(
            key_digest(key, spec.hash_type), spec.fingerprint)

    def apply(self, ctx: ExecContext, spec: KnownHostSpec, pending: Pending) -> dict[str, Any]:
        path, entry = self._path(spec)
        kept = list(pending.facts["kept"])
        for enc, key in pending.facts["keys"]:
            field = hash_host(spec.host_field, os.urandom(20)) if spec.hashed else spec.host_field
            kept.append(f"{field} {enc} {key}")
        uid, gid = (entry.pw_uid, entry.pw_gid) if entry is not None else (-1, -1)
        write_file(path, "".join(f"{ln}\n" for ln in kept), 0o644 if entry is None else 0o600,
                   uid, gid, follow=True,
                   make_dirs=DirSpec(0o700 if entry else 0o755, uid, gid))
        return dict(pending.changes)


FUNCTIONS = {"present": Present()}
