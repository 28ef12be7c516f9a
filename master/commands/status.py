"""`lpmaster status`: each accepted minion up or down, and when it was last seen."""
from __future__ import annotations

import argparse
import time

from core import cli


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="which minions are up, and when each was last seen")
    cli.add_config_arg(p, "master")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from master import api

    states = api.status(api.load_config(cli.require_config(args, "master")))
    if args.json:
        cli.print_json(states)
        return cli.EXIT_OK
    now = time.time()
    for mid, info in states.items():
        seen = info["last_seen"]
        ago = f"last seen {now - seen:.0f}s ago" if seen else "never seen"
        print(f"{mid:30} {'up' if info['up'] else 'down':5} {ago}")
    up = sum(1 for i in states.values() if i["up"])
    print(f"{up} up, {len(states) - up} down")
    return cli.EXIT_OK
