"""One backup run, and one verify run: what `backup.run` and `backup.check` do on the host.

    record = run_backup(spec, spec.job("db-nightly"), cache_dir)   # a plain dict for the catalogue
    record = run_verify(spec, cache_dir)

A run initialises the repository when there is none, backs up with the tags `lp`,
`lp-job=JOB` and `lp-source=SOURCE` under the host name `spec.host`, and applies the job's
retention (`forget --prune`) after a good snapshot. A stdin dump whose producer failed, or
a run restic cut short, never leaves a good snapshot: the snapshot it wrote is forgotten
(and tagged `lp-failed` if even that fails, so restore never picks it). The record says
what failed.
"""
from __future__ import annotations

import hashlib
import logging
import os
import time
import uuid
from contextlib import contextmanager
from typing import Any, Iterator

from core.restic import NO_REPOSITORY_HINTS, BackupOutcome, Restic, ResticError, StatusCallback
from minion.backup.sources import SqliteCopy, describe, producer_for
from minion.backup.spec import BackupSpec, JobSpec

log = logging.getLogger("lp.minion.backup")

FAILED_TAG = "lp-failed"
RESTIC_INCOMPLETE = 3            # restic: some source files could not be read


def job_tags(job: JobSpec) -> list[str]:
    return ["lp", f"lp-job={job.name}", f"lp-source={job.source}"]


def new_record(kind: str, job: str, spec: BackupSpec) -> dict[str, Any]:
    return {"run_id": uuid.uuid4().hex, "kind": kind, "job": job, "host": spec.host,
            "started_at": time.time(), "success": False, "error": None}


def run_backup(spec: BackupSpec, job: JobSpec, cache_dir: str, *, on_status: StatusCallback | None = None,
               binary: str = "restic") -> dict[str, Any]:
    """Back up one job now; never raises for a failed run (the record says why)."""
    record = new_record("backup", job.name, spec)
    record.update(describe(job))
    record["cron"] = job.cron
    with _finishing(record), Restic(spec, cache_dir, binary=binary) as restic:
        marker = _known_marker(cache_dir, spec.repository)
        if not os.path.exists(marker):
            _ensure_repository(restic, record)
            _touch(marker)
        outcome, producer_error = _backup(restic, job, on_status)
        if outcome.returncode != 0 and any(h in outcome.stderr for h in NO_REPOSITORY_HINTS):
            _ensure_repository(restic, record)      # it was removed since we last saw it
            outcome, producer_error = _backup(restic, job, on_status)
        _settle(restic, job, outcome, producer_error, record)
        if record["success"] and job.keep:
            _retention(restic, job, spec.host, record)
    if not record["success"]:
        log.warning("backup job %s failed: %s", job.name, record["error"])
    return record


def _retention(restic: Restic, job: JobSpec, host: str, record: dict[str, Any]) -> None:
    """forget --prune by the job's keep policy; a lock a killed run left is cleared (`restic
    unlock` removes stale locks only) and the prune tried once more. A failure is a warning:
    the snapshot itself is good."""
    for attempt in (1, 2):
        try:
            restic.forget_policy(dict(job.keep), [f"lp-job={job.name}"], host, prune=True)
            record["retention"] = dict(job.keep)
            return
        except ResticError as exc:
            if attempt == 1 and "lock" in str(exc):
                try:
                    restic.run("unlock")
                    continue
                except ResticError:
                    pass
            record["warning"] = f"retention failed: {exc}"
            return


def _ensure_repository(restic: Restic, record: dict[str, Any]) -> None:
    if not restic.exists():
        restic.init()
        record["initialised"] = True


def _known_marker(cache_dir: str, repository: str) -> str:
    """A file that says this repository existed when we last looked (saves a restic call a run)."""
    digest = hashlib.sha256(repository.encode()).hexdigest()[:32]
    return os.path.join(cache_dir, f"known-{digest}")


def _touch(path: str) -> None:
    with open(path, "a", encoding="utf-8"):
        pass


def _backup(restic: Restic, job: JobSpec, on_status: StatusCallback | None) -> tuple[BackupOutcome, str | None]:
    tags = job_tags(job)
    if job.source == "files":
        return restic.backup_paths(job.paths, job.exclude, tags, on_status), None
    copy = SqliteCopy(job.path) if job.source == "sqlite" else None
    if copy is not None:
        copy.__enter__()
    try:
        with producer_for(job, copy) as producer:
            if producer.failed:
                return BackupOutcome(1, None, [], ""), producer.finish()
            outcome = restic.backup_stdin(job.filename, tags, stdin=producer.stdout, on_status=on_status,
                                          started=lambda _proc: producer.release_stdout())
            if outcome.returncode != 0:
                producer.kill()
            return outcome, producer.finish()
    finally:
        if copy is not None:
            copy.__exit__(None, None, None)


def _settle(restic: Restic, job: JobSpec, outcome: BackupOutcome, producer_error: str | None,
            record: dict[str, Any]) -> None:
    """Fill in the record; forget the snapshot of a run that is no good."""
    summary = outcome.summary
    sid = outcome.snapshot_id
    if producer_error is None and outcome.returncode == 0 and sid:
        record.update(success=True, snapshot_id=sid, files=summary.get("total_files_processed"),
                      files_new=summary.get("files_new"), files_changed=summary.get("files_changed"),
                      bytes_added=summary.get("data_added"), total_bytes=summary.get("total_bytes_processed"))
        return
    if producer_error is not None:
        record["error"] = f"the dump failed: {producer_error}"
        record["producer_failed"] = True
    elif outcome.returncode == RESTIC_INCOMPLETE:
        record["error"] = f"some files could not be read: {outcome.error_text()}"
    else:
        record["error"] = f"restic backup failed (exit {outcome.returncode}): {outcome.error_text()}"
    if sid:
        record["discarded_snapshot"] = sid
        try:
            restic.forget_ids([sid])
        except ResticError as exc:
            log.warning("could not forget the failed snapshot %s (%s); tagging it %s", sid[:8], exc, FAILED_TAG)
            try:
                restic.tag_add(sid, FAILED_TAG)
            except ResticError:
                log.error("the failed snapshot %s could be neither forgotten nor tagged", sid[:8])


def run_verify(spec: BackupSpec, cache_dir: str, *, binary: str = "restic") -> dict[str, Any]:
    """`restic check` (reading the configured subset of the data); never raises for a failure."""
    record = new_record("verify", "verify", spec)
    subset = spec.verify.read_data_subset if spec.verify else ""
    record["read_data_subset"] = subset
    if spec.verify is not None:
        record["cron"] = spec.verify.cron
    with _finishing(record), Restic(spec, cache_dir, binary=binary) as restic:
        restic.check(subset)
        record["success"] = True
    return record


@contextmanager
def _finishing(record: dict[str, Any]) -> Iterator[None]:
    """Time the run into `record`; a restic failure (or restic not running) becomes its error."""
    start = time.monotonic()
    try:
        yield
    except ResticError as exc:
        record["error"] = str(exc)
    except OSError as exc:
        record["error"] = f"could not run restic: {exc}"
    record["duration"] = round(time.monotonic() - start, 3)
    record["finished_at"] = time.time()
