"""The master backs itself up, and `lpmaster init --restore` brings it back on a new host.

    master.yaml:
      backup:
        repository: sftp:vault@vault.example.org:/srv/restic/lp-master     # any restic repository
        password_file: /etc/linkpeek-ops/master-backup.pass            # 0600; keep a copy off the master
        cron: "15 2 * * *"
        keep: {daily: 7, weekly: 4}
        env: {}                                                          # extra restic environment
        ssh: {key_file: /etc/linkpeek-ops/backup-ssh.key, known_hosts_file: /etc/linkpeek-ops/backup-ssh.known_hosts}  # sftp:

    record = run_self_backup(cfg)                  # one run now (the daemon runs it on its cron)
    restore_master(repository, directory, password_file=...)   # what `init --restore` does

A snapshot holds the master's keys and the secrets key (ROOT/pki: the key store is those
files), consistent SQLite copies of ROOT/master.db (jobs, drift reports, catalogue, events,
made with SQLite's backup API), master.yaml, and the state and pillar trees, staged in
ROOT/.selfbackup (0700, removed after) so the snapshot paths stay the same from run to run.
A restored master has the same keys, so minions that pinned it reconnect without re-pinning
once its address points to the new host. Its runs show in `lpmaster backups` as the
`(master)` row.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
import time
import uuid
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any, Mapping

from core.config import MasterConfig
from core.cronexpr import check_cron
from core.errors import ConfigError, LinkpeekError
from core.restic import Restic, ResticError
from core.sqlitecopy import online_copy
from core.sshaccess import DEFAULT_PORT, SshAccess, port_number

JOB = "master"
TAGS = ["lp", f"lp-job={JOB}", "lp-source=master"]
STAGE = ".selfbackup"
MANIFEST = "manifest.json"
_KEYS = {"repository", "password_file", "cron", "keep", "env", "ssh", "host"}


@dataclass(frozen=True)
class SelfBackup:
    """The master's `backup:` settings, with the secrets read from their files."""
    repository: str
    password: str
    cron: str
    host: str
    keep: Mapping[str, int] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    ssh: SshAccess | None = None


def settings(cfg: MasterConfig) -> SelfBackup | None:
    """The parsed `backup:` of master.yaml, or None when the master does not back itself up."""
    data = getattr(cfg, "backup", None)
    if not data:
        return None
    return parse_settings(data, cfg.root)


