"""`lpminion apply` without --local: the highstate (or named SLS) from the master, run here."""
from __future__ import annotations

import argparse
import sys

from core.cli import EXIT_INCOMPLETE, EXIT_USAGE

LOCAL_ONLY = ("state_tree", "pillar_tree", "grains", "id", "cachedir")
# minion.remote_apply's retcodes -> this command's exit codes (the README's table)
EXIT_FOR = {0: 0, 2: 1, 1: EXIT_INCOMPLETE}


def run_from_master(args: argparse.Namespace) -> int:
    from core.cli import require_config
    from core.config import load_minion
    from core.errors import TransportError
    from minion.master_call import apply_from_master

    given = [f"--{name.replace('_', '-')}" for name in LOCAL_ONLY if getattr(args, name, None)]
    if given:
        print(f"lpminion apply: {', '.join(given)} needs --local; without it the master's tree, "
              f"pillar and this minion's config are used", file=sys.stderr)
        return EXIT_USAGE
    cfg = load_minion(require_config(args, "minion"))
    try:
        outcome = apply_from_master(cfg, args.sls, test=args.test, strict=args.strict, failhard=args.failhard)
    except TransportError as exc:
        print(f"lpminion apply: {exc}", file=sys.stderr)
        return EXIT_INCOMPLETE
    from minion.commands.apply import print_results

    print_results(args, cfg.id, outcome.ret)
    return EXIT_FOR.get(outcome.retcode, 1)
