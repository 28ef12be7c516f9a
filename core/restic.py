"""The restic command line, run safely: secrets by environment and 0600 files, never argv.
Shared by the minion's backups (minion/backup/) and the master's backup of itself.

    with Restic(spec, cache_dir="/var/cache/lp/restic") as restic:
        if not restic.exists():
            restic.init()
        summary = restic.backup_paths(["/etc"], excludes=[], tags=["lp-job=etc"], on_status=print)
        restic.snapshots(tags=["lp-job=etc"])

The repository URL (which may hold credentials) goes in RESTIC_REPOSITORY, the password in
a 0600 file named by RESTIC_PASSWORD_FILE, an sftp key in a 0600 file that ssh reads; the
files live in a 0700 directory beside the cache directory (not in the shared /tmp), removed
when the block ends, and swept two days later if a killed run could not remove it. Works with restic 0.14 (Debian
12) and newer: only flags and JSON fields that 0.14 has are used.
"""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
from typing import IO, Any, Callable, Iterable, Mapping, Protocol, Sequence
from urllib.parse import urlsplit

from core.errors import LinkpeekError
from core.sshaccess import SshAccess

log = logging.getLogger("lp.minion.backup")

StatusCallback = Callable[[dict[str, Any]], None]
_SFTP_SHORT = re.compile(r"^sftp:(?:(?P<user>[^@/:]+)@)?(?P<host>[^:/@]+):(?P<path>.*)$")
_SAFE_ENV = ("PATH", "LANG", "LC_ALL", "TZ")
NO_REPOSITORY_HINTS = ("Is there a repository at the following location?", "repository does not exist")
EXIT_NO_REPOSITORY = 10          # restic >= 0.17
MAX_ERROR_TEXT = 4000
SECRETS_PREFIX = ".lp-secrets-"
STALE_SECRETS_S = 2 * 86400      # a secrets dir this old was left by a killed run (restic read it at start)


class Repository(Protocol):
    """What Restic needs to open a repository (minion.backup.spec.BackupSpec is one; so is the
    master's own self-backup settings)."""
    repository: str
    password: str
    env: Mapping[str, str]
    host: str
    ssh: SshAccess | None


class ResticError(LinkpeekError):
    """restic failed; the message holds the tail of what it said on stderr."""


