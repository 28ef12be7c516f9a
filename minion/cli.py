"""`lpminion`: the minion's command line. Thin: each command calls a library function."""
from __future__ import annotations

import sys
from typing import Sequence

from core import cli

DESCRIPTION = """\
linkpeek-ops minion: converges this host to its states, runs jobs from the master.

  lpminion init --dir /etc/lp --id web1 --master lp.example.org --master-finger FP
  lpminion -c /etc/lp/minion.yaml start             run the minion (foreground)
  lpminion -c /etc/lp/minion.yaml apply --test      this host's highstate from the master, dry run
  lpminion apply --local --state-tree ./states      converge from a local tree, no master
  lpminion apply --local --test                     show what would change, change nothing
  lpminion show lowstate --state-tree ./states      print the compiled plan

Without -c, commands read $LPMINION_CONFIG, else /etc/linkpeek-ops/minion.yaml.
"""

COMMAND_MODULES = [
    "minion.commands.init",
    "minion.commands.start",
    "minion.commands.apply",
    "minion.commands.show",
]


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.build_parser("lpminion", DESCRIPTION, COMMAND_MODULES,
                              only_for=sys.argv[1:] if argv is None else argv)
    return cli.run(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
