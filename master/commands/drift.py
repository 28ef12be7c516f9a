"""`lpmaster drift [TARGET] [--refresh] [--max-age DURATION] [--json] [--junit FILE]`.

A table of the targeted minions: clean, drifted, failing, stale report, never reported,
unreachable (did not answer --refresh) or not checked (answered it, but its check failed),
and what drifted (with diffs, corrective or
pending); then the backup checks from the catalogue (stale, failing, never run or
unverified jobs, as `lpmaster backups` shows them; `--json` key "backups", JUnit cases
`backup:JOB`). Exit codes: 0 every targeted minion reported within --max-age and is clean
and every backup is ok; 2 any drifted, failing, stale, never reported, unreachable or not
checked (or no minion matched, or a backup needs attention); 1 the command itself failed
(master not running for --refresh, bad option value, unreadable store).
"""
from __future__ import annotations

import argparse
import sys

from core import cli


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("drift", help="which minions drifted from the blueprint (for people and CI)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_config_arg(p, "master")
    p.add_argument("target", nargs="?", default="*", metavar="TARGET", help="minions to report on (default: all)")
    cli.add_target_args(p)
    p.add_argument("--refresh", action="store_true", help="ask the minions for a fresh check now and wait")
    p.add_argument("--timeout", type=float, default=None, help="seconds to wait for a refresh (default: job timeout)")
    p.add_argument("--max-age", default=None, metavar="DURATION",
                   help="a report older than this is stale (e.g. 90s, 30m, 2h; default 1h)")
    p.add_argument("--json", action="store_true", help="print {minion: {status, age, report}}")
    p.add_argument("--junit", metavar="FILE", help="also write JUnit XML (one test case per minion and state)")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Exit 1 on any error running the command, so CI never mistakes it for drift (2)."""
    import sqlite3

    from core.errors import LinkpeekError

    try:
        return _drift(args)
    except (LinkpeekError, OSError, sqlite3.Error) as exc:
        print(f"lpmaster drift: error: {exc}", file=sys.stderr)
        return 1


def _drift(args: argparse.Namespace) -> int:
    import time

    from master import api
    from master.drift.api import drift_rows, refresh
    from master.drift.view import DEFAULT_MAX_AGE, drift_exit_code, drift_json, drift_table, parse_duration
    from master.output import escape_controls

    cfg = api.load_config(cli.require_config(args, "master"))
    max_age = parse_duration(args.max_age) if args.max_age else DEFAULT_MAX_AGE
    unreachable: dict[str, str] = {}
    not_checked: dict[str, str] = {}
    if args.refresh:
        outcome = refresh(cfg, args.target, args.tgt_type, args.timeout)
        unreachable, not_checked = outcome["missing"], outcome["not_checked"]
        for mid, why in sorted(unreachable.items()):
            print(f"lpmaster drift: {escape_controls(mid)} did not answer the refresh ({why})", file=sys.stderr)
        for mid, why in sorted(not_checked.items()):
            print(f"lpmaster drift: {escape_controls(mid)} answered the refresh but was not checked: "
                  f"{escape_controls(why)}", file=sys.stderr)
    now = time.time()
    rows = drift_rows(cfg, args.target, args.tgt_type, max_age=max_age, now=now, unreachable=unreachable,
                      not_checked=not_checked)
    from master.backups import drift as backups
    checks = backups.backup_checks(cfg, args.target, args.tgt_type, now=now)
    if args.junit:
        from core.junit import write_junit
        write_junit(args.junit, rows, now=now, max_age=max_age, extra=backups.junit_cases(checks))
    if args.json:
        cli.print_json({**drift_json(rows), **({"backups": backups.json_checks(checks)} if checks else {})})
    else:
        sys.stdout.write(drift_table(rows) + backups.checks_section(checks))
    code = drift_exit_code(rows)
    return 2 if code == 0 and backups.any_bad(checks) else code
