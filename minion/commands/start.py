"""`lpminion start`: run the minion in the foreground (logs to stderr, stops on SIGTERM)."""
from __future__ import annotations

import argparse

from core import cli


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("start", help="run the minion daemon in the foreground",
                       description="Run the minion in the foreground: it registers with the master, waits to be accepted, converges on boot (startup_states), runs its schedule and drift checks, and answers jobs. Logs go to stderr; SIGTERM stops it. One daemon per config (a second is refused, naming the running pid).")
    cli.add_config_arg(p, "minion")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    import logging
    import os

    from core.config import load_minion
    from minion import daemon

    path = os.path.abspath(cli.require_config(args, "minion"))
    cfg = load_minion(path)
    os.environ[cli.config_env_var("minion")] = path  # the file minion.adopt_id rewrites (a rebuild)
    if args.log_level == "warning":
        logging.getLogger().setLevel(cfg.log_level.upper())
    return daemon.run(cfg)
