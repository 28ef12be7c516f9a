"""A minion's first steps: writing its config and keys, and pinning the master's key.

`init_minion` writes DIR/minion.yaml and DIR/pki/minion.{pub,key}. The master's public
key is fetched once from its key port (`LPMASTERKEY 1 <key>`), checked against the
configured fingerprint (or recorded on first use when that was explicitly chosen), and
kept in DIR/pki/master.pub. A master that later presents another key is refused.
"""
from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from core.config import DEFAULT_KEY_PORT, DEFAULT_REQUEST_PORT, MinionConfig, write_config
from core.errors import ConfigError, KeyStoreError, TransportError
from core.keys import (ensure_private_dir, fingerprint, generate_keypair, install_keypair,
                       is_public_key, normalize_fingerprint, read_public_key, read_secret_key,
                       write_public_file)
from core.wire import check_minion_id

log = logging.getLogger("lp.minion")

BANNER = "LPMASTERKEY 1"


def parse_master(text: str) -> tuple[str, int | None]:
    """`HOST[:PORT]` (IPv6 as `[addr]:port`) -> (host, port or None)."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, ""
    if not host:
        raise ConfigError(f"invalid master address {text!r}")
    if port:
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"invalid master port in {text!r}")
        return host, int(port)
    return host, None


def init_minion(directory: str, minion_id: str, master: str, *, master_finger: str | None = None,
                trust_first_use: bool = False, key_port: int | None = None,
                grains: dict[str, str] | None = None, force: bool = False,
                heartbeat_interval: float | None = None,
                startup_states: str | None = None, config_path: str | None = None,
                key_file: str | None = None) -> MinionConfig:
    """Write DIR/minion.yaml (or `config_path`) and the minion keypair; return the config.

    `key_file` is a secret key from `lpmaster keys gen` (pre-accepted on the master): it is
    installed as this minion's key instead of a fresh one."""
    from core.errors import WireError

    try:
        check_minion_id(minion_id)
    except WireError as exc:
        raise ConfigError(str(exc)) from exc
    if not master_finger and not trust_first_use:
        raise ConfigError("give --master-finger FP (from `lpmaster keys finger --master`) "
                          "or choose --trust-first-use explicitly")
    if master_finger:
        try:
            master_finger = normalize_fingerprint(master_finger)
        except KeyStoreError as exc:
            raise ConfigError(str(exc)) from exc
    host, port = parse_master(master)
    if key_port is None:  # `lpmaster init` puts the key port right after the request port
        key_port = DEFAULT_KEY_PORT if port is None else port + 1
    root = os.path.abspath(directory)
    os.makedirs(root, mode=0o700, exist_ok=True)
    _check_own_dir(root, directory)
    os.chmod(root, 0o700)
    path = os.path.abspath(config_path) if config_path else os.path.join(root, "minion.yaml")
    if os.path.exists(path) and not force:
        raise ConfigError(f"{path} already exists (use --force to overwrite)")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    extra: dict[str, Any] = {} if heartbeat_interval is None else {"heartbeat_interval": heartbeat_interval}
    if startup_states is not None:
        extra["startup_states"] = startup_states
    cfg = MinionConfig(root=root, id=minion_id, master=host, master_port=port or DEFAULT_REQUEST_PORT,
                       master_key_port=key_port, master_finger=master_finger,
                       trust_first_use=bool(trust_first_use and not master_finger),
                       grains=dict(grains or {}), **extra)
    try:
        if key_file:
            install_keypair(cfg.pki_dir, "minion", read_secret_key(key_file), overwrite=force)
        else:
            generate_keypair(cfg.pki_dir, "minion", overwrite=force)
    except KeyStoreError as exc:
        raise ConfigError(str(exc)) from exc
    if force and os.path.exists(cfg.master_pub_path):
        os.unlink(cfg.master_pub_path)
    write_config(path, cfg, overwrite=force)
    return cfg


async def fetch_master_key(host: str, port: int, timeout: float = 5.0) -> str:
    """Read the master's public key from its key port."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, asyncio.TimeoutError) as exc:
        raise TransportError(f"cannot reach the master's key port {host}:{port}") from exc
    try:
        line = await asyncio.wait_for(reader.readline(), timeout)
    except (OSError, asyncio.TimeoutError) as exc:
        raise TransportError("the master did not send its key") from exc
    finally:
        writer.close()
    text = line.decode("ascii", errors="replace").strip()
    banner, _, key = text.rpartition(" ")
    if banner != BANNER or not is_public_key(key):
        raise TransportError("the master's key port sent something that is not a key")
    return key


def pinned_master_key(cfg: MinionConfig) -> str | None:
    """The recorded master key, checked against master_finger; None if not recorded yet."""
    if not os.path.exists(cfg.master_pub_path):
        return None
    key = read_public_key(cfg.master_pub_path)
    if cfg.master_finger and fingerprint(key) != normalize_fingerprint(cfg.master_finger):
        raise ConfigError(f"{cfg.master_pub_path} does not match master_finger in the config")
    return key


def accept_master_key(cfg: MinionConfig, key: str) -> str:
    """Check a freshly fetched key against the pin (or TOFU record), store it, return it."""
    recorded = pinned_master_key(cfg)
    if recorded is not None:
        if recorded != key:
            raise KeyStoreError(f"the master presents key {fingerprint(key)} but "
                                f"{fingerprint(recorded)} is recorded; refusing")
        return recorded
    if cfg.master_finger:
        if fingerprint(key) != normalize_fingerprint(cfg.master_finger):
            raise KeyStoreError(f"the master's key {fingerprint(key)} does not match master_finger "
                                f"{cfg.master_finger}; refusing")
    elif cfg.trust_first_use:
        log.warning("trusting the master's key on first use: %s (recorded in %s)",
                    fingerprint(key), cfg.master_pub_path)
    else:
        raise KeyStoreError("no master_finger and trust_first_use not chosen")
    ensure_private_dir(cfg.pki_dir)
    write_public_file(cfg.master_pub_path, key + "\n")
    return key


def _check_own_dir(root: str, given: str) -> None:
    """The minion's root holds its secret key and config (which master it obeys, as root): it
    must be a real directory of ours that no one else may write."""
    st = os.lstat(root)
    if not os.path.isdir(root) or os.path.islink(root) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
        raise ConfigError(f"--dir {given} is {'a symlink' if os.path.islink(root) else f'owned by uid {st.st_uid} with mode {st.st_mode & 0o7777:o}'}: "
                          "another user could swap the key or the config there; use a directory only you own "
                          "(mode 0700), or a new path")
