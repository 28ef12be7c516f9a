"""Put a snapshot back: into a directory (`to`), or in place (files over `/`, dumps loaded
into their database). Read-only on the repository: opened with `--no-lock`, never
initialised, forgotten, pruned or written to, so a drill may restore another host's
backups from a scratch host given that host's pillar.

    result = restore(spec, job, cache_dir, snapshot="latest", to="/srv/restore")
    result = restore(spec, job, cache_dir, in_place=True)

`latest` is the newest good snapshot of the job under `host` (default `spec.host`): a
snapshot tagged `lp-failed` is never chosen, and naming one is refused.

The snapshot's paths are checked before anything is written (core/snapshotpaths.py:
plain absolute paths, nothing under a symlink node, no device; with `--force` into a
non-empty directory, no existing symlink on the way either; in place, only the job's own
`paths` and no existing symlink below them). `to` refuses a non-empty directory unless `force`.
A files restore then goes through a root-only staging directory and is moved into place
without following any symlink (minion/backup/staging.py), so a local user who plants one
after these checks cannot redirect root's writes.

A files restore in place (or `to=/`) never writes over the host's identity or the running
minion's own config, key and state (minion/backup/protect.py; `own=` names the minion's
paths), nor anything the job's `exclude:` or `exclude=` selects; `skipped` in the result
lists each path left alone and why.
"""
from __future__ import annotations

import os
import secrets
import sqlite3
import stat
import subprocess
import tempfile
from typing import Any, Iterable, Sequence

from core.errors import LinkpeekError, UnsafePathError
from core.restic import Restic, ResticError
from core.snapshotpaths import (check_existing, check_existing_within, check_nodes, check_privileged,
                                check_within)
from core.sqlitecopy import CorruptDatabase, online_copy
from minion.backup.protect import Rules, under_any
from minion.backup.run import FAILED_TAG
from minion.backup.sources import as_user
from minion.backup.spec import BackupSpec, JobSpec
from minion.backup.staging import restore_staged, roots_in_place, roots_into
from minion.providers import safefs

MIN_ID_PREFIX = 8


class RestoreError(LinkpeekError):
    """The restore was refused or failed; nothing was changed unless it says so."""


def select_snapshot(snapshots: list[dict[str, Any]], wanted: str = "latest") -> dict[str, Any]:
    """The snapshot to restore from `snapshots` (oldest first): the newest good one, or the one
    whose id starts with `wanted`; RestoreError when none fits or it was marked failed."""
    if wanted in ("", "latest", None):
        good = [s for s in snapshots if FAILED_TAG not in (s.get("tags") or [])]
        if not good:
            raise RestoreError("this job has no good snapshot yet; run `lpmaster backup run` first")
        return good[-1]
    if len(wanted) < MIN_ID_PREFIX or not all(c in "0123456789abcdef" for c in wanted):
        raise RestoreError(f"--snapshot must be `latest` or a snapshot id (at least {MIN_ID_PREFIX} hex digits)")
    found = [s for s in snapshots if str(s.get("id", "")).startswith(wanted)]
    if len(found) != 1:
        raise RestoreError(f"no snapshot {wanted} of this job" if not found else f"{wanted} is ambiguous")
    if FAILED_TAG in (found[0].get("tags") or []):
        raise RestoreError(f"snapshot {wanted} holds a dump that failed; choose another")
    return found[0]


def prepare_target(to: str, force: bool) -> str:
    """An absolute directory that is empty (or `force`); made 0700 when it does not exist."""
    if not isinstance(to, str) or not to.startswith("/") or "\x00" in to:
        raise RestoreError("--to needs an absolute directory path")
    target = os.path.normpath(to)
    if os.path.islink(target):
        raise RestoreError(f"{target} is a symlink; give the real directory")
    if os.path.exists(target):
        if not os.path.isdir(target):
            raise RestoreError(f"{target} exists and is not a directory")
        if os.listdir(target) and not force:
            raise RestoreError(f"{target} is not empty; choose an empty directory or add --force")
    else:
        os.makedirs(target, mode=0o700)
    return target


def restore(spec: BackupSpec, job: JobSpec, cache_dir: str, *, snapshot: str = "latest", to: str | None = None,
            in_place: bool = False, force: bool = False, host: str | None = None,
            exclude: Sequence[str] = (), own: Iterable[str] = (), binary: str = "restic") -> dict[str, Any]:
    """Restore one snapshot of `job` (see the module docstring); a dict saying what was done."""
    if bool(to) == bool(in_place):
        raise RestoreError("give exactly one of --to PATH or --in-place")
    if exclude and job.source != "files":
        raise RestoreError(f"exclude= applies to files jobs only; {job.name} is a {job.source} job")
    with Restic(spec, cache_dir, binary=binary, no_lock=True) as restic:
        try:
            snaps = restic.snapshots(tags=[f"lp-job={job.name}"], host=host or spec.host)
        except ResticError as exc:
            raise RestoreError(f"cannot list the snapshots: {exc}") from exc
        snap = select_snapshot(snaps, snapshot)
        sid = str(snap["id"])
        nodes = restic.ls(sid)
        paths = check_nodes(nodes)
        result: dict[str, Any] = {"job": job.name, "source": job.source, "snapshot_id": sid,
                                  "snapshot_time": snap.get("time"), "host": snap.get("hostname")}
        if job.source == "files":
            target = "/" if in_place else prepare_target(str(to), force)
            check_privileged(nodes, target)
            rules = Rules.for_restore(in_place=target == "/", own=own, job_exclude=job.exclude, exclude=exclude)
            excludes, skipped = rules.plan(paths)
            tops = {s["path"] for s in skipped}
            kept = [p for p in paths if not under_any(p, tops)]
            if not in_place and force:
                check_existing(target, kept)
            if target == "/":
                check_within(paths, job.paths)
                check_existing_within(kept, job.paths)
            roots = roots_in_place(job.paths, kept) if target == "/" else roots_into(target, kept)
            private = target != "/" and not os.stat(target).st_mode & 0o077
            skipped += restore_staged(restic, sid, excludes, roots, private=private)
            result.update(restored_to=target, nodes=len(paths), skipped=skipped)
            return result
        expected = "/" + job.filename
        if paths != [expected]:
            raise RestoreError(f"snapshot {sid[:8]} does not hold just {expected} (a {job.source} dump)")
        if not in_place:
            target = prepare_target(str(to), force)
            dest = _dump_to_dir(restic, sid, job.filename, target)
            result.update(restored_to=dest)
            return result
        result.update(_load_in_place(restic, sid, job))
        return result


