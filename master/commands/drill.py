"""`lpmaster drill SOURCE --onto SCRATCH`, `lpmaster rebuild LOST --onto NEW`, `lpmaster drills`.

A drill rehearses recovering SOURCE: SCRATCH (an accepted minion marked scratch, by a
`scratch: true` grain or master.yaml's `scratch:` list) is converged to SOURCE's role with
SOURCE's pillar, restores SOURCE's latest backups and must pass SOURCE's health checks; each
phase is timed. SOURCE is not touched; its backup repository is only read. A rebuild does the
same onto NEW, then NEW takes LOST's id (its key accepted as LOST, LOST's old key revoked).

Exit codes: 0 passed, 1 a phase failed or the drill was refused (the message says why),
64 a usage or config error. `lpmaster drills` lists results; a host whose last passing drill
is older than drill_max_age (master.yaml, default 8d) shows in `lpmaster drift`.
"""
from __future__ import annotations

import argparse
import sys

from core import cli


def register(sub: argparse._SubParsersAction) -> None:
    for name, help_text, what, onto in (
            ("drill", "rehearse recovering a host onto a scratch host, timed by phase", "SOURCE", "SCRATCH"),
            ("rebuild", "recover a lost host onto a new one, which then takes its id", "LOST", "NEW")):
        p = sub.add_parser(name, help=help_text, description=__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        cli.add_config_arg(p, "master")
        p.add_argument("source", metavar=what, help="the host whose role and backups are recovered")
        p.add_argument("--onto", required=True, metavar=onto, help="the accepted scratch host to recover onto")
        p.add_argument("--yes", "-y", action="store_true", help=f"do not ask before {onto} gets {what}'s secrets")
        p.add_argument("--json", action="store_true", help="print the result as JSON (phases, times, why)")
        if name == "rebuild":
            p.add_argument("--force", action="store_true", help="rebuild even though LOST still answers")
        p.set_defaults(func=handle_drill, rebuild=name == "rebuild")

    p = sub.add_parser("drills", help="recorded drills and rebuilds, with phases and times",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_config_arg(p, "master")
    p.add_argument("target", nargs="?", default="*", metavar="TARGET", help="source or scratch host glob")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=handle_list)


def handle_drill(args: argparse.Namespace) -> int:
    from master import api
    from master.drills import view
    from master.drills.api import drill, secrets_warning
    from master.output import escape_controls

    cfg = api.load_config(cli.require_config(args, "master"))
    print(secrets_warning(args.source, args.onto, args.rebuild), file=sys.stderr)
    if not args.yes:
        sys.stderr.write("Proceed? [y/N] ")
        sys.stderr.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            print("nothing done", file=sys.stderr)
            return cli.EXIT_FAILED
    progress = not args.json
    result = None
    for event in drill(cfg, args.source, args.onto, rebuild=args.rebuild, force=getattr(args, "force", False)):
        kind = event.get("event")
        if kind == "drill" and progress:
            print(f"{event['kind']} of {escape_controls(str(event['source']))} onto "
                  f"{escape_controls(str(event['onto']))}", flush=True)
        elif kind == "phase_started" and progress:
            print(f"  ...  {event['phase']}", file=sys.stderr, flush=True)
        elif kind == "phase" and progress:
            print(view.phase_line(event), flush=True)
        elif kind == "done":
            result = event["result"]
    if result is None:
        print("lpmaster: the master ended the drill without a result", file=sys.stderr)
        return cli.EXIT_FAILED
    if args.json:
        cli.print_json(result)
    else:
        print("\n".join(view.summary_lines(result)))
    return cli.EXIT_OK if result.get("passed") else cli.EXIT_FAILED


def handle_list(args: argparse.Namespace) -> int:
    from master import api
    from master.drills.api import list_drills
    from master.drills.view import drills_table

    cfg = api.load_config(cli.require_config(args, "master"))
    results = list_drills(cfg, args.target, args.limit)
    if args.json:
        cli.print_json(results)
    else:
        sys.stdout.write(drills_table(results))
    return cli.EXIT_OK
