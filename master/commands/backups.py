"""`lpmaster backups`, `lpmaster backup run|snapshots`, `lpmaster restore`: the restic backups
declared in pillar (`backup:`), their catalogue, and putting them back.

    lpmaster backups [TARGET] [--json]                  per host and job: last good snapshot, age, size, error
    lpmaster backup run TARGET JOB [--json]             run one now, with restic's progress; waits for it
    lpmaster backup snapshots TARGET JOB [--json]       the job's snapshots in its repository
    lpmaster restore TARGET JOB [--snapshot ID|latest] (--to PATH | --in-place) [--yes] [--force]
    lpmaster backup run '(master)' master               the master backs itself up now (master.yaml `backup:`)
    lpmaster init --restore REPOSITORY --dir DIR --password-file F    a lost master, back on a new host

Exit codes: `backups` 0 every job is ok, 2 any is stale, failing, never run or unverified;
`backup run` and `restore` 0 done, 1 it failed, 2 the minion did not answer; 64 usage.
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from core import cli

MASTER_ROW = "(master)"     # master/backups/api.py: the master's own row

RUN_HELP = """Run backup job JOB on TARGET now (`backup.run JOB`), show restic's progress while it
works, and wait for the result; the run is recorded in the catalogue like a scheduled one.
Exit 0 when the snapshot was taken, 1 when the run failed, 2 when the minion did not answer."""
RESTORE_HELP = """Restore a snapshot of JOB on TARGET (one minion): `--to PATH` puts the files under an
empty directory, at their full paths (PATH/etc/... for /etc), or a dump as PATH/FILENAME; `--in-place` restores files over `/`, or loads a database
dump back into its database (pg_restore, mongorestore, SQLite's backup API), after you confirm
(or --yes). The latest GOOD snapshot is the default; a snapshot whose dump failed is refused.
Paths in the snapshot are checked: nothing is written outside the target."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backups", help="the backup catalogue: last good snapshot, age, size and errors per job",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_config_arg(p, "master")
    p.add_argument("target", nargs="?", default="*", metavar="TARGET", help="minions (default all, and the master)")
    cli.add_target_args(p)
    p.add_argument("--json", action="store_true", help="print a list of {minion, job, status, last_good, ...}")
    p.set_defaults(func=handle_backups)

    b = sub.add_parser("backup", help="run a backup job now, or list its snapshots",
                       description="Run a backup job (declared in pillar) on a minion now, or list a job's snapshots.")
    cli.add_config_arg(b, "master")
    bsub = b.add_subparsers(dest="backup_command", metavar="ACTION")
    bsub.required = True
    r = bsub.add_parser("run", help="run one backup job now and wait (progress on stderr)", description=RUN_HELP)
    cli.add_config_arg(r, "master")
    r.add_argument("target", metavar="TARGET")
    r.add_argument("job", metavar="JOB")
    r.add_argument("--timeout", type=float, default=None, help="seconds to wait (default 6 h)")
    r.add_argument("--json", action="store_true", help="print {minion: record}")
    r.set_defaults(func=handle_run)
    s = bsub.add_parser("snapshots", help="the snapshots of one job",
                        description="The restic snapshots of one backup job, newest first.")
    cli.add_config_arg(s, "master")
    s.add_argument("target", metavar="TARGET")
    s.add_argument("job", metavar="JOB")
    s.add_argument("--json", action="store_true", help="print {minion: [snapshot, ...]}")
    s.set_defaults(func=handle_snapshots)

    x = sub.add_parser("restore", help="restore a backup snapshot on a minion", description=RESTORE_HELP)
    cli.add_config_arg(x, "master")
    x.add_argument("target", metavar="TARGET", help="the one minion to restore on")
    x.add_argument("job", metavar="JOB")
    x.add_argument("--snapshot", default="latest", metavar="ID|latest", help="default: the latest good one")
    where = x.add_mutually_exclusive_group(required=True)
    where.add_argument("--to", metavar="PATH", help="an empty directory on the minion (made if missing)")
    where.add_argument("--in-place", action="store_true", help="over the live files or into the database")
    x.add_argument("--force", action="store_true", help="allow --to into a directory that is not empty")
    x.add_argument("--host", help="restore another host's snapshots from the same repository (drills)")
    x.add_argument("--yes", "-y", action="store_true", help="do not ask before an in-place restore")
    x.add_argument("--timeout", type=float, default=None, help="seconds to wait (default 6 h)")
    x.add_argument("--json", action="store_true")
    x.set_defaults(func=handle_restore)


# -- lpmaster backups ------------------------------------------------------------------------

def handle_backups(args: argparse.Namespace) -> int:
    import sqlite3

    from master import api
    from master.backups.api import catalogue
    from master.backups.status import BAD

    cfg = api.load_config(cli.require_config(args, "master"))
    try:
        rows = catalogue(cfg, args.target, args.tgt_type)
    except (sqlite3.Error, OSError) as exc:
        print(f"lpmaster backups: cannot read the catalogue in {cfg.db_path}: {exc}", file=sys.stderr)
        return cli.EXIT_FAILED
    if args.json:
        cli.print_json([row.to_json() for row in rows])
    else:
        sys.stdout.write(backups_table(rows))
    return cli.EXIT_INCOMPLETE if any(row.status in BAD for row in rows) else cli.EXIT_OK


def backups_table(rows: list[Any]) -> str:
    from master.drift.view import format_age
    from master.output import aligned, status_counts
    from master.output import escape_controls as escape

    if not rows:
        return "no backup jobs declared for the target (pillar `backup: jobs:`)\n"
    lines = [("HOST", "JOB", "SOURCE", "STATUS", "LAST GOOD", "AGE", "MAX AGE", "SIZE", "LAST ERROR")]
    for row in rows:
        good = row.last_good or {}
        lines.append((escape(row.minion_id), escape(row.job), escape(row.source), row.status,
                      escape(str(good.get("snapshot_id") or "-"))[:8], format_age(row.age), format_age(row.max_age),
                      human_bytes(good.get("total_bytes")),
                      escape((row.last_error or "").splitlines()[0][:80]) if row.last_error else ""))
    out = aligned(lines) + ["", status_counts(row.status for row in rows)]
    return "\n".join(out) + "\n"


def human_bytes(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return "-"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return "-"


# -- lpmaster backup run / snapshots -----------------------------------------------------------

def handle_run(args: argparse.Namespace) -> int:
    from master import api
    from master.backups.api import DEFAULT_RUN_TIMEOUT, run_backup
    from master.output import escape_controls as escape

    cfg = api.load_config(cli.require_config(args, "master"))
    if args.target == MASTER_ROW:
        return _run_self(cfg, args)
    returns: dict[str, Any] = {}
    failed = False
    missing: dict[str, str] = {}
    for event in run_backup(cfg, args.target, args.job, args.timeout or DEFAULT_RUN_TIMEOUT):
        kind = event["event"]
        if kind == "job" and not event["minions"]:
            print(f"lpmaster backup run: no accepted minion {args.target!r}", file=sys.stderr)
            return cli.EXIT_INCOMPLETE
        if kind == "progress":
            print(progress_line(event), file=sys.stderr, flush=True)
        elif kind == "progress_dropped":
            print(f"lpmaster backup run: {event.get('note')}", file=sys.stderr, flush=True)
        elif kind == "return":
            mid, ret = event["minion"], event["ret"]
            returns[mid] = ret
            failed = failed or not event["success"]
            if not args.json:
                print(run_summary(mid, args.job, ret, event["success"]))
        elif kind == "done":
            missing = event.get("missing") or {}
    if args.json:
        cli.print_json(returns)
    for mid, why in sorted(missing.items()):
        print(f"lpmaster backup run: {escape(mid)} did not answer ({why})", file=sys.stderr)
    if missing:
        return cli.EXIT_INCOMPLETE
    return cli.EXIT_FAILED if failed else cli.EXIT_OK


def _run_self(cfg: Any, args: argparse.Namespace) -> int:
    """`lpmaster backup run '(master)' master`: the running master backs itself up now."""
    from master import api

    if args.job != "master":
        print("lpmaster backup run: the master's own job is called `master`", file=sys.stderr)
        return cli.EXIT_USAGE
    record: Any = None
    for event in api.control_request(cfg, {"op": "self_backup"}, timeout=args.timeout or 6 * 3600.0):
        record = event.get("record")
    if args.json:
        cli.print_json({MASTER_ROW: record})
    else:
        print(run_summary(MASTER_ROW, "master", record, bool(record and record.get("success"))))
    return cli.EXIT_OK if record and record.get("success") else cli.EXIT_FAILED


def progress_line(event: dict[str, Any]) -> str:
    from master.output import escape_controls as escape

    pct = event.get("percent_done")
    parts = [f"{escape(str(event.get('minion')))} {escape(str(event.get('job', '')))}:"]
    parts.append(f"{pct * 100:5.1f}%" if isinstance(pct, (int, float)) else "  ...")
    if isinstance(event.get("bytes_done"), (int, float)):
        total = event.get("total_bytes")
        parts.append(human_bytes(event["bytes_done"]) + (f" of {human_bytes(total)}" if total else ""))
    if isinstance(event.get("files_done"), (int, float)):
        parts.append(f"{event['files_done']:.0f} files")
    return " ".join(parts)


def run_summary(mid: str, job: str, ret: Any, success: bool) -> str:
    from master.output import escape_controls as escape

    if not isinstance(ret, dict):
        return escape(f"{mid}: backup {job} failed: {ret}")
    if success:
        return escape(f"{mid}: backup {job} ok: snapshot {ret.get('snapshot_id')}, {ret.get('files')} files, "
                      f"{human_bytes(ret.get('bytes_added'))} added, {human_bytes(ret.get('total_bytes'))} total, "
                      f"{ret.get('duration', 0):.1f}s")
    return escape(f"{mid}: backup {job} FAILED: {ret.get('error')}")


def handle_snapshots(args: argparse.Namespace) -> int:
    from master import api
    from master.backups.api import snapshots
    from master.output import escape_controls as escape

    cfg = api.load_config(cli.require_config(args, "master"))
    out: dict[str, Any] = {}
    code = cli.EXIT_OK
    missing: dict[str, str] = {}
    for event in snapshots(cfg, args.target, args.job):
        if event["event"] == "job" and not event["minions"]:
            print(f"lpmaster backup snapshots: no accepted minion {args.target!r}", file=sys.stderr)
            return cli.EXIT_INCOMPLETE
        if event["event"] == "return":
            out[event["minion"]] = event["ret"]
            if not event["success"]:
                code = cli.EXIT_FAILED
        elif event["event"] == "done":
            missing = event.get("missing") or {}
    if args.json:
        cli.print_json(out)
    else:
        for mid, snaps in sorted(out.items()):
            if not isinstance(snaps, list):
                print(escape(f"{mid}: {snaps}"))
                continue
            print(escape(f"{mid}: {len(snaps)} snapshot(s) of {args.job}"))
            for snap in snaps:
                print(escape(f"  {snap.get('short_id')}  {str(snap.get('time'))[:19].replace('T', ' ')}  "
                             f"{snap.get('hostname')}  {'good' if snap.get('good') else 'FAILED'}  "
                             f"{' '.join(snap.get('paths') or [])}"))
    for mid, why in sorted(missing.items()):
        print(f"lpmaster backup snapshots: {escape(mid)} did not answer ({why})", file=sys.stderr)
    return cli.EXIT_INCOMPLETE if missing else code


# -- lpmaster restore ---------------------------------------------------------------------------

def handle_restore(args: argparse.Namespace) -> int:
    from master import api
    from master.backups.api import DEFAULT_RUN_TIMEOUT, restore
    from master.drift.api import targeted_minions
    from master.output import escape_controls as escape

    cfg = api.load_config(cli.require_config(args, "master"))
    matched = targeted_minions(cfg, args.target, "glob")
    if len(matched) != 1:
        print(f"lpmaster restore: TARGET must name one accepted minion; {args.target!r} matches "
              f"{len(matched)}", file=sys.stderr)
        return cli.EXIT_USAGE
    mid = matched[0]
    if args.to and not args.to.startswith("/"):
        print("lpmaster restore: --to needs an absolute path on the minion", file=sys.stderr)
        return cli.EXIT_USAGE
    if args.in_place and not args.yes:
        if not sys.stdin.isatty():
            print("lpmaster restore: --in-place overwrites live data; add --yes to confirm", file=sys.stderr)
            return cli.EXIT_USAGE
        answer = input(f"Restore {mid}'s {args.job} ({args.snapshot}) IN PLACE, replacing its current data? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("lpmaster restore: nothing done", file=sys.stderr)
            return cli.EXIT_FAILED
    started = time.monotonic()
    result: Any = None
    success = False
    missing: dict[str, str] = {}
    for event in restore(cfg, mid, args.job, snapshot=args.snapshot, to=args.to, in_place=args.in_place,
                         force=args.force, host=args.host, timeout=args.timeout or DEFAULT_RUN_TIMEOUT):
        if event["event"] == "return":
            result, success = event["ret"], bool(event["success"])
        elif event["event"] == "done":
            missing = event.get("missing") or {}
    if missing:
        print(f"lpmaster restore: {escape(mid)} did not answer ({missing.get(mid)})", file=sys.stderr)
        return cli.EXIT_INCOMPLETE
    if args.json:
        cli.print_json({mid: result})
    elif success and isinstance(result, dict):
        where = result.get("restored_to") or result.get("loaded_into")
        print(escape(f"{mid}: restored {args.job} snapshot {str(result.get('snapshot_id'))[:8]} "
                     f"({result.get('snapshot_time')}) to {where} in {time.monotonic() - started:.1f}s"))
    else:
        print(escape(f"{mid}: restore of {args.job} failed: {result}"), file=sys.stderr)
    return cli.EXIT_OK if success else cli.EXIT_FAILED
