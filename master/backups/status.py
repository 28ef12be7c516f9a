"""Which backups are fine: pure code over the declared jobs and their last runs.

    rows = job_statuses(declared, last_runs, now)      # [JobStatus], sorted by host and job

    ok          the last run succeeded and the last good snapshot is within two schedule intervals
    stale       the last good snapshot is older than two intervals of the job's cron
    failing     the last run failed (its error is shown)
    never run   the job has never produced a good snapshot (a newly declared job is drift until
                its schedule or `lpmaster backup run` runs it)
    unverified  the host's `restic check` (verify:) never ran, failed, or is older than two intervals
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from core.cronexpr import is_cron, next_time
from master.backups.catalogue import Declared

OK = "ok"
STALE = "stale"
FAILING = "failing"
NEVER = "never run"
UNVERIFIED = "unverified"
BAD = (STALE, FAILING, NEVER, UNVERIFIED)
VERIFY_JOB = "verify"


@dataclass(frozen=True)
class JobStatus:
    minion_id: str
    job: str
    kind: str                              # backup | verify
    source: str
    cron: str
    status: str
    max_age: float                         # seconds: two intervals of the cron
    age: float | None                      # seconds since the last good run
    last_good: Mapping[str, Any] | None = None
    last_run: Mapping[str, Any] | None = None
    last_error: str | None = None

    def to_json(self) -> dict[str, Any]:
        good = self.last_good or {}
        return {"minion": self.minion_id, "job": self.job, "kind": self.kind, "source": self.source,
                "cron": self.cron, "status": self.status, "max_age": self.max_age, "age": self.age,
                "last_good": {k: good.get(k) for k in ("snapshot_id", "finished_at", "total_bytes", "bytes_added",
                                                       "files", "duration")} if good else None,
                "last_run": dict(self.last_run) if self.last_run else None, "last_error": self.last_error}


def interval(cron: str, now: float) -> float:
    """The cron's interval around `now`: the gap between its next two times (seconds)."""
    first = next_time(cron, now)
    return max(60.0, next_time(cron, first) - first)


def job_status(minion_id: str, job: str, decl: Declared, last: Mapping[str, Any] | None,
               good: Mapping[str, Any] | None, now: float) -> JobStatus:
    max_age = 2 * interval(decl.cron, now)
    age = None if good is None else max(0.0, now - float(good["finished_at"]))
    error = None if last is None or last.get("success") else str(last.get("error") or "failed")
    if decl.kind == "verify":
        status = (UNVERIFIED if good is None or (age is not None and age > max_age)
                  else FAILING if error else OK)
    elif good is None:
        status = NEVER
    elif error:
        status = FAILING
    elif age is not None and age > max_age:
        status = STALE
    else:
        status = OK
    return JobStatus(minion_id, job, decl.kind, decl.source, decl.cron, status, max_age, age,
                     last_good=good, last_run=last, last_error=error)


def job_statuses(declared: Mapping[str, Mapping[str, Declared]],
                 last_runs: Mapping[tuple[str, str], tuple[Any, Any]], now: float,
                 minions: set[str] | None = None) -> list[JobStatus]:
    rows = []
    for mid in sorted(declared):
        if minions is not None and mid not in minions:
            continue
        for job in sorted(declared[mid]):
            last, good = last_runs.get((mid, job), (None, None))
            rows.append(job_status(mid, job, declared[mid][job], last, good, now))
    return rows


def declared_from_pillar(backup: Any) -> dict[str, tuple[str, str, str]]:
    """{job: (kind, cron, source)} from a compiled `backup:` pillar value; what does not parse is left out
    (the minion reports the error when it runs the job)."""
    out: dict[str, tuple[str, str, str]] = {}
    if not isinstance(backup, Mapping):
        return out
    jobs = backup.get("jobs")
    if isinstance(jobs, Mapping):
        for name, body in jobs.items():
            if (isinstance(name, str) and isinstance(body, Mapping) and body.get("enabled", True) is not False
                    and is_cron(body.get("cron"))):
                out[name[:64]] = ("backup", body["cron"], str(body.get("source", "?"))[:20])
    verify = backup.get("verify")
    if isinstance(verify, Mapping) and is_cron(verify.get("cron")):
        out[VERIFY_JOB] = ("verify", verify["cron"], "restic check")
    return out

