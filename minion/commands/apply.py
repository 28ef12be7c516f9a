"""`lpminion apply`: converge this host, from the master's tree (Salt's `salt-call
state.apply`) or, with --local, from a local state tree without a master.

    lpminion apply                                    this host's highstate, from the master
    lpminion apply web.nginx --test                   what one SLS would change, change nothing
    lpminion apply --local --state-tree ./states --pillar-tree ./pillar          highstate (top.sls)
    lpminion apply --local --state-tree ./states --test web.nginx                dry run of one SLS
    lpminion apply --local --json                                                Salt's state return

From the master: the minion's own key over the daemon's channel (-c or the default config),
this minion's pillar only; it waits (up to a minute) for a state run the daemon is doing.

Exit codes: 0 every state succeeded, 1 some state failed (or, with --local, another run
holds the lock), 2 nothing was changed: the tree or pillar did not compile, the master did
not answer, or another run held the lock; 64 a usage or config error (a key the master has
not accepted).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from core.cli import add_config_arg, add_output_args


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "apply",
        help="converge this host from a local state tree (--local)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_arg(parser, "minion")
    parser.add_argument(
        "sls", nargs="*", metavar="SLS", help="SLS names (default: the highstate from top.sls)"
    )
    parser.add_argument(
        "--local",
        action="store_true",
        help="use a local state tree and pillar, no master (default: ask the master)",
    )
    parser.add_argument(
        "--state-tree", default=None, metavar="DIR", help="the state tree (default: ./states)"
    )
    parser.add_argument(
        "--pillar-tree", default=None, metavar="DIR", help="a local pillar tree (default: none)"
    )
    parser.add_argument(
        "--grains",
        default=None,
        metavar="FILE",
        help="grains as a YAML/JSON mapping (default: this host's grains)",
    )
    parser.add_argument(
        "--id", default=None, metavar="ID", help="the minion id (default: config, else hostname)"
    )
    parser.add_argument(
        "--cachedir",
        default=None,
        metavar="DIR",
        help="where the run lock lives (default: the config's cache dir, else /var/cache/lpminion)",
    )
    parser.add_argument(
        "--test", action="store_true", help="report what would change, change nothing"
    )
    parser.add_argument("--failhard", action="store_true", help="stop at the first failed state")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="an unknown state argument or a bad value is a compile error (exit 2); default: "
        "a warning in the state's return (minion.yaml: strict_arguments: true)",
    )
    add_output_args(parser, "print Salt's state return as JSON")
    parser.add_argument(
        "--verbose", action="store_true", help="show every state, not only changed and failed"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from minion.local import apply_local
    from minion.state.localinputs import DEFAULT_STATE_TREE

    if not args.local:
        from minion.commands.apply_master import run_from_master

        return run_from_master(args)
    minion_id, cachedir, grains = args.id, args.cachedir, args.grains
    strict = args.strict
    nodegroups: dict[str, Any] = {}
    from core.cli import find_config

    found = find_config(args, "minion")
    if found is not None:
        from core.config import load_minion

        cfg = load_minion(found[0])
        minion_id = minion_id or cfg.id
        cachedir = cachedir or cfg.cache_dir
        strict = strict or cfg.strict_arguments
        nodegroups = dict(cfg.nodegroups)
        if grains is None and cfg.grains:
            from minion.grains import collect

            grains = collect(minion_id, cfg.grains)
    results, code = apply_local(
        args.state_tree or DEFAULT_STATE_TREE,
        args.pillar_tree,
        grains,
        minion_id,
        args.sls,
        args.test,
        cachedir,
        failhard=args.failhard,
        opts={"strict_arguments": strict, "nodegroups": nodegroups},
    )
    print_results(args, "local", results)
    return code


def print_results(args: argparse.Namespace, minion_id: str, results: Any) -> None:
    """--json: Salt's state return; --out json|yaml: salt-call's {"local": return}; else text."""
    from core.cli import print_json, print_structured, structured

    fmt = structured(args)
    if fmt == "lp-json":
        print_json(results)
    elif fmt:
        print_structured({"local": results}, fmt)
    else:
        from core.stateoutput import format_highstate

        sys.stdout.write(
            format_highstate(minion_id, results, verbose=args.verbose, color=sys.stdout.isatty())
            + "\n"
        )
