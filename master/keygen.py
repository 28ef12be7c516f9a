"""`lpmaster keys gen`: a minion keypair made on the master, accepted at once, handed out once.

A new or rebuilt host then joins already trusted: its bootstrap installs the secret half
(`lpminion init --key FILE`). The master keeps only the public half, in pki/minions/ID; the
secret half is written 0600 into a directory outside the master's root and never read back.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from core import channel
from core.config import MasterConfig
from core.errors import ConfigError, KeyStoreError, WireError
from core.keys import fingerprint, write_private_file, write_public_file
from core.wire import check_minion_id
from master.keystore import STATES, KeyStore


@dataclass(frozen=True)
class GeneratedKey:
    """What `keys gen` made: where the pair went, and the keys it replaced (with --force)."""

    minion_id: str
    finger: str
    secret_path: str
    public_path: str
    replaced: tuple[str, ...]


def generate_minion_key(cfg: MasterConfig, minion_id: str, out_dir: str,
                        force: bool = False) -> GeneratedKey:
    """Make a keypair for `minion_id`, accept its public half, write both halves to `out_dir`.

    An id that already has a key in any state is refused unless `force` (a rebuilt host:
    the old key is deleted, and a running master cuts the old host off)."""
    try:
        check_minion_id(minion_id)
    except WireError as exc:
        raise ConfigError(str(exc)) from exc
    out = os.path.realpath(out_dir)
    root = os.path.realpath(cfg.root)
    if os.path.commonpath([out, root]) == root:
        raise ConfigError(f"--out {out_dir} is inside the master's root {cfg.root}; the master "
                          "must not keep the secret half: choose a directory outside it")
    store = KeyStore(cfg.pki_dir)
    existing = [e for e in store.match(minion_id, STATES) if e.minion_id == minion_id]
    if existing and not force:
        states = ", ".join(e.state for e in existing)
        raise KeyStoreError(f"minion {minion_id} already has a key ({states}); for a rebuilt host "
                            f"use --force to replace it (the old host is cut off)")
    secret_path = os.path.join(out, f"{minion_id}.key")
    public_path = os.path.join(out, f"{minion_id}.pub")
    for path in (secret_path, public_path):
        if os.path.lexists(path):
            raise ConfigError(f"{path} already exists; move it away or choose another --out")
    os.makedirs(out, mode=0o700, exist_ok=True)
    _check_private_dir(out, out_dir)
    public, secret = channel.curve_keypair()
    write_private_file(secret_path, secret + "\n", 0o600)
    write_public_file(public_path, public + "\n")
    try:
        if existing:
            store.delete(minion_id)
        store.preseed(minion_id, public)
    except BaseException:
        for path in (secret_path, public_path):
            os.unlink(path)
        raise
    return GeneratedKey(minion_id, fingerprint(public), secret_path, public_path,
                        tuple(e.state for e in existing))


def _check_private_dir(out: str, given: str) -> None:
    """`out` must be ours and writable by no one else: in a directory another local user owns
    or may write, they could read the secret half or swap it (a planted file, a link)."""
    st = os.stat(out)
    if st.st_uid != os.geteuid() or st.st_mode & 0o022:
        raise ConfigError(f"--out {given} is owned by uid {st.st_uid} with mode {st.st_mode & 0o7777:o}: another "
                          "user could read or swap the secret key there; use a directory only you own and "
                          "can write (mode 0700), or a new path")
