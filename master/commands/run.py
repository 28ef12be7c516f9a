"""`lpmaster run TARGET FUN [ARG ...]`: run a function on minions, streaming their returns.

Exit codes: 0 all targeted minions answered and succeeded, 1 some function failed,
2 some targeted minion did not answer (or no minion matched).
"""
from __future__ import annotations

import argparse
import sys

from core import cli


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a function on the minions a target names")
    cli.add_config_arg(p, "master")
    p.add_argument("target", metavar="TARGET")
    p.add_argument("fun", metavar="FUN", help="e.g. test.ping, cmd.run, grains.items")
    p.add_argument("args", nargs="*", metavar="ARG", help="positional args; key=value for keyword args")
    cli.add_target_args(p)
    p.add_argument("--timeout", type=float, default=None, help="seconds to wait for returns")
    p.add_argument("--json", action="store_true", help="print {minion_id: return} at the end")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from master import api
    from master.output import minion_return_text
    from master.clockskew import skew_warning
    from master.storage import unstored_warning

    cfg = api.load_config(cli.require_config(args, "master"))
    arg, kwarg = api.split_args(args.args)
    progress = sys.stderr.isatty()
    returns: dict[str, object] = {}
    failed = False
    expected = 0
    missing: dict[str, str] = {}
    waiting_for: set[str] = set()
    unstored: list[str] = []
    storage = None
    skew: dict[str, float] = {}
    jid = ""
    stopped = False
    events = api.run_job(cfg, args.target, args.fun, arg, kwarg, args.tgt_type, args.timeout)
    for event in cli.until_master_gone(events, lambda: jid):
        kind = event["event"]
        if kind == "gone":
            stopped = True
            missing = {mid: "the master stopped while waiting" for mid in waiting_for - set(returns)}
        elif kind == "job":
            jid = event["jid"]
            waiting_for = set(event["minions"])
            expected = len(event["minions"])
            if not expected:
                print("lpmaster: no minions matched the target", file=sys.stderr)
                return cli.EXIT_INCOMPLETE
        elif kind == "return":
            mid = event["minion"]
            returns[mid] = event["ret"]
            if event.get("stored") is False:
                unstored.append(mid)
            failed = failed or not event["success"]
            if progress:
                sys.stderr.write("\r\x1b[K")
            if not args.json:
                print(minion_return_text(args.fun, mid, event["ret"], success=event["success"],
                                         retcode=event.get("retcode") or 0, color=sys.stdout.isatty()),
                      flush=True)
            if progress:
                sys.stderr.write(f"[{len(returns)}/{expected} returned]")
                sys.stderr.flush()
        elif kind == "done":
            missing = event.get("missing", {})
            storage = event.get("storage")
            skew = event.get("clock_skew") or {}
            stopped = bool(event.get("stopping"))
    if progress:
        sys.stderr.write("\r\x1b[K")
    if args.json:
        cli.print_json(returns)
    for warning in (unstored_warning(unstored, storage), skew_warning(skew)):
        if warning:
            print(warning, file=sys.stderr)
    if missing:
        print(f"lpmaster: {len(missing)} of {expected} minion(s) did not answer:", file=sys.stderr)
        for mid, why in missing.items():
            print(f"  {mid} ({why})", file=sys.stderr)
    if stopped:
        print(f"lpmaster: the master stopped before every minion answered; returns that arrive later "
              f"are in the job store: lpmaster jobs show {jid}", file=sys.stderr)
    if missing or stopped:
        return cli.EXIT_INCOMPLETE
    return cli.EXIT_FAILED if failed else cli.EXIT_OK
