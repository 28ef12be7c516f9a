"""`lpmaster apply TARGET [SLS ...]`: converge minions from the master's tree and pillar.

Each targeted minion fetches what it needs of the state tree, gets its own pillar, runs,
and returns Salt's state return; each minion's highstate output is printed as it
arrives, then the fleet summary. Exit 0 all good, 1 a state failed, 2 a minion did not
answer; with --detailed-exitcodes, Puppet's 0/2/4/6 (a minion that did not answer counts as a
failure: 4).
"""
from __future__ import annotations

import argparse
import sys

from core import cli

DEFAULT_TIMEOUT_S = 60.0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("apply", help="converge minions to the state tree (highstate or SLS)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_config_arg(p, "master")
    p.add_argument("target", metavar="TARGET")
    p.add_argument("sls", nargs="*", metavar="SLS", help="SLS names; none: the highstate (top.sls)")
    p.add_argument("--test", action="store_true", help="show what would change, change nothing")
    cli.add_target_args(p)
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S,
                   help=f"seconds to wait for the minions (default {DEFAULT_TIMEOUT_S:g})")
    p.add_argument("--strict", action="store_true",
                   help="an unknown state argument or a bad value fails the compile "
                        "(default: a warning in the state's return; master.yaml strict_arguments)")
    cli.add_output_args(p, "print {minion_id: {state_key: return}}")
    p.add_argument("--verbose", action="store_true", help="show every state, not only changes and failures")
    p.add_argument("--detailed-exitcodes", action="store_true",
                   help="exit 0 nothing changed, 2 changes, 4 failures, 6 both (Puppet's convention)")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from master import api
    from master.fleet import FleetSummary
    from master.output import escape_controls, job_warnings, minion_return_text, stopped_note
    from master.pendingmatch import no_match_message

    cfg = api.load_config(cli.require_config(args, "master"))
    fun = "state.apply" if args.sls else "state.highstate"
    kwarg: dict[str, object] = {"test": True} if args.test else {}
    if args.strict or cfg.strict_arguments:
        kwarg["strict"] = True
    color = sys.stdout.isatty()
    fmt = cli.structured(args)
    progress = sys.stderr.isatty() and fmt is None
    fleet = FleetSummary(targeted=[])
    returns: dict[str, object] = {}
    jid = ""
    unstored: list[str] = []
    errors_seen: dict[tuple[str, ...], str] = {}
    storage = None
    skew: dict[str, float] = {}
    stopped = False
    events = api.run_job(cfg, args.target, fun, list(args.sls), kwarg, args.tgt_type, args.timeout)
    for event in cli.until_master_gone(events, lambda: jid):
        kind = event["event"]
        if kind == "gone":
            stopped = True
            fleet.missing = {mid: "the master stopped while waiting" for mid in fleet.targeted
                             if mid not in returns}
        elif kind == "job":
            jid = event["jid"]
            fleet.targeted = list(event["minions"])
            if not fleet.targeted:
                print(no_match_message(args.target, event.get("pending") or []), file=sys.stderr)
                return 4 if args.detailed_exitcodes else cli.EXIT_INCOMPLETE
        elif kind == "return":
            mid, ret = event["minion"], event["ret"]
            returns[mid] = ret
            if event.get("stored") is False:
                unstored.append(mid)
            fleet.add(mid, bool(event["success"]), ret)
            if progress:
                sys.stderr.write("\r\x1b[K")
            if fmt is None:
                error_key = _error_key(ret)
                same = errors_seen.get(error_key)
                if same is not None:   # a bad top.sls or SLS: said once, not once per minion
                    print(f"{escape_controls(mid)}: not compiled, the same error(s) as {escape_controls(same)}",
                          flush=True)
                else:
                    print(minion_return_text(fun, mid, ret, success=event["success"], verbose=args.verbose,
                                             color=color), flush=True)
                    if error_key is not None:
                        errors_seen[error_key] = mid
            if progress:
                sys.stderr.write(f"[{len(returns)}/{len(fleet.targeted)} returned]")
                sys.stderr.flush()
        elif kind == "done":
            fleet.missing = dict(event.get("missing", {}))
            storage = event.get("storage")
            skew = event.get("clock_skew") or {}
            stopped = bool(event.get("stopping"))
        elif kind == "error":
            print(f"lpmaster: error: {event.get('error')}", file=sys.stderr)
            return cli.EXIT_FAILED
    if progress:
        sys.stderr.write("\r\x1b[K")
    if fmt is not None:
        cli.print_structured(returns, "json" if fmt == "lp-json" else fmt)
    else:
        print(fleet.text(test=args.test))
        if jid:
            print(f"Job id: {jid} (lpmaster jobs show {jid})")
    for mid, why in sorted(fleet.missing.items()):
        print(f"lpmaster: {escape_controls(mid)} did not answer ({why})", file=sys.stderr)
    for warning in job_warnings(unstored, storage, skew):
        print(warning, file=sys.stderr)
    if stopped:
        print(stopped_note(jid), file=sys.stderr)
    return fleet.exit_code(detailed=args.detailed_exitcodes)


def _error_key(ret: object) -> tuple[str, ...] | None:
    """A run that did not compile returns its errors as a list of strings: their key, else None."""
    if isinstance(ret, list) and ret and all(isinstance(x, str) for x in ret):
        return tuple(ret)
    return None
