"""`lpmaster pillar show ID [--json]`: the pillar a minion receives, secrets shown as ***.

Compiled here from the pillar tree with the grains the master stored for that minion;
reading it needs the master's secrets key (so, the master's user).
"""
from __future__ import annotations

import argparse
import sys

from core import cli


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("pillar", help="show a minion's pillar (secrets masked)",
                            description="What pillar the master compiles for a minion, with every secret shown as ***.")
    actions = parser.add_subparsers(dest="pillar_command", metavar="ACTION")
    actions.required = True
    show = actions.add_parser("show", help="print the pillar that minion ID gets",
                              description="Print the pillar minion ID gets (pillar/top.sls, its grains as last reported), secrets masked.")
    cli.add_config_arg(show, "master")
    show.add_argument("minion_id", metavar="ID")
    show.add_argument("--json", action="store_true", help="print it as JSON")
    show.set_defaults(func=handle_show)


def handle_show(args: argparse.Namespace) -> int:
    from core.config import load_master
    from master.pillar import masked_pillar

    cfg = load_master(cli.require_config(args, "master"))
    pillar, known = masked_pillar(cfg, args.minion_id)
    if not known:
        print(f"lpmaster: warning: no grains known for {args.minion_id!r} (never connected?); "
              "compiled with its id only", file=sys.stderr)
    if args.json:
        cli.print_json(pillar)
        return cli.EXIT_OK
    import yaml

    from master.output import escape_controls

    text = yaml.safe_dump(pillar, default_flow_style=False, sort_keys=True, allow_unicode=True)
    print(escape_controls(f"{args.minion_id}:\n" + "".join(f"    {line}\n" for line in
                                                          text.splitlines() if pillar)).rstrip("\n"))
    return cli.EXIT_OK
