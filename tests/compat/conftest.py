"""Fixtures for the Salt-compatibility tests: trees compiled with the real state registry.

The expectations in these tests were recorded once from Salt 3008.5 (`salt-call --local`
on the same trees, in its own venv); Salt never runs here.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import pytest

from minion.state.compiler import Plan, compile_sls
from minion.state.contract import ExecContext
from minion.state.tree import StateTree
from tests.compiler.conftest import write_tree


class Tree:
    """A state tree in a tmp dir, compiled with the real registry and run on tmp paths."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.states = root / "states"
        self.host = root / "host"
        self.host.mkdir(parents=True, exist_ok=True)

    def write(self, files: Mapping[str, str]) -> StateTree:
        return write_tree(self.states, {k: v.replace("@HOST@", str(self.host))
                                        for k, v in files.items()})

    def compile(self, files: Mapping[str, str], sls: list[str], *, strict: bool = False,
                grains: dict | None = None, pillar: dict | None = None) -> Plan:
        tree = self.write(files)
        opts = {"id": "m1", "strict_arguments": strict}
        return compile_sls(tree, sls, grains or {"id": "m1", "os": "Debian"}, pillar or {}, opts)

    def ctx(self, test: bool = False) -> ExecContext:
        from minion.local import make_context

        return make_context(str(self.states), "m1", {"id": "m1", "os": "Debian"}, {},
                            {"id": "m1"}, test)

    def run(self, plan: Plan, test: bool = False) -> dict[str, dict[str, Any]]:
        from minion.state.runner import run_plan

        return run_plan(plan.chunks, self.ctx(test))


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    return Tree(tmp_path)


def by_id(results: Mapping[str, Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {r["__id__"]: r for r in results.values()}
