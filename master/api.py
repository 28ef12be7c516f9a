"""The master's library: what `lpmaster` commands call (and tests call directly).

Thin CLI over this module: every function here takes a MasterConfig (or a directory for
`init_master`) and returns data; printing belongs to master/commands/.
"""
from __future__ import annotations

import json
import os
import socket
import time
from typing import Any, Iterator

from core.config import (DEFAULT_KEY_PORT, DEFAULT_PUBLISH_PORT, DEFAULT_REQUEST_PORT, MasterConfig,
                         load_master, write_config)
from core.errors import ConfigError, KeyStoreError, TransportError
from core.keys import ensure_private_dir, fingerprint, generate_keypair, read_public_key
from master.keystore import ACCEPTED, DENIED, PENDING, REJECTED, KeyEntry, KeyStore


def init_master(directory: str, *, interface: str = "0.0.0.0",
                publish_port: int = DEFAULT_PUBLISH_PORT, request_port: int = DEFAULT_REQUEST_PORT,
                key_port: int = DEFAULT_KEY_PORT, state_tree: str | None = None,
                pillar_tree: str | None = None, control_group: str | None = None,
                force: bool = False, config_path: str | None = None) -> MasterConfig:
    """Write DIR/master.yaml (or `config_path`) and the master keypair under DIR/pki."""
    root = os.path.abspath(directory)
    os.makedirs(root, exist_ok=True)
    os.chmod(root, 0o750 if control_group else 0o700)
    cfg = MasterConfig(root=root, interface=interface, publish_port=publish_port,
                       request_port=request_port, key_port=key_port, control_group=control_group,
                       state_tree=os.path.abspath(state_tree) if state_tree else os.path.join(root, "states"),
                       pillar_tree=os.path.abspath(pillar_tree) if pillar_tree else os.path.join(root, "pillar"))
    path = os.path.abspath(config_path) if config_path else os.path.join(root, "master.yaml")
    if os.path.exists(path) and not force:
        raise ConfigError(f"{path} already exists (use --force to overwrite)")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    keystore = KeyStore(cfg.pki_dir)
    keystore.ensure_dirs()
    try:
        generate_keypair(cfg.pki_dir, "master", overwrite=force)
    except KeyStoreError as exc:
        raise ConfigError(str(exc)) from exc
    for tree in (cfg.state_tree, cfg.pillar_tree):
        if tree.startswith(root + os.sep):
            os.makedirs(tree, exist_ok=True)
    ensure_private_dir(cfg.run_dir)
    write_config(path, cfg, overwrite=force)
    return cfg


def load_config(path: str) -> MasterConfig:
    return load_master(path)


# -- keys --------------------------------------------------------------------------------


def keystore(cfg: MasterConfig) -> KeyStore:
    return KeyStore(cfg.pki_dir)


def list_keys(cfg: MasterConfig) -> dict[str, list[str]]:
    """Salt's shape: {"accepted": [...], "pending": [...], "rejected": [...], "denied": [...]}."""
    return keystore(cfg).list_ids()


def master_finger(cfg: MasterConfig) -> str:
    """The master's key fingerprint (what `lpminion init --master-finger` takes)."""
    return fingerprint(read_public_key(os.path.join(cfg.pki_dir, "master.pub")))


def fingers(cfg: MasterConfig, pattern: str = "*") -> dict[str, dict[str, str]]:
    """{state: {id: fingerprint}} for keys whose id matches `pattern`."""
    out: dict[str, dict[str, str]] = {}
    for entry in keystore(cfg).match(pattern, (ACCEPTED, PENDING, REJECTED, DENIED)):
        out.setdefault(entry.state, {})[entry.minion_id] = entry.finger
    return out


def keys_matching(cfg: MasterConfig, pattern: str, action: str, state: str | None = None) -> list[KeyEntry]:
    """The keys an action (accept/reject/delete) would touch (only those in `state`, if given)."""
    states = {"accept": (PENDING, REJECTED), "reject": (PENDING, ACCEPTED),
              "delete": (ACCEPTED, PENDING, REJECTED, DENIED)}[action]
    if state is not None:
        states = tuple(s for s in states if s == state)
    entries = keystore(cfg).match(pattern, states)
    if action == "accept":
        # a rejected key is only accepted when named exactly (as Salt's include_rejected)
        entries = [e for e in entries if e.state == PENDING or e.minion_id == pattern]
    return entries


def change_keys(cfg: MasterConfig, action: str, minion_ids: list[str], state: str | None = None) -> list[str]:
    """Apply accept/reject/delete to these ids (delete: only their `state` key, if given);
    tell a running master so it cuts off at once."""
    store = keystore(cfg)
    done = []
    for mid in dict.fromkeys(minion_ids):
        if action == "accept":
            store.accept(mid)
        elif action == "reject":
            store.reject(mid)
        elif action == "delete":
            store.delete(mid, (state,) if state else None)
        else:
            raise KeyStoreError(f"unknown key action {action!r}")
        done.append(mid)
    if action in ("reject", "delete"):
        notify_keys_changed(cfg)
    return done


