"""Issue 15.16: every command's --help has a description and points at no source file."""
from __future__ import annotations

import argparse
import subprocess

import pytest

from core import cli


def _parsers(prog: str) -> list[tuple[str, argparse.ArgumentParser]]:
    module = __import__("master.cli" if prog == "lpmaster" else "minion.cli", fromlist=["DESCRIPTION"])
    found = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found.append((f"{path} {name}", sub))
                    walk(sub, f"{path} {name}")

    walk(cli.build_parser(prog, module.DESCRIPTION, module.COMMAND_MODULES), prog)
    return found


@pytest.mark.parametrize("prog", ["lpmaster", "lpminion"])
def test_every_command_has_a_description_and_no_source_paths(prog):
    parsers = _parsers(prog)
    assert len(parsers) > 5
    for path, parser in parsers:
        assert parser.description, f"`{path} --help` has no description"
        assert ".py" not in parser.format_help(), f"`{path} --help` points at a source file"


def test_a_nested_help_runs_as_a_process(lpmaster_bin):
    proc = subprocess.run([lpmaster_bin, "keys", "delete", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "--denied" in proc.stdout and "fingerprint" in proc.stdout
