"""What `lpmaster drift` prints and the exit code it returns, from the drift rows.

    rows = summarize(reports, targeted, now, max_age)      # core.drift
    print(drift_table(rows))
    sys.exit(drift_exit_code(rows))

Exit codes: 0 every targeted minion reported recently and is clean; 2 any drifted, failing,
stale, never reported or unreachable (or no minion matched the target: nothing was verified); 1 is left
for errors running the command. Every text a minion sent is escaped before it reaches the
terminal (SECURITY.md rule 10).
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from core.drift import CLEAN, NOT_CHECKED, STALE, UNREACHABLE, MinionDrift, describe_tag, report_to_json
from core.errors import ConfigError
from master.output import aligned, status_counts
from master.output import escape_controls as escape   # minion text, safe for a terminal

EXIT_CLEAN = 0
EXIT_ERROR = 1
EXIT_ATTENTION = 2
DEFAULT_MAX_AGE = 3600.0          # two drift intervals (30 min each, plus splay)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw]?)")


def parse_duration(text: str) -> float:
    """`90`, `90s`, `30m`, `2h`, `1d`, `1w` or `1h30m` -> seconds; ConfigError otherwise."""
    spec = text.strip().lower()
    pos, total = 0, 0.0
    while pos < len(spec):
        match = _DURATION.match(spec, pos)
        if match is None:
            raise ConfigError(f"bad duration {text!r}: use e.g. 90s, 30m, 2h, 1d")
        total += float(match.group(1)) * _UNITS[match.group(2) or "s"]
        pos = match.end()
    if pos == 0 or total <= 0:
        raise ConfigError(f"bad duration {text!r}: use e.g. 90s, 30m, 2h, 1d")
    return total


def drift_exit_code(rows: Iterable[MinionDrift]) -> int:
    rows = list(rows)
    if not rows:
        return EXIT_ATTENTION
    return EXIT_CLEAN if all(row.status == CLEAN for row in rows) else EXIT_ATTENTION


def drift_table(rows: Iterable[MinionDrift], *, details: bool = True) -> str:
    """The table of minions (status, report age, counts), then what drifted, with diffs."""
    rows = list(rows)
    if not rows:
        return "no minion matched the target\n"
    header = ("MINION", "STATUS", "AGE", "DRIFTED", "FAILED", "NOTES")
    lines = [header]
    for row in rows:
        report = None if row.status in (UNREACHABLE, NOT_CHECKED) else row.report
        notes = {UNREACHABLE: ["did not answer the refresh"],
                 NOT_CHECKED: ["its check failed"]}.get(row.status, [])
        if report is not None:
            kinds = sorted({d.kind for d in report.drifted})
            if kinds:
                notes.append("/".join(kinds))
            if report.compile_errors:
                notes.append("compile errors")
            if report.stale_backups:
                notes.append(f"{len(report.stale_backups)} stale backup(s)")
            if report.expiring_certs:
                notes.append(f"{len(report.expiring_certs)} certificate(s) expiring")
        notes.extend(check.kind for check in row.checks)
        lines.append((escape(row.minion_id), row.status, format_age(row.age),
                      str(len(report.drifted)) if report else "-",
                      str(len(report.failed)) if report else "-", ", ".join(notes)))
    out = aligned(lines)
    out += ["", status_counts(row.status for row in rows)]
    if details:
        for row in rows:
            out.extend(_details(row))
    return "\n".join(out) + "\n"


def drift_json(rows: Iterable[MinionDrift]) -> dict[str, Any]:
    """`--json`: {minion_id: {status, age, report}}."""
    out: dict[str, Any] = {}
    for row in rows:
        out[row.minion_id] = {"status": row.status, "age": row.age,
                              "report": report_to_json(row.report) if row.report else None}
        if row.checks:  # the master's own findings (a stale drill)
            out[row.minion_id]["checks"] = [{"name": c.name, "kind": c.kind, "message": c.message}
                                            for c in row.checks]
    return out


def format_age(age: float | None) -> str:
    if age is None:
        return "-"
    if age < 120:
        return f"{age:.0f}s"
    if age < 7200:
        return f"{age / 60:.0f}m"
    if age < 172800:
        return f"{age / 3600:.0f}h"
    return f"{age / 86400:.0f}d"


def state_label(tag: str) -> str:
    """`file_|-motd_|-/etc/motd_|-managed` -> `file.managed /etc/motd (motd)`, escaped."""
    return escape(describe_tag(tag))


_NOT_NOW = {UNREACHABLE: "did not answer the refresh", NOT_CHECKED: "answered the refresh, but its check failed"}


def _details(row: MinionDrift) -> list[str]:
    if row.status in _NOT_NOW:
        last = f"its last report is {format_age(row.age)} old" if row.age is not None else "it never reported"
        return ["", f"{escape(row.minion_id)}: {row.status}",
                f"  {_NOT_NOW[row.status]}, so it was not checked now ({last})"]
    report = row.report
    mid = escape(row.minion_id)
    checks = [f"  {check.name:<11} {escape(check.message)}" for check in row.checks]
    if report is None or row.status == CLEAN:
        return ["", f"{mid}: {row.status}", *checks] if checks else []
    out = ["", f"{mid}: {row.status}", *checks]
    if row.status == STALE:
        out.append(f"  last report {format_age(row.age)} ago (older than --max-age)")
    for err in report.compile_errors:
        out.append(f"  compile error: {escape(err)}")
    for failed in report.failed:
        out.append(f"  failed      {state_label(failed.tag)}")
        out.extend("      " + escape(line) for line in failed.comment.splitlines())
    for drifted in report.drifted:
        out.append(f"  {drifted.kind:<11} {state_label(drifted.tag)}")
        out.extend("      " + escape(line) for line in drifted.diff.splitlines())
    for backup in report.stale_backups:
        out.append(f"  stale backup: {escape(backup.job)}")
    for cert in report.expiring_certs:
        out.append(f"  certificate {escape(cert.path)} ({escape(cert.subject)}) "
                   f"expires in {cert.days_left:.1f} days")
    return out
