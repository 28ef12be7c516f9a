"""`lpmaster serve`: run the master in the foreground (logs to stderr, stops on SIGTERM)."""
from __future__ import annotations

import argparse

from core import cli


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the master daemon in the foreground",
                       description="Run the master in the foreground: it serves minions (requests and job publication over CurveZMQ) and the local control socket the other commands use. Logs go to stderr; SIGTERM or Ctrl-C stops it, telling waiting commands first. One master per config (a second one is refused, naming the running pid).")
    cli.add_config_arg(p, "master")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    import logging

    from core.config import load_master
    from master import daemon

    cfg = load_master(cli.require_config(args, "master"))
    if args.log_level == "warning":  # the daemon's default is its config's level
        logging.getLogger().setLevel(cfg.log_level.upper())
    return daemon.run(cfg)
