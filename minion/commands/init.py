"""`lpminion init --dir DIR --id ID --master HOST[:PORT] (--master-finger FP | --trust-first-use)`."""
from __future__ import annotations

import argparse
import os

from core.cli import EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="write a minion config and keys into a directory",
                       description="Write DIR/minion.yaml (or the file -c names, e.g. "
                                   "/etc/linkpeek-ops/minion.yaml) and this minion's keys in DIR/pki.")
    p.add_argument("--dir", required=True, help="root directory for all minion state")
    p.add_argument("--id", required=True, help="this minion's id (letters, digits, '.', '_', '-')")
    p.add_argument("--master", required=True, metavar="HOST[:PORT]",
                   help="the master's address and request port (default port 4606)")
    trust = p.add_mutually_exclusive_group()
    trust.add_argument("--master-finger", metavar="FP",
                       help="the master key fingerprint (`lpmaster keys finger --master`)")
    trust.add_argument("--trust-first-use", action="store_true",
                       help="record whatever key the master presents first (explicit choice)")
    p.add_argument("--key-port", type=int, default=None,
                   help="the master's key port (default: the request port + 1, so 4607)")
    p.add_argument("--grain", action="append", default=[], metavar="KEY=VALUE", help="a custom grain; a value with commas is a list (--grain roles=web,db)")
    p.add_argument("--heartbeat", type=float, default=None, help="heartbeat interval in seconds")
    p.add_argument("--startup-states", default=None, metavar="WHAT",
                   help="converge on boot: highstate (default), none, or comma-separated SLS names")
    p.add_argument("--key", metavar="FILE", default=None,
                   help="use this secret key (from `lpmaster keys gen ID`, already accepted "
                        "there) instead of generating one")
    p.add_argument("--force", action="store_true", help="overwrite an existing config and keys")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from core.errors import ConfigError
    from minion.enroll import init_minion

    grains = {}
    for item in args.grain:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--grain wants KEY=VALUE, got {item!r}")
        grains[key] = [v.strip() for v in value.split(",") if v.strip()] if "," in value else value
    cfg = init_minion(args.dir, args.id, args.master, master_finger=args.master_finger,
                      trust_first_use=args.trust_first_use, key_port=args.key_port, grains=grains,
                      force=args.force, heartbeat_interval=args.heartbeat,
                      startup_states=args.startup_states, config_path=args.config,
                      key_file=args.key)
    path = args.config or os.path.join(cfg.root, "minion.yaml")
    print(f"wrote {path}")
    print(f"next: lpminion -c {path} start")
    return EXIT_OK
