"""`lpmaster jobs list|show JID`: jobs and their returns from the job store."""
from __future__ import annotations

import argparse
import sys
import time

from core import cli


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("jobs", help="past jobs and their returns",
                       description="Jobs from the job store (read directly; the master need not run): what ran where, by whom, and every minion's return, failed or lost.")
    cli.add_config_arg(p, "master")
    jsub = p.add_subparsers(dest="jobs_command", metavar="ACTION")
    jsub.required = True
    lp = jsub.add_parser("list", help="recent jobs, newest first",
                         description="Recent jobs, newest first: id, function, target, user, and how many minions returned.")
    cli.add_config_arg(lp, "master")
    lp.add_argument("--limit", type=int, default=50)
    lp.add_argument("--json", action="store_true")
    lp.set_defaults(func=handle_list)
    sp = jsub.add_parser("show", help="one job with every return",
                         description="One job (the id `run` and `apply` print) with every minion's return; a minion cut off mid-job shows as lost.")
    cli.add_config_arg(sp, "master")
    sp.add_argument("jid")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=handle_show)


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def handle_list(args: argparse.Namespace) -> int:
    from master import api

    jobs = api.list_jobs(api.load_config(cli.require_config(args, "master")), args.limit)
    if args.json:
        cli.print_json(jobs)
        return cli.EXIT_OK
    for job in jobs:
        print(f"{job['jid']}  {_when(job['created'])}  {job['fun']}  target={job['tgt']!r}"
              f"  returned {job['returned']}/{len(job['minions'])}")
    return cli.EXIT_OK


def handle_show(args: argparse.Namespace) -> int:
    from master import api
    from master.output import escape_controls, minion_return_text

    job = api.show_job(api.load_config(cli.require_config(args, "master")), args.jid)
    if job is None:
        print(f"lpmaster: no job {args.jid!r}", file=sys.stderr)
        return cli.EXIT_FAILED
    if args.json:
        cli.print_json(job)
        return cli.EXIT_OK
    # a schedule's job carries the arguments its minion sent: escaped, as every minion text
    print(escape_controls(f"jid: {job['jid']}\nfunction: {job['fun']} {' '.join(map(str, job['arg']))}\n"
                          f"target: {job['tgt']} ({job['tgt_type']})\ncreated: {_when(job['created'])}"))
    for mid in job["minions"]:
        ret = job["returns"].get(mid)
        if ret is None:
            print(f"{mid}:\n    (no return)")
        else:
            print(minion_return_text(job["fun"], mid, ret["ret"], success=ret["success"],
                                     retcode=ret.get("retcode") or 0, color=sys.stdout.isatty()))
    return cli.EXIT_OK
