"""What both CLIs share: subcommand registration, --json printing, error-to-exit-code translation.

Each command module defines `register(subparsers)`, adding its parser and
`set_defaults(func=handler)`; a handler takes the parsed args and returns an exit code.
Command modules import heavy libraries inside their handlers, so `--help` and quick
commands start fast.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any, Callable, Iterator, NoReturn, Sequence

from core.errors import ConfigError, LinkpeekError

EXIT_OK = 0
EXIT_FAILED = 1       # something ran and failed
EXIT_INCOMPLETE = 2   # something did not answer / did not compile (per command's docs)
EXIT_USAGE = 64       # bad invocation or config (EX_USAGE; never 2, which CI reads as drift/no answer)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error exits 64: exit 2 already means "did not answer" or "drifted"."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser(prog: str, description: str, command_modules: Sequence[str],
                 only_for: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The CLI's parser. `only_for`: the argv it will parse; when it names a command whose
    module is called so (`start` in minion.commands.start), only that module is loaded
    (a daemon or `lpmaster run` does not build every other command's parser)."""
    what = prog.removeprefix("lp")
    parser = _Parser(prog=prog, description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-c", "--config", metavar="CONFIG", default=None,
                        help="the config file written by `init` (also accepted after the command); "
                             f"without it, ${config_env_var(what)}, else "
                             f"{DEFAULT_CONFIG_DIR}/{what}.yaml")
    parser.add_argument("--log-level", default="warning",
                        choices=["debug", "info", "warning", "error"], help="stderr log level")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for modname in _modules_for(available_modules(command_modules), only_for):
        importlib.import_module(modname).register(sub)
    return parser


_GLOBAL_WITH_VALUE = frozenset({"-c", "--config", "--log-level"})


def _modules_for(modules: list[str], argv: Sequence[str] | None) -> list[str]:
    """The one module named like argv's command, else all (top-level help, a typo, a
    command registered by a module of another name)."""
    if argv is None:
        return modules
    words = iter(argv)
    for word in words:
        if word in ("-h", "--help"):
            return modules
        if word in _GLOBAL_WITH_VALUE:
            next(words, None)
        elif not word.startswith("-"):
            named = [m for m in modules if m.rpartition(".")[2] == word]
            return named or modules
    return modules


def run(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    import logging

    args = parser.parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level.upper()),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stderr)
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()   # a closed pipe shows here, not in the interpreter's exit
        return code
    except BrokenPipeError:
        return _closed_pipe()
    except KeyboardInterrupt:
        return 130
    except LinkpeekError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, ConfigError) else EXIT_FAILED


EXIT_CLOSED_PIPE = 141   # as a shell tool killed by SIGPIPE (`lpmaster keys list | head -1`)


