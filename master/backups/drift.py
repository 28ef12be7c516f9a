"""Backups as drift checks: stale, failing, never run and unverified jobs in `lpmaster drift`.

    checks = backup_checks(cfg, "web*")          # [JobStatus] of the targeted hosts (and the master's own)
    text = checks_section(checks)                # the table's BACKUPS section
    cases = junit_cases(checks)                  # extra JUnit test cases, one per job
    bad = any_bad(checks)                        # drift exits 2 when true

They come from the master's catalogue, not from the minions' drift reports, so a host that
is down (and so sends nothing) still turns the report red the morning after its backups stop.
"""
from __future__ import annotations

from typing import Any, Iterable

from core.config import MasterConfig
from master.backups.status import BAD, JobStatus


def backup_checks(cfg: MasterConfig, target: str = "*", tgt_type: str = "glob",
                  now: float | None = None) -> list[JobStatus]:
    from master.backups.api import catalogue

    return catalogue(cfg, target, tgt_type, now=now)


def any_bad(checks: Iterable[JobStatus]) -> bool:
    return any(c.status in BAD for c in checks)


def describe(check: JobStatus) -> str:
    from master.drift.view import format_age

    if check.status == "never run":
        text = f"backup {check.job} has never produced a good snapshot"
    elif check.status == "stale":
        text = f"backup {check.job}: last good snapshot {format_age(check.age)} ago (max {format_age(check.max_age)})"
    elif check.status == "unverified":
        text = (f"{check.job}: the repository check never succeeded" if check.age is None else
                f"{check.job}: last good check {format_age(check.age)} ago (max {format_age(check.max_age)})")
    elif check.status == "failing":
        text = f"backup {check.job} failed"
    else:
        text = f"backup {check.job} ok"
    if check.last_error:
        text += f": {check.last_error.splitlines()[0][:200]}"
    return text


def checks_section(checks: Iterable[JobStatus]) -> str:
    from master.output import escape_controls as escape

    checks = list(checks)
    if not checks:
        return ""
    bad = [c for c in checks if c.status in BAD]
    out = ["", f"backups: {len(checks) - len(bad)} ok, {len(bad)} need attention"]
    for check in bad:
        out.append(f"  {escape(check.minion_id)}  {check.status:<10}  {escape(describe(check))}")
    return "\n".join(out) + "\n"


def json_checks(checks: Iterable[JobStatus]) -> list[dict[str, Any]]:
    return [c.to_json() for c in checks]


def junit_cases(checks: Iterable[JobStatus]) -> list[tuple[str, str, str | None, str, str]]:
    cases = []
    for check in checks:
        outcome = "failure" if check.status in BAD else None
        cases.append((check.minion_id, f"backup:{check.job}", outcome,
                      f"backup {check.status}" if outcome else "", describe(check) if outcome else ""))
    return cases
