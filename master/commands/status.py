"""`lpmaster status`: each accepted minion up or down, and when it was last seen.

Exit 0 when the master is running and can write its store; 1 when it is not running (then
no minion is shown as up: the last-seen times come from the job store, and nobody can be
reached) or its storage is full.
"""
from __future__ import annotations

import argparse
import sys
import time

from core import cli


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="which minions are up, and when each was last seen",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_config_arg(p, "master")
    p.add_argument("--json", action="store_true", help="print {minion_id: {up, last_seen}}")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from master import api

    master, states = api.fleet_status(api.load_config(cli.require_config(args, "master")))
    if not master["running"]:
        print(f"lpmaster: {master['error']}; minions are shown as last recorded, none can be reached "
              "(start it: lpmaster serve)", file=sys.stderr)
    storage = master.get("storage") or {}
    if storage:
        since = time.strftime("%H:%M:%S", time.localtime(storage.get("since") or time.time()))
        print(f"lpmaster: the master's storage is {storage.get('problem')} since {since} "
              f"({storage.get('error')}): returns and reports wait on the minions until it can store "
              "them; free space for the master's database", file=sys.stderr)
    from master.clockskew import skew_warning

    skew = master.get("clock_skew") or {}
    warning = skew_warning(skew)
    if warning:
        print(warning, file=sys.stderr)
    healthy = master["running"] and not storage
    if args.json:
        cli.print_json(states)
        return cli.EXIT_OK if healthy else cli.EXIT_FAILED
    now = time.time()
    for mid, info in states.items():
        seen = info["last_seen"]
        ago = f"last seen {now - seen:.0f}s ago" if seen else "never seen"
        off = skew.get(mid)
        clock = f"  clock {off:+.0f}s off the master's" if off is not None else ""
        print(f"{mid:30} {'up' if info['up'] else 'down':5} {ago}{clock}")
    up = sum(1 for i in states.values() if i["up"])
    print(f"{up} up, {len(states) - up} down" + ("" if master["running"] else " (the master is not running)"))
    return cli.EXIT_OK if healthy else cli.EXIT_FAILED