class Restic:
    """One repository, opened for the length of a `with` block."""

    def __init__(self, spec: Repository, cache_dir: str, *, binary: str = "restic", no_lock: bool = False) -> None:
        self.spec = spec
        self.cache_dir = cache_dir
        self.binary = binary
        self.no_lock = no_lock
        self._dir: str | None = None

    def __enter__(self) -> Restic:
        parent = os.path.dirname(os.path.abspath(self.cache_dir))
        os.makedirs(parent, mode=0o700, exist_ok=True)
        _sweep_stale(parent)
        self._dir = tempfile.mkdtemp(prefix=SECRETS_PREFIX, dir=parent)
        os.chmod(self._dir, 0o700)
        _write_private(os.path.join(self._dir, "password"), self.spec.password)
        if self.spec.ssh is not None:
            _write_private(os.path.join(self._dir, "ssh_key"), self.spec.ssh.key)
            if self.spec.ssh.known_hosts:
                _write_private(os.path.join(self._dir, "known_hosts"), self.spec.ssh.known_hosts.rstrip() + "\n")
        os.makedirs(self.cache_dir, mode=0o700, exist_ok=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    # -- the environment and command line ----------------------------------------------

    def env(self) -> dict[str, str]:
        assert self._dir is not None, "use Restic in a with block"
        env = {k: os.environ[k] for k in _SAFE_ENV if k in os.environ}
        env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        env["HOME"] = self._dir
        env.update(self.spec.env)
        env["RESTIC_REPOSITORY"] = self.spec.repository
        env["RESTIC_PASSWORD_FILE"] = os.path.join(self._dir, "password")
        env["RESTIC_CACHE_DIR"] = self.cache_dir
        return env

    def argv(self, *args: str) -> list[str]:
        cmd = [self.binary]
        sftp = self._sftp_command()
        if sftp:
            cmd += ["-o", f"sftp.command={sftp}"]
        if self.no_lock:
            cmd.append("--no-lock")
        return cmd + list(args)

    def _sftp_command(self) -> str | None:
        if self.spec.ssh is None or not self.spec.repository.startswith("sftp:"):
            return None
        user, host, port = sftp_target(self.spec.repository, self.spec.ssh.port)
        assert self._dir is not None
        opts = ["ssh", "-i", os.path.join(self._dir, "ssh_key"), "-p", str(port), "-F", "/dev/null",
                "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=yes",
                "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=15"]
        if self.spec.ssh.known_hosts:
            opts += ["-o", f"UserKnownHostsFile={os.path.join(self._dir, 'known_hosts')}"]
        return " ".join(opts + [f"{user}@{host}" if user else host, "-s", "sftp"])

    def run(self, *args: str, stdin: IO[bytes] | int | None = None, check: bool = True,
            timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(self.argv(*args), env=self.env(), stdin=stdin if stdin is not None else subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise ResticError(f"restic {args[0]} failed (exit {proc.returncode}): {_tail(proc.stderr)}")
        return proc

    # -- the repository -----------------------------------------------------------------

    def exists(self) -> bool:
        """True when the repository is there; False when restic says there is none; ResticError
        when it cannot tell (unreachable host, wrong password)."""
        proc = self.run("cat", "config", check=False, timeout=120)
        if proc.returncode == 0:
            return True
        if proc.returncode == EXIT_NO_REPOSITORY or any(h in proc.stderr for h in NO_REPOSITORY_HINTS):
            return False
        raise ResticError(f"cannot open the repository (exit {proc.returncode}): {_tail(proc.stderr)}")

    def init(self) -> None:
        self.run("init")
        log.info("initialised the restic repository")

    # -- backup ---------------------------------------------------------------------------

    def backup_paths(self, paths: Sequence[str], excludes: Sequence[str], tags: Sequence[str],
                     on_status: StatusCallback | None = None) -> BackupOutcome:
        return self._backup(tags, [*(f"--exclude={e}" for e in excludes), "--", *paths], subprocess.DEVNULL,
                            on_status)

    def backup_stdin(self, filename: str, tags: Sequence[str], stdin: IO[bytes] | int,
                     on_status: StatusCallback | None = None, started: Callable[[subprocess.Popen[bytes]], None]
                     | None = None) -> BackupOutcome:
        return self._backup(tags, ["--stdin", f"--stdin-filename={filename}"], stdin, on_status, started)

    def _backup(self, tags: Sequence[str], args: Sequence[str], stdin: IO[bytes] | int,
                on_status: StatusCallback | None,
                started: Callable[[subprocess.Popen[bytes]], None] | None = None) -> BackupOutcome:
        argv = self.argv("backup", "--json", f"--host={self.spec.host}", *(f"--tag={t}" for t in tags), *args)
        proc = subprocess.Popen(argv, env=self.env(), stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if started is not None:
            started(proc)
        return _follow(proc, on_status)

    # -- snapshots and retention --------------------------------------------------------

    def snapshots(self, tags: Sequence[str] = (), host: str | None = None) -> list[dict[str, Any]]:
        args = ["snapshots", "--json", *_tag_filter(tags)]
        if host:
            args.append(f"--host={host}")
        data = json.loads(self.run(*args, timeout=600).stdout or "[]")
        return sorted(data or [], key=lambda s: str(s.get("time", "")))

    def forget_ids(self, ids: Iterable[str]) -> None:
        ids = [i for i in ids if re.fullmatch(r"[0-9a-f]{8,64}", i)]
        if ids:
            self.run("forget", "--", *ids)

    def tag_add(self, snapshot_id: str, tag: str) -> None:
        self.run("tag", f"--add={tag}", "--", snapshot_id)

    def forget_policy(self, keep: dict[str, int], tags: Sequence[str], host: str, prune: bool = True) -> str:
        args = ["forget", f"--host={host}", *_tag_filter(tags), *(f"--keep-{k}={v}" for k, v in keep.items())]
        if prune:
            args.append("--prune")
        return self.run(*args, timeout=6 * 3600).stdout

    def check(self, read_data_subset: str = "") -> str:
        args = ["check"] + ([f"--read-data-subset={read_data_subset}"] if read_data_subset else [])
        return self.run(*args, timeout=24 * 3600).stdout

    # -- reading back ---------------------------------------------------------------------

    def ls(self, snapshot_id: str) -> list[dict[str, Any]]:
        """The nodes of a snapshot (restic ls --json: one snapshot line, then one line per node)."""
        out = self.run("ls", "--json", "--", snapshot_id, timeout=3600).stdout
        nodes = []
        for line in out.splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            if "node" in (item.get("message_type"), item.get("struct_type")):   # 0.17 added message_type
                nodes.append(item)
        return nodes

    def restore(self, snapshot_id: str, target: str, excludes: Sequence[str] = ()) -> None:
        self.run("restore", f"--target={target}", *(f"--exclude={e}" for e in excludes), "--", snapshot_id,
                 timeout=24 * 3600)

    def dump(self, snapshot_id: str, filename: str, out: IO[bytes]) -> None:
        proc = subprocess.run(self.argv("dump", "--", snapshot_id, "/" + filename), env=self.env(),
                              stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE, timeout=24 * 3600)
        if proc.returncode != 0:
            raise ResticError(f"restic dump failed (exit {proc.returncode}): "
                              f"{_tail(proc.stderr.decode(errors='replace'))}")


class BackupOutcome:
    """What one `restic backup --json` said: its exit code, the summary and the errors."""

    def __init__(self, returncode: int, summary: dict[str, Any] | None, errors: list[str], stderr: str) -> None:
        self.returncode = returncode
        self.summary = summary or {}
        self.errors = errors
        self.stderr = stderr

    @property
    def snapshot_id(self) -> str | None:
        sid = self.summary.get("snapshot_id")
        return str(sid) if sid else None

    def error_text(self) -> str:
        parts = list(self.errors[:5])
        if self.stderr.strip():
            parts.append(_tail(self.stderr))
        return "; ".join(parts) or f"restic exited {self.returncode}"


def _follow(proc: subprocess.Popen[bytes], on_status: StatusCallback | None) -> BackupOutcome:
    assert proc.stdout is not None and proc.stderr is not None
    err_chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()) if proc.stderr else None,
                              daemon=True)
    reader.start()
    summary: dict[str, Any] | None = None
    errors: list[str] = []
    for raw in proc.stdout:
        try:
            item = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(item, dict):
            continue
        kind = item.get("message_type")
        if kind == "status" and on_status is not None:
            try:
                on_status(item)
            except Exception:  # a progress consumer never breaks the backup
                log.debug("progress callback failed", exc_info=True)
        elif kind == "summary":
            summary = item
        elif kind == "error":
            err = item.get("error")
            msg = err.get("message") if isinstance(err, dict) else err
            errors.append(f"{item.get('item', '')}: {msg}".strip(": "))
    code = proc.wait()
    reader.join(timeout=10)
    return BackupOutcome(code, summary, errors, b"".join(err_chunks).decode(errors="replace"))


def sftp_target(repository: str, default_port: int = 22) -> tuple[str, str, int]:
    """(user, host, port) of an sftp repository, in either of restic's spellings."""
    if repository.startswith("sftp://"):
        parts = urlsplit(repository)
        return parts.username or "", parts.hostname or "", parts.port or default_port
    match = _SFTP_SHORT.match(repository)
    if match is None:
        raise ResticError("an sftp repository looks like sftp:user@host:/path or sftp://user@host:port//path")
    return match.group("user") or "", match.group("host"), default_port


def _tag_filter(tags: Sequence[str]) -> list[str]:
    return [f"--tag={','.join(tags)}"] if tags else []


def _sweep_stale(parent: str) -> None:
    """Remove secrets directories that a killed run (SIGKILL, power loss) left behind."""
    import time

    try:
        names = [n for n in os.listdir(parent) if n.startswith(SECRETS_PREFIX)]
    except OSError:
        return
    for name in names:
        path = os.path.join(parent, name)
        try:
            if time.time() - os.lstat(path).st_mtime > STALE_SECRETS_S:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue


def _write_private(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def _tail(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_ERROR_TEXT else "..." + text[-MAX_ERROR_TEXT:]
