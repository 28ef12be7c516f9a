"""`lpmaster run TARGET FUN [ARG ...]`: run a function on minions, streaming their returns.

Exit codes: 0 all targeted minions answered and succeeded, 1 some function failed,
2 some targeted minion did not answer, or no minion matched, or the master stopped while
waiting (the job id is printed: returns that arrive later are in `lpmaster jobs show`).

--json prints {minion: return}, and for a minion whose function failed
{minion: {"ret": ..., "retcode": N, "success": false}}; --out json|yaml prints Salt's
{minion: return}.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

from core import cli


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a function on the minions a target names", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_config_arg(p, "master")
    p.add_argument("target", metavar="TARGET")
    p.add_argument("fun", metavar="FUN", help="e.g. test.ping, cmd.run, grains.items")
    p.add_argument("args", nargs="*", metavar="ARG", help="positional args; key=value for keyword args")
    cli.add_target_args(p)
    p.add_argument("--timeout", type=float, default=None, help="seconds to wait for returns")
    cli.add_output_args(p, "print {minion_id: return} at the end; a failed minion's entry is "
                           "{ret, retcode, success}")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from master import api
    from master.output import job_warnings, minion_return_text, stopped_note
    from master.pendingmatch import no_match_message

    cfg = api.load_config(cli.require_config(args, "master"))
    arg, kwarg = api.split_args(args.args)
    fmt = cli.structured(args)
    progress = sys.stderr.isatty()
    returns: dict[str, Any] = {}
    failures: dict[str, dict[str, Any]] = {}
    expected: list[str] = []
    missing: dict[str, str] = {}
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
            missing = {mid: "the master stopped while waiting" for mid in expected if mid not in returns}
        elif kind == "job":
            jid, expected = event["jid"], list(event["minions"])
            if not expected:
                print(no_match_message(args.target, event.get("pending") or []), file=sys.stderr)
                return cli.EXIT_INCOMPLETE
        elif kind == "return":
            mid = event["minion"]
            returns[mid] = event["ret"]
            if not event["success"]:
                failures[mid] = {"ret": event["ret"], "retcode": event.get("retcode") or 1, "success": False}
            if event.get("stored") is False:
                unstored.append(mid)
            if progress:
                sys.stderr.write("\r\x1b[K")
            if fmt is None:
                print(minion_return_text(args.fun, mid, event["ret"], success=event["success"],
                                         retcode=event.get("retcode") or 0, color=sys.stdout.isatty()),
                      flush=True)
            if progress:
                sys.stderr.write(f"[{len(returns)}/{len(expected)} returned]")
                sys.stderr.flush()
        elif kind == "done":
            missing = event.get("missing", {})
            storage = event.get("storage")
            skew = event.get("clock_skew") or {}
            stopped = bool(event.get("stopping"))
    if progress:
        sys.stderr.write("\r\x1b[K")
    if fmt == "lp-json":
        cli.print_json({**returns, **failures})
    elif fmt is not None:
        cli.print_structured(returns, fmt)
    for warning in job_warnings(unstored, storage, skew):
        print(warning, file=sys.stderr)
    if missing:
        print(f"lpmaster: {len(missing)} of {len(expected)} minion(s) did not answer:", file=sys.stderr)
        for mid, why in missing.items():
            print(f"  {mid} ({why})", file=sys.stderr)
    if stopped:
        print(stopped_note(jid), file=sys.stderr)
    if missing or stopped:
        return cli.EXIT_INCOMPLETE
    return cli.EXIT_FAILED if failures else cli.EXIT_OK