def _closed_pipe() -> int:
    """The reader of our output went away: stop quietly (no traceback, no second error at exit)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_CLOSED_PIPE


def until_master_gone(events: Iterator[dict[str, Any]], jid: Callable[[], str]) -> Iterator[dict[str, Any]]:
    """The events of a job the CLI waits on; once the job is published (`jid()` is set), a master
    that goes away mid-stream ends them with one {"event": "gone"} instead of an error, so the
    command can exit 2 with the job id (its returns still reach the store)."""
    from core.errors import TransportError

    try:
        yield from events
    except TransportError:
        if not jid():
            raise
        yield {"event": "gone"}


def print_json(data: Any) -> None:
    import json

    json.dump(data, sys.stdout, indent=2, sort_keys=True, default=str)
    sys.stdout.write("\n")
    sys.stdout.flush()


def add_config_arg(parser: argparse.ArgumentParser, what: str) -> None:
    """Let a subcommand take -c after its name too (`lpmaster keys list -c X`)."""
    parser.add_argument("-c", "--config", metavar="CONFIG", default=argparse.SUPPRESS,
                        help=f"path to the {what} config written by `init` (e.g. DIR/{what}.yaml)")


DEFAULT_CONFIG_DIR = "/etc/linkpeek-ops"


def config_env_var(what: str) -> str:
    return f"LP{what.upper()}_CONFIG"


def find_config(args: argparse.Namespace, what: str) -> tuple[str, str] | None:
    """The config to use and where it came from: -c, then $LP<WHAT>_CONFIG, then the default.

    The default path counts only when it exists, so a caller can tell "none at all" apart."""
    explicit = getattr(args, "config", None)
    if explicit:
        return str(explicit), "-c"
    env = os.environ.get(config_env_var(what))
    if env:
        return env, config_env_var(what)
    default = os.path.join(DEFAULT_CONFIG_DIR, f"{what}.yaml")
    if os.path.exists(default):
        return default, "default"
    return None


def require_config(args: argparse.Namespace, what: str) -> str:
    """-c CONFIG, else $LP<WHAT>_CONFIG, else /etc/linkpeek-ops/<what>.yaml (Salt's order)."""
    found = find_config(args, what)
    if found is None:
        default = os.path.join(DEFAULT_CONFIG_DIR, f"{what}.yaml")
        raise ConfigError(f"no {what} config: pass -c CONFIG (the {what}.yaml that `init --dir DIR` "
                          f"wrote), set {config_env_var(what)}, or create {default}")
    return found[0]


def available_modules(modules: Sequence[str]) -> list[str]:
    """The command modules that exist yet (commands land one issue at a time)."""
    import importlib.util
    return [m for m in modules if importlib.util.find_spec(m) is not None]


# Salt's target-type flags: `-C 'G@os:Debian and I@role:web'`, `-N web`, `-S 10.0.0.0/24`, ...
TARGET_FLAGS = (("-E", "--pcre", "pcre"), ("-L", "--list", "list"), ("-G", "--grain", "grain"),
                ("-P", "--grain-pcre", "grain_pcre"), ("-I", "--pillar", "pillar"),
                ("-J", "--pillar-pcre", "pillar_pcre"), ("-S", "--ipcidr", "ipcidr"),
                ("-N", "--nodegroup", "nodegroup"), ("-C", "--compound", "compound"))


def add_target_args(parser: argparse.ArgumentParser) -> None:
    """-t/--tgt-type TYPE, and Salt's one-letter forms of it (-C compound, -N nodegroup, ...)."""
    from core.targeting import TARGET_TYPES

    parser.add_argument("-t", "--tgt-type", default="glob", choices=TARGET_TYPES,
                        help="how TARGET matches (default glob)")
    for short, long, kind in TARGET_FLAGS:
        parser.add_argument(short, long, dest="tgt_type", action="store_const", const=kind,
                            help=f"match TARGET as -t {kind} does")


# Salt's `--out`: json and yaml print {minion: return}; highstate and txt are the text output
OUT_FORMATS = ("json", "yaml", "highstate", "txt")


def add_output_args(parser: argparse.ArgumentParser, json_help: str) -> None:
    """--json (this tool's machine form) and Salt's --out json|yaml|highstate|txt."""
    parser.add_argument("--json", action="store_true", help=json_help)
    parser.add_argument("--out", choices=OUT_FORMATS, default=None, metavar="FORMAT",
                        help="Salt's outputter: json or yaml print {minion: return} as Salt does; "
                             "highstate or txt the text output (default)")


def structured(args: argparse.Namespace) -> str | None:
    """"lp-json" for --json, "json"/"yaml" for --out json|yaml, None for text output."""
    if getattr(args, "json", False):
        return "lp-json"
    out = getattr(args, "out", None)
    return out if out in ("json", "yaml") else None


def print_structured(data: Any, fmt: str) -> None:
    if fmt == "yaml":
        import json

        import yaml

        sys.stdout.write(yaml.safe_dump(json.loads(json.dumps(data, default=str)), default_flow_style=False,
                                        sort_keys=True, allow_unicode=True))
        sys.stdout.flush()
    else:
        print_json(data)