def parse_settings(data: Any, root: str = "") -> SelfBackup:
    """Check `backup:` of master.yaml (ConfigError naming the key) and read its secret files."""
    if not isinstance(data, Mapping):
        raise ConfigError("master.yaml backup: must be a mapping with repository, password_file and cron")
    unknown = sorted(set(map(str, data)) - _KEYS)
    if unknown:
        raise ConfigError(f"master.yaml backup: unknown keys {', '.join(unknown)}")
    repository = data.get("repository")
    if not isinstance(repository, str) or not repository.strip():
        raise ConfigError("master.yaml backup:repository must be a restic repository")
    cron = check_cron(data.get("cron", "15 2 * * *"), "master.yaml backup", example="15 2 * * *")
    password = read_secret_file(data.get("password_file"), "password_file").rstrip("\n")
    if not password:
        raise ConfigError("master.yaml backup:password_file is empty")
    keep = data.get("keep") or {}
    if not isinstance(keep, Mapping) or not all(
            k in ("last", "hourly", "daily", "weekly", "monthly", "yearly") and isinstance(v, int)
            and not isinstance(v, bool) and v > 0 for k, v in keep.items()):
        raise ConfigError("master.yaml backup:keep must be like {daily: 7, weekly: 4}")
    env = data.get("env") or {}
    if not isinstance(env, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise ConfigError("master.yaml backup:env must map variable names to strings")
    ssh = None
    if data.get("ssh") is not None:
        conf = data["ssh"]
        if not isinstance(conf, Mapping):
            raise ConfigError("master.yaml backup:ssh must be a mapping with key_file (and known_hosts_file)")
        port = port_number(conf.get("port", DEFAULT_PORT), "master.yaml backup:ssh:port")
        known = conf.get("known_hosts_file")
        ssh = SshAccess(key=read_secret_file(conf.get("key_file"), "ssh:key_file"),
                        known_hosts=read_file(known) if known else "", port=port)
    host = data.get("host", "lp-master")
    if not isinstance(host, str) or not host:
        raise ConfigError("master.yaml backup:host must be a name")
    return SelfBackup(repository=repository, password=password, cron=cron, host=host, keep=dict(keep),
                      env={str(k): str(v) for k, v in env.items()}, ssh=ssh)


def read_secret_file(path: Any, what: str) -> str:
    if not isinstance(path, str) or not path.startswith("/"):
        raise ConfigError(f"master.yaml backup:{what} must be an absolute path")
    try:
        if os.stat(path).st_mode & 0o077:
            raise ConfigError(f"{path} is readable by others; chmod 600 it")
    except FileNotFoundError:
        hidden = path.startswith(("/root/", "/home/")) and os.environ.get("INVOCATION_ID")
        raise ConfigError(f"backup {what} {path} does not exist" + (
            " for the master: lpmaster.service hides /root and /home (ProtectHome=yes); "
            "keep it in /etc/linkpeek-ops" if hidden else "")) from None
    return read_file(path)


def read_file(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc


# -- a run -----------------------------------------------------------------------------------

def run_self_backup(cfg: MasterConfig, config_path: str | None = None) -> dict[str, Any]:
    """Stage the master's state, back it up, apply retention; a record for the catalogue
    (never raises for a failed run; ConfigError when `backup:` is missing or wrong)."""
    conf = settings(cfg)
    if conf is None:
        raise ConfigError("master.yaml has no `backup:` section (repository, password_file, cron)")
    record: dict[str, Any] = {"run_id": uuid.uuid4().hex, "kind": "backup", "job": JOB, "host": conf.host,
                              "source": "master", "cron": conf.cron, "started_at": time.time(),
                              "success": False, "error": None}
    start = time.monotonic()
    stage = os.path.join(cfg.root, STAGE)
    try:
        _stage(cfg, stage, config_path or cfg.config_path or os.path.join(cfg.root, "master.yaml"))
        with Restic(conf, os.path.join(cfg.root, "cache", "restic")) as restic:
            if not restic.exists():
                restic.init()
                record["initialised"] = True
            outcome = restic.backup_paths([stage], [], TAGS)
            if outcome.returncode != 0 or not outcome.snapshot_id:
                raise ResticError(f"restic backup failed (exit {outcome.returncode}): {outcome.error_text()}")
            summary = outcome.summary
            record.update(success=True, snapshot_id=outcome.snapshot_id, files=summary.get("total_files_processed"),
                          bytes_added=summary.get("data_added"), total_bytes=summary.get("total_bytes_processed"))
            if conf.keep:
                try:
                    restic.forget_policy(dict(conf.keep), [f"lp-job={JOB}"], conf.host, prune=True)
                except ResticError as exc:
                    record["warning"] = f"retention failed: {exc}"
    except (LinkpeekError, OSError, sqlite3.Error) as exc:
        record["error"] = str(exc)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    record["duration"] = round(time.monotonic() - start, 3)
    record["finished_at"] = time.time()
    return record


def _stage(cfg: MasterConfig, stage: str, config_path: str) -> None:
    shutil.rmtree(stage, ignore_errors=True)
    os.makedirs(stage, mode=0o700)
    shutil.copytree(cfg.pki_dir, os.path.join(stage, "pki"), symlinks=True)
    if os.path.exists(cfg.db_path):
        online_copy(cfg.db_path, os.path.join(stage, "master.db"))
        os.chmod(os.path.join(stage, "master.db"), 0o600)
    shutil.copy2(config_path, os.path.join(stage, "master.yaml"))
    trees = {}
    for name, path in (("states", cfg.state_tree or os.path.join(cfg.root, "states")),
                       ("pillar", cfg.pillar_tree or os.path.join(cfg.root, "pillar"))):
        if os.path.isdir(path):
            shutil.copytree(path, os.path.join(stage, "trees", name), symlinks=True)
            trees[name] = os.path.abspath(path)
    manifest = {"version": 1, "root": os.path.abspath(cfg.root), "trees": trees, "made_at": time.time()}
    with open(os.path.join(stage, MANIFEST), "w", encoding="utf-8") as fh:
        json.dump(manifest, fh)


# -- init --restore --------------------------------------------------------------------------

def restore_master(repository: str, directory: str, *, password: str, ssh: SshAccess | None = None,
                   env: Mapping[str, str] | None = None, snapshot: str = "latest", force: bool = False,
                   config_path: str | None = None) -> dict[str, Any]:
    """Bring a lost master back into `directory` from its latest self-backup (or `snapshot`).

    Keys, secrets key, master.db, master.yaml (its root and in-root trees moved to
    `directory`) and the trees. Refuses a non-empty `directory` unless `force`."""
    import yaml

    from core.snapshotpaths import check_nodes

    if not directory.startswith("/"):
        raise ConfigError("--dir must be an absolute path")
    directory = os.path.normpath(directory)
    if os.path.isdir(directory) and os.listdir(directory) and not force:
        raise ConfigError(f"{directory} is not empty; restore into a new directory (or --force)")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    os.chmod(directory, 0o700)
    conf = SelfBackup(repository=repository, password=password, cron="", host="lp-master",
                      env=dict(env or {}), ssh=ssh)
    work = tempfile.mkdtemp(prefix=".restore-", dir=directory)
    try:
        with Restic(conf, os.path.join(work, "cache"), no_lock=True) as restic:
            snaps = restic.snapshots(tags=[f"lp-job={JOB}"])
            if snapshot not in ("", "latest"):
                snaps = [s for s in snaps if str(s.get("id", "")).startswith(snapshot)]
            if not snaps:
                raise ConfigError(f"no master snapshot ({snapshot}) in {repository}")
            snap = snaps[-1]
            sid = str(snap["id"])
            check_nodes(restic.ls(sid))
            restic.restore(sid, os.path.join(work, "tree"))
        paths = snap.get("paths") or []
        if len(paths) != 1:
            raise ConfigError(f"snapshot {sid[:8]} is not a master backup (paths {paths})")
        staged = os.path.join(work, "tree", paths[0].lstrip("/"))
        with open(os.path.join(staged, MANIFEST), encoding="utf-8") as fh:
            manifest = json.load(fh)
        old_root = str(manifest.get("root", ""))
        trees: dict[str, str] = {}
        for name, old in (manifest.get("trees") or {}).items():
            rel = os.path.relpath(old, old_root) if old_root and os.path.commonpath([old, old_root]) == old_root else None
            new = os.path.join(directory, rel) if rel is not None else old
            if os.path.exists(new) and os.listdir(new) and not force:
                raise ConfigError(f"{new} exists and is not empty; move it away (or --force)")
            shutil.rmtree(new, ignore_errors=True)
            os.makedirs(os.path.dirname(new), exist_ok=True)
            shutil.move(os.path.join(staged, "trees", name), new)
            trees[name] = new
        for name in ("pki", "master.db"):
            src = os.path.join(staged, name)
            if os.path.exists(src):
                dest = os.path.join(directory, name)
                if os.path.isdir(dest):
                    shutil.rmtree(dest)
                shutil.move(src, dest)
        with open(os.path.join(staged, "master.yaml"), encoding="utf-8") as fh:
            config = yaml.safe_load(fh) or {}
        config["root"] = directory
        if "states" in trees:
            config["state_tree"] = trees["states"]
        if "pillar" in trees:
            config["pillar_tree"] = trees["pillar"]
        _record_restored(os.path.join(directory, "master.db"), snap)
        path = config_path or os.path.join(directory, "master.yaml")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yaml.safe_dump(config, fh, sort_keys=False)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"snapshot_id": sid, "snapshot_time": snap.get("time"), "restored_to": directory, "config": path,
            "trees": trees}


def _record_restored(db_path: str, snap: Mapping[str, Any]) -> None:
    """The snapshot the master came back from is its last good self-backup (a snapshot cannot
    hold its own run's record, so the restored catalogue would say `never run`)."""
    from master.backups.api import MASTER_ROW
    from master.backups.catalogue import Catalogue

    when = snapshot_epoch(str(snap.get("time", ""))) or time.time()
    with closing(Catalogue(db_path)) as cat:
        cat.add_run(MASTER_ROW, {"run_id": uuid.uuid4().hex, "kind": "backup", "job": JOB, "success": True,
                                 "source": "master", "snapshot_id": str(snap.get("short_id") or snap["id"])[:8],
                                 "started_at": when, "finished_at": when, "error": None,
                                 "warning": "recorded by `lpmaster init --restore` from this snapshot"})


def snapshot_epoch(text: str) -> float | None:
    """restic's snapshot time (RFC 3339 with nanoseconds) as epoch seconds."""
    import re
    from datetime import datetime

    match = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", text)
    if match is None:
        return None
    frac = (match.group(2) or ".0")[:7]
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    return datetime.fromisoformat(match.group(1) + frac + zone).timestamp()