def notify_keys_changed(cfg: MasterConfig) -> bool:
    """Ask a running master to re-read keys now; False when no master is running."""
    try:
        for _ in control_request(cfg, {"op": "keys_changed"}, timeout=5):
            pass
    except TransportError:
        return False
    return True


# -- the control socket ------------------------------------------------------------------


def control_request(cfg: MasterConfig, request: dict[str, Any], timeout: float) -> Iterator[dict[str, Any]]:
    """Send one request to the running master; yield its events until `done`."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(cfg.control_socket)
    except FileNotFoundError:
        sock.close()
        raise TransportError(f"the master is not running (no {cfg.control_socket})") from None
    except PermissionError:
        sock.close()
        raise TransportError(f"permission denied on {cfg.control_socket} (root or the control group only)") from None
    except OSError as exc:
        sock.close()
        raise TransportError(f"cannot reach the master at {cfg.control_socket}: {exc.strerror}") from exc
    try:
        sock.sendall(json.dumps(request).encode() + b"\n")
        with sock.makefile("rb") as stream:
            for line in stream:
                event = json.loads(line)
                if event.get("event") == "error":
                    from core.errors import ConfigError, LinkpeekError
                    kind = ConfigError if event.get("config") is True else LinkpeekError
                    raise kind(event.get("error", "the master refused the request"))
                yield event
                if event.get("event") == "done":
                    return
    except socket.timeout:
        raise TransportError("the master did not answer in time") from None
    finally:
        sock.close()
    raise TransportError("the master closed the connection early")


def run_job(cfg: MasterConfig, tgt: str, fun: str, arg: list[Any] | None = None,
            kwarg: dict[str, Any] | None = None, tgt_type: str = "glob",
            timeout: float | None = None) -> Iterator[dict[str, Any]]:
    """Publish a job through the running master; yield job/return/done events as they come."""
    timeout = cfg.job_timeout if timeout is None else timeout
    request = {"op": "run", "tgt": tgt, "tgt_type": tgt_type, "fun": fun, "arg": list(arg or []),
               "kwarg": dict(kwarg or {}), "timeout": timeout}
    yield from control_request(cfg, request, timeout=timeout + 30)


def split_args(words: list[str]) -> tuple[list[str], dict[str, str]]:
    """Salt's CLI convention: `key=value` words are keyword arguments, the rest positional."""
    import re

    args: list[str] = []
    kwargs: dict[str, str] = {}
    for word in words:
        m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", word, re.S)
        if m:
            kwargs[m.group(1)] = m.group(2)
        else:
            args.append(word)
    return args, kwargs


# -- jobs and status (read straight from the job store) ----------------------------------


def _read_store(cfg: MasterConfig, read: Any) -> Any:
    """`read(store)` over the job store opened read-only, closed after."""
    from master.jobstore import JobStore

    store = JobStore(cfg.db_path, readonly=True)
    try:
        return read(store)
    finally:
        store.close()


def list_jobs(cfg: MasterConfig, limit: int = 50) -> list[dict[str, Any]]:
    return _read_store(cfg, lambda store: store.list_jobs(limit))


def show_job(cfg: MasterConfig, jid: str) -> dict[str, Any] | None:
    return _read_store(cfg, lambda store: store.get_job(jid))


def known_minions(cfg: MasterConfig) -> dict[str, dict[str, Any]]:
    """id -> {"last_seen": ts, "grains": {...}} for every minion the job store has seen."""
    return _read_store(cfg, lambda store: store.minions())


def status(cfg: MasterConfig, now: float | None = None) -> dict[str, dict[str, Any]]:
    """{id: {"up": bool, "last_seen": ts or None}} for every accepted minion."""
    return fleet_status(cfg, now)[1]


def fleet_status(cfg: MasterConfig, now: float | None = None) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(master, minions): master is {"running": bool, "error": why not, or None}; minions is
    {id: {"up": bool, "last_seen": ts or None}} for every accepted minion. With the master not
    running no minion is up: nobody can be reached, whatever the store last saw."""
    now = time.time() if now is None else now
    last_seen = {mid: info["last_seen"] for mid, info in known_minions(cfg).items()}
    master: dict[str, Any] = {"running": False, "error": None}
    try:  # the running master knows the latest beats (the store lags by a few seconds)
        for event in control_request(cfg, {"op": "status"}, timeout=5):
            for mid, ts in event.get("last_seen", {}).items():
                last_seen[mid] = max(ts, last_seen.get(mid) or 0)
            master = {**{k: v for k, v in event.items() if k not in ("event", "last_seen", "connected")},
                      "running": True, "error": None}
    except TransportError as exc:
        master["error"] = str(exc)
    out = {}
    for mid in keystore(cfg).list_ids()[ACCEPTED]:
        last = last_seen.get(mid) or None
        up = master["running"] and bool(last and now - last < cfg.minion_down_after)
        out[mid] = {"up": up, "last_seen": last}
    return master, out
