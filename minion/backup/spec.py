"""The `backup:` pillar, parsed and checked: a repository, its secrets, and the jobs.

Pure code (no I/O). Every error names the pillar key, and all of them are reported at once.

    backup:
      repository: sftp:backup@vault:/srv/restic/web1   # or a path, rest:, s3: ... (what restic takes)
      password: ENC[...]
      env: {AWS_SECRET_ACCESS_KEY: ENC[...]}           # extra restic environment
      host: web1                                       # restic's --host for the snapshots (default: minion id)
      ssh: {key: ENC[...], known_hosts: "vault ssh-ed25519 AAAA...", port: 22}   # for sftp:
      jobs:
        db-nightly: {source: postgres, database: linkpeek, cron: "0 3 * * *", keep: {daily: 7}}
        app-export: {source: command, command: "/srv/app/export", filename: export.json, cron: "30 3 * * *"}
        etc-weekly: {source: files, paths: [/etc], exclude: ["*.old"], cron: "0 4 * * 0"}
        app-db:     {source: sqlite, path: /srv/app/app.db, cron: "0 * * * *"}
        mongo:      {source: mongodb, database: linkpeek, cron: "0 2 * * *"}
      verify: {cron: "0 5 * * 0", read_data_subset: "5%"}
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from core.cronexpr import check_cron
from core.errors import ConfigError
from core.sshaccess import DEFAULT_PORT, SshAccess, port_number

SOURCES = ("files", "command", "postgres", "mongodb", "sqlite")
STDIN_SOURCES = ("command", "postgres", "mongodb", "sqlite")
KEEP_KEYS = ("last", "hourly", "daily", "weekly", "monthly", "yearly")
JOB_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
DB_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.$-]{0,62}$")
FILENAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$")
ENV_NAME_RE = re.compile(r"^[A-Z_][A-Z0-9_]{0,63}$")
SUBSET_RE = re.compile(r"^(\d{1,3}(\.\d+)?%|\d+/\d+|\d+[KMGT]?)$")
DEFAULT_FILENAMES = {"postgres": "{db}.pgdump", "mongodb": "{db}.archive", "sqlite": "{name}"}
_JOB_KEYS = {"source", "cron", "keep", "paths", "exclude", "command", "filename", "database",
             "path", "restore_command", "user", "enabled"}
_TOP_KEYS = {"repository", "password", "env", "host", "ssh", "jobs", "verify"}


@dataclass(frozen=True)
class JobSpec:
    """One backup job. `filename` is the name a stdin source is stored (and restored) under."""
    name: str
    source: str
    cron: str
    keep: Mapping[str, int] = field(default_factory=dict)
    paths: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    command: str = ""
    restore_command: str = ""
    filename: str = ""
    database: str = ""
    path: str = ""
    user: str = ""
    enabled: bool = True

    @property
    def stdin(self) -> bool:
        return self.source in STDIN_SOURCES


@dataclass(frozen=True)
class VerifySpec:
    cron: str
    read_data_subset: str = ""


@dataclass(frozen=True)
class BackupSpec:
    repository: str
    password: str
    env: Mapping[str, str]
    host: str
    jobs: Mapping[str, JobSpec]
    ssh: SshAccess | None = None
    verify: VerifySpec | None = None

    def job(self, name: str) -> JobSpec:
        try:
            return self.jobs[name]
        except KeyError:
            known = ", ".join(sorted(self.jobs)) or "none"
            raise ConfigError(f"no backup job {name!r} in this minion's pillar (jobs: {known})") from None


def parse_backup(data: Any, minion_id: str) -> BackupSpec:
    """The `backup:` pillar value as a BackupSpec; ConfigError listing every problem."""
    errors: list[str] = []
    if not isinstance(data, Mapping):
        raise ConfigError("pillar backup: must be a mapping with repository, password and jobs")
    unknown = sorted(set(map(str, data)) - _TOP_KEYS)
    if unknown:
        errors.append(f"pillar backup: unknown keys {', '.join(unknown)}")
    repository = data.get("repository")
    if not isinstance(repository, str) or not repository.strip() or "\x00" in repository:
        errors.append("pillar backup:repository must be a repository restic takes (a path, sftp:, rest:, s3:...)")
        repository = ""
    password = data.get("password")
    if not isinstance(password, str) or not password:
        errors.append("pillar backup:password must be a non-empty string (an ENC[...] secret)")
        password = ""
    env = _env(data.get("env") or {}, errors)
    host = data.get("host", minion_id)
    if not isinstance(host, str) or not JOB_NAME_RE.match(host):
        errors.append("pillar backup:host must be a host name")
        host = minion_id
    ssh = _ssh(data.get("ssh"), errors)
    verify = _verify(data.get("verify"), errors)
    jobs: dict[str, JobSpec] = {}
    raw_jobs = data.get("jobs") or {}
    if not isinstance(raw_jobs, Mapping):
        errors.append("pillar backup:jobs must be a mapping of job name to job")
        raw_jobs = {}
    for name, body in raw_jobs.items():
        try:
            job = parse_job(str(name), body)
        except ConfigError as exc:
            errors.append(str(exc))
            continue
        if job.enabled:
            jobs[job.name] = job
    if errors:
        raise ConfigError("; ".join(errors))
    return BackupSpec(repository=repository, password=password, env=env, host=host, jobs=jobs,
                      ssh=ssh, verify=verify)


def parse_job(name: str, body: Any) -> JobSpec:
    where = f"pillar backup:jobs:{name}"
    if not JOB_NAME_RE.match(name) or name == "verify":
        raise ConfigError(f"{where}: a job name is letters, digits, '.', '_' or '-' (up to 64), "
                          "and not `verify` (the name of the repository check)")
    if not isinstance(body, Mapping):
        raise ConfigError(f"{where}: must be a mapping")
    unknown = sorted(set(map(str, body)) - _JOB_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {', '.join(unknown)}")
    source = body.get("source")
    if source not in SOURCES:
        raise ConfigError(f"{where}: source must be one of {', '.join(SOURCES)}")
    cron = check_cron(body.get("cron"), where)
    keep = _keep(body.get("keep") or {}, where)
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}: enabled must be true or false")
    args: dict[str, Any] = {"name": name, "source": source, "cron": cron, "keep": keep, "enabled": enabled}
    if source == "files":
        args["paths"] = _paths(body.get("paths"), f"{where}: paths")
        args["exclude"] = _strings(body.get("exclude") or [], f"{where}: exclude")
    elif source == "command":
        args["command"] = _text(body.get("command"), f"{where}: command")
        args["filename"] = _filename(body.get("filename"), where)
        if body.get("restore_command") is not None:
            args["restore_command"] = _text(body.get("restore_command"), f"{where}: restore_command")
    elif source in ("postgres", "mongodb"):
        database = body.get("database")
        if not isinstance(database, str) or not DB_NAME_RE.match(database):
            raise ConfigError(f"{where}: database must be a database name")
        args["database"] = database
        args["filename"] = _filename(body.get("filename") or DEFAULT_FILENAMES[source].format(db=database), where)
        user = body.get("user", "postgres" if source == "postgres" else "")
        if not isinstance(user, str) or (user and not DB_NAME_RE.match(user)):
            raise ConfigError(f"{where}: user must be a system user name")
        args["user"] = user
    elif source == "sqlite":
        path = body.get("path")
        if not isinstance(path, str) or not path.startswith("/") or "\x00" in path or "/../" in f"{path}/":
            raise ConfigError(f"{where}: path must be the database file's absolute path")
        args["path"] = path
        args["filename"] = _filename(body.get("filename") or path.rsplit("/", 1)[-1], where)
    return JobSpec(**args)


def _env(value: Any, errors: list[str]) -> dict[str, str]:
    if not isinstance(value, Mapping):
        errors.append("pillar backup:env must be a mapping of variable to value")
        return {}
    env: dict[str, str] = {}
    for key, val in value.items():
        if not isinstance(key, str) or not ENV_NAME_RE.match(key) or key.startswith("RESTIC_PASSWORD"):
            errors.append(f"pillar backup:env: {str(key)[:64]!r} is not an allowed variable name")
        elif not isinstance(val, (str, int, float)) or isinstance(val, bool) or "\x00" in str(val):
            errors.append(f"pillar backup:env:{key} must be a string")
        else:
            env[key] = str(val)
    return env


def _ssh(value: Any, errors: list[str]) -> SshAccess | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not isinstance(value.get("key"), str) or not value["key"].strip():
        errors.append("pillar backup:ssh must be a mapping with `key:` (a private key, as a secret)")
        return None
    known = value.get("known_hosts", "")
    try:
        port = port_number(value.get("port", DEFAULT_PORT), "pillar backup:ssh:port")
    except ConfigError as exc:
        errors.append(str(exc))
        port = DEFAULT_PORT
    if not isinstance(known, str):
        errors.append("pillar backup:ssh:known_hosts must be known_hosts lines")
        known = ""
    key = value["key"] if value["key"].endswith("\n") else value["key"] + "\n"
    return SshAccess(key=key, known_hosts=known, port=port)


def _verify(value: Any, errors: list[str]) -> VerifySpec | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        errors.append("pillar backup:verify must be a mapping with cron (and read_data_subset)")
        return None
    try:
        cron = check_cron(value.get("cron"), "pillar backup:verify")
    except ConfigError as exc:
        errors.append(str(exc))
        return None
    subset = value.get("read_data_subset", "")
    if subset and (not isinstance(subset, str) or not SUBSET_RE.match(subset)):
        errors.append("pillar backup:verify:read_data_subset must look like 5%, 1/10 or 500M")
        subset = ""
    return VerifySpec(cron=cron, read_data_subset=str(subset or ""))


def _keep(value: Any, where: str) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: keep must be a mapping like {{daily: 7, weekly: 4}}")
    keep: dict[str, int] = {}
    for key, num in value.items():
        if key not in KEEP_KEYS:
            raise ConfigError(f"{where}: keep:{key} is not one of {', '.join(KEEP_KEYS)}")
        if isinstance(num, bool) or not isinstance(num, int) or num < 1:
            raise ConfigError(f"{where}: keep:{key} must be a positive number")
        keep[str(key)] = num
    return keep


def _paths(value: Any, where: str) -> tuple[str, ...]:
    paths = _strings(value, where)
    if not paths:
        raise ConfigError(f"{where} must list at least one absolute path")
    for path in paths:
        if not path.startswith("/") or "/../" in f"{path}/":
            raise ConfigError(f"{where}: {path!r} must be an absolute path without '..'")
    return paths


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v and "\x00" not in v for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return tuple(value)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        raise ConfigError(f"{where} must be a command string")
    return value


def _filename(value: Any, where: str) -> str:
    if not isinstance(value, str) or not FILENAME_RE.match(value):
        raise ConfigError(f"{where}: filename must be a plain file name (letters, digits, '.', '_', '-', '+')")
    return value
