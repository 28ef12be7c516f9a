"""`lpmaster health TARGET [--json] [--address ADDR]`: run the health checks each targeted
minion's pillar declares (`health: checks:`), http and tcp from the master, command checks
on the minion as a job.

    lpmaster health 'web*'
    lpmaster health dev1 --json
    lpmaster health web1 --address 10.0.0.7      # web1's checks against another host

Exit codes: 0 every check of every targeted minion passed; 2 a check failed, a minion's
checks could not be read, or no minion matched; 64 a usage or config error.
"""
from __future__ import annotations

import argparse
import sys

from core import cli


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("health", help="run the health checks pillar declares for minions",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_config_arg(p, "master")
    p.add_argument("target", metavar="TARGET", help="minions whose checks to run")
    cli.add_target_args(p)
    p.add_argument("--address", help="check this address instead of the minion's own")
    p.add_argument("--json", action="store_true", help="print {minion: {healthy, checks: {...}}}")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from core.errors import LinkpeekError
    from master import api
    from master.drift.api import targeted_minions
    from master.health.run import HealthReport, MasterHealthServices, pillar_health, run_checks
    from master.output import escape_controls

    cfg = api.load_config(cli.require_config(args, "master"))
    minions = targeted_minions(cfg, args.target, args.tgt_type)
    if not minions:
        print("lpmaster health: no accepted minion matched the target", file=sys.stderr)
        return cli.EXIT_INCOMPLETE
    services = MasterHealthServices(cfg)
    reports: list[HealthReport] = []
    for mid in minions:
        try:
            report = run_checks(services, pillar_health(cfg, mid), mid, args.address)
        except LinkpeekError as exc:
            report = HealthReport(mid, args.address, error=f"pillar: {exc}")
        reports.append(report)
        if not args.json:
            mark = "healthy" if report.healthy else "UNHEALTHY"
            print(escape_controls(f"{mid}: {mark}" + (f" ({report.address})" if report.address else "")))
            if report.error:
                print(escape_controls(f"    error: {report.error}"))
            if not report.results and not report.error:
                print("    no checks declared (pillar health:checks)")
            for r in report.results:
                print(escape_controls(f"    {'ok  ' if r.healthy else 'FAIL'} {r.name} ({r.type}, "
                                      f"{r.duration:.2f}s): {r.detail}"))
    if args.json:
        cli.print_json({r.minion: r.to_json() for r in reports})
    return cli.EXIT_OK if all(r.healthy for r in reports) else cli.EXIT_INCOMPLETE
