"""What a stdin job feeds restic: a producer process (or file) and, after, whether it succeeded.

    with producer_for(job) as producer:
        outcome = restic.backup_stdin(job.filename, tags, stdin=producer.stdout)
        error = producer.finish()          # None, or why the dump is no good

    command   /bin/sh -c COMMAND (the user's own command line: a shell on purpose)
    postgres  pg_dump -Fc --dbname=DB, run as the postgres user (runuser)
    mongodb   mongodump --archive --db=DB (the archive on stdout)
    sqlite    a consistent copy made with SQLite's online backup API, then read from that copy

A producer that exits non-zero, is killed by a signal or fails to start is an error, and
so is a copy that raised: the caller then forgets the snapshot restic may have written.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from typing import IO, Any

from core.sqlitecopy import CorruptDatabase, online_copy
from minion.backup.spec import JobSpec

MAX_STDERR = 2000


class Producer:
    """A running dump whose standard output restic reads."""

    def __init__(self, argv: list[str] | None = None, path: str | None = None, error: str | None = None) -> None:
        self.argv = argv
        self._path = path
        self._proc: subprocess.Popen[bytes] | None = None
        self._file: IO[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._error = error
        self.stdout: IO[bytes] | int = subprocess.DEVNULL

    def __enter__(self) -> Producer:
        if self._error is not None:
            return self
        if self._path is not None:
            self._file = open(self._path, "rb")
            self.stdout = self._file
            return self
        assert self.argv is not None
        self._stderr = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                          stderr=self._stderr, cwd="/", start_new_session=True)
        except OSError as exc:
            self._error = f"could not start {self.argv[0]}: {exc.strerror or exc}"
            return self
        assert self._proc.stdout is not None
        self.stdout = self._proc.stdout
        return self

    @property
    def failed(self) -> bool:
        """True when the producer could not even start (nothing for restic to read)."""
        return self._error is not None

    def release_stdout(self) -> None:
        """Close our copy of the pipe once restic holds it, so the producer sees a reader leave."""
        if self._proc is not None and self._proc.stdout is not None:
            self._proc.stdout.close()

    def finish(self) -> str | None:
        """Wait for the producer; None when it succeeded, else what went wrong."""
        if self._error is not None:
            return self._error
        if self._proc is None:
            return None
        code = self._proc.wait()
        if code == 0:
            return None
        why = f"killed by signal {-code}" if code < 0 else f"exited {code}"
        return f"{os.path.basename(self.argv[0]) if self.argv else 'the dump'} {why}{self._stderr_tail()}"

    def kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors="replace").strip()
        return f": {text[-MAX_STDERR:]}" if text else ""

    def __exit__(self, *exc: object) -> None:
        self.kill()
        if self._proc is not None and self._proc.stdout is not None:
            self._proc.stdout.close()
        for fh in (self._file, self._stderr):
            if fh is not None:
                fh.close()


def dump_argv(job: JobSpec) -> list[str]:
    """The producer's command line for a command, postgres or mongodb job."""
    if job.source == "command":
        return ["/bin/sh", "-c", job.command]
    if job.source == "postgres":
        return as_user(job.user, ["pg_dump", "-Fc", f"--dbname={job.database}"])
    if job.source == "mongodb":
        return as_user(job.user, ["mongodump", "--archive", f"--db={job.database}"])
    raise ValueError(f"no dump command for a {job.source} job")


def as_user(user: str, argv: list[str]) -> list[str]:
    """`argv` run as `user` (runuser, when we are root and the user differs)."""
    if not user or os.geteuid() != 0 or user == "root":
        return argv
    return ["runuser", "-u", user, "--", *argv]


class SqliteCopy:
    """A consistent copy of a live SQLite database in a private temporary directory."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.dir: str | None = None
        self.copy: str | None = None
        self.error: str | None = None

    def __enter__(self) -> SqliteCopy:
        self.dir = tempfile.mkdtemp(prefix="lp-sqlite-")
        self.copy = os.path.join(self.dir, "copy.db")
        try:
            if not os.path.isfile(self.path):
                raise sqlite3.OperationalError(f"{self.path} is not a database file")
            online_copy(self.path, self.copy, check="copy")
        except CorruptDatabase as exc:
            self.error = f"sqlite copy of {self.path} failed: integrity check of the copy: {exc}"
        except sqlite3.Error as exc:
            self.error = f"sqlite copy of {self.path} failed: {exc}"
        return self

    def __exit__(self, *exc: object) -> None:
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)


def producer_for(job: JobSpec, sqlite_copy: SqliteCopy | None = None) -> Producer:
    if job.source == "sqlite":
        assert sqlite_copy is not None
        if sqlite_copy.error is not None:
            return Producer(error=sqlite_copy.error)
        return Producer(path=sqlite_copy.copy)
    return Producer(argv=dump_argv(job))


def describe(job: JobSpec) -> dict[str, Any]:
    """What the catalogue shows about a job's source (no secrets: pillar values masked later)."""
    info: dict[str, Any] = {"source": job.source}
    if job.paths:
        info["paths"] = list(job.paths)
    if job.database:
        info["database"] = job.database
    if job.path:
        info["path"] = job.path
    if job.filename:
        info["filename"] = job.filename
    return info
