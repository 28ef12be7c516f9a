"""`lpmaster events [--follow] [--json]`: the master's event log.

Minion started, converged, drift found, drift cleared, key accepted, key revoked: the
newest events (--limit, default 100), oldest first; --follow keeps printing new ones.
"""
from __future__ import annotations

import argparse
import json
import sys

from core import cli


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("events", help="what happened: minions started, converged, drifted, keys changed",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_config_arg(p, "master")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing new events (Ctrl-C stops)")
    p.add_argument("--limit", type=int, default=100, help="how many past events to show first")
    p.add_argument("--json", action="store_true", help="one JSON object per line (with --follow too)")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from master import api
    from master.drift.api import follow_events, list_events
    from master.events import format_event

    cfg = api.load_config(cli.require_config(args, "master"))
    past = list_events(cfg, max(0, args.limit))

    def show(event) -> None:
        if args.json:
            sys.stdout.write(json.dumps(event.to_json(), sort_keys=True) + "\n")
        else:
            sys.stdout.write(format_event(event) + "\n")
        sys.stdout.flush()

    if args.json and not args.follow:
        cli.print_json([e.to_json() for e in past])
        return cli.EXIT_OK
    for event in past:
        show(event)
    if args.follow:
        newest = past or list_events(cfg, 1)   # --limit 0: start after the newest event
        last = newest[-1].id if newest else 0
        for event in follow_events(cfg, last):
            show(event)
    return cli.EXIT_OK
