"""`lpmaster`: the master's command line. Thin: each command calls master.api or the daemon."""
from __future__ import annotations

import sys
from typing import Sequence

from core import cli

DESCRIPTION = """\
linkpeek-ops master: holds the state tree and secrets, accepts minion keys,
publishes jobs and collects what minions return.

  lpmaster init --dir /srv/lp            write a config and keys
  lpmaster -c /srv/lp/master.yaml serve  run the master (foreground)
  lpmaster -c ... keys list              see which minions asked to join
  lpmaster -c ... keys accept 'web*'     let them in
  lpmaster -c ... run '*' test.ping      run a function on minions
  lpmaster -c ... apply 'web*' --test    what converging would change (nothing is touched)
  lpmaster -c ... apply 'web*'           converge them to the state tree
  lpmaster -c ... drift --junit r.xml    who drifted from the blueprint (exit 2 if anyone)
  lpmaster -c ... drill web1 --onto scratch1   rehearse recovering web1, timed by phase
  lpmaster -c ... health 'web*'          run the health checks pillar declares (exit 2 if any fails)

Exit codes: 0 success, 1 something failed, 2 a minion did not answer (or drifted,
for `drift`), 64 a usage or config error.

Without -c, commands read $LPMASTER_CONFIG, else /etc/linkpeek-ops/master.yaml.
"""

# One module a command group; each defines register(subparsers).
COMMAND_MODULES = [
    "master.commands.init",
    "master.commands.serve",
    "master.commands.keys",
    "master.commands.run",
    "master.commands.jobs",
    "master.commands.status",
    "master.commands.secret",
    "master.commands.pillar",
    "master.commands.apply",
    "master.commands.drift",
    "master.commands.backups",
    "master.commands.events",
    "master.commands.drill",
    "master.commands.health",
]


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.build_parser("lpmaster", DESCRIPTION, COMMAND_MODULES,
                              only_for=sys.argv[1:] if argv is None else argv)
    return cli.run(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