def _dump_to_dir(restic: Restic, sid: str, filename: str, target: str) -> str:
    """Write the dump as TARGET/FILENAME: a temp file and a rename inside the directory a
    walk that follows no untrusted symlink reached (minion/providers/safefs.py), so a symlink
    planted on the way to `target` (or swapped in after prepare_target) is never written through."""
    dest = os.path.join(target, filename)
    try:
        entry = safefs.locate(dest)
    except safefs.UnsafeWrite as exc:
        raise UnsafePathError(f"not restoring {dest}: {exc}") from None
    with entry:
        if entry.st is not None and stat.S_ISLNK(entry.st.st_mode):
            raise UnsafePathError(f"{dest} is a symlink; not writing through it")
        tmp = f".lp-restore-{secrets.token_hex(6)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                     dir_fd=entry.dir_fd)
        try:
            with os.fdopen(fd, "wb") as out:
                restic.dump(sid, filename, out)
                out.flush()
                os.fsync(out.fileno())
            os.rename(tmp, entry.name, src_dir_fd=entry.dir_fd, dst_dir_fd=entry.dir_fd)
        except BaseException:
            try:
                os.unlink(tmp, dir_fd=entry.dir_fd)
            except FileNotFoundError:
                pass
            raise
    return dest


def _load_in_place(restic: Restic, sid: str, job: JobSpec) -> dict[str, Any]:
    if job.source == "sqlite":
        return _sqlite_in_place(restic, sid, job)
    if job.source == "postgres":
        name = "pg_restore"
        loader = as_user(job.user, ["pg_restore", "--clean", "--if-exists", "--single-transaction",
                                    f"--dbname={job.database}"])
    elif job.source == "mongodb":
        name = "mongorestore"
        loader = as_user(job.user, ["mongorestore", "--archive", "--drop", f"--nsInclude={job.database}.*"])
    elif job.restore_command:
        name = "restore_command"
        loader = ["/bin/sh", "-c", job.restore_command]
    else:
        raise RestoreError(f"job {job.name} has no in-place restore (a command job needs restore_command:); "
                           "use --to PATH")
    _pipe_dump(restic, sid, job.filename, loader, name)
    return {"loaded_into": job.database or job.name, "loader": name}


def _pipe_dump(restic: Restic, sid: str, filename: str, loader: list[str], name: str) -> None:
    """`restic dump SNAP /FILE | loader`; RestoreError when either side fails."""
    dump = subprocess.Popen(restic.argv("dump", "--", sid, "/" + filename), env=restic.env(),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert dump.stdout is not None
    try:
        load = subprocess.run(loader, stdin=dump.stdout, capture_output=True, cwd="/", timeout=24 * 3600)
    finally:
        dump.stdout.close()
    dump_err = dump.stderr.read().decode(errors="replace") if dump.stderr else ""
    dump_code = dump.wait()
    if dump_code != 0:
        raise RestoreError(f"restic dump failed (exit {dump_code}): {dump_err.strip()[-2000:]}")
    if load.returncode != 0:
        raise RestoreError(f"{name} failed (exit {load.returncode}): {load.stderr.decode(errors='replace').strip()[-2000:]}")


def _sqlite_in_place(restic: Restic, sid: str, job: JobSpec) -> dict[str, Any]:
    """Check the restored copy, then swap it into the live database with SQLite's backup API
    (so open connections and the WAL stay consistent, unlike a rename over the file)."""
    directory = os.path.dirname(job.path)
    if not os.path.isdir(directory):
        raise RestoreError(f"{directory} does not exist")
    with tempfile.TemporaryDirectory(prefix="lp-restore-") as tmp:
        copy = os.path.join(tmp, "restored.db")
        with open(copy, "wb") as out:
            restic.dump(sid, job.filename, out)
        try:
            online_copy(copy, job.path, check="source")
        except CorruptDatabase as exc:
            raise RestoreError(f"the restored copy fails PRAGMA integrity_check: {exc}") from exc
        except sqlite3.Error as exc:
            raise RestoreError(f"loading the copy into {job.path} failed: {exc}") from exc
    return {"loaded_into": job.path}
