"""Fixtures for the runner tests: a state tree dir, an ExecContext over it, hand-built chunks."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest

from minion.state.contract import Edge, ExecContext, LowChunk
from minion.state.fileclient import LocalFileClient
from minion.state.runner import run_plan


def chunk(
    state_fun: str,
    id: str,
    name: str | None = None,
    *,
    edges: tuple[tuple[str, str], ...] = (),
    failhard: bool = False,
    sls: str = "test",
    **args: Any,
) -> LowChunk:
    """A LowChunk built by hand: chunk("file.managed", "motd", "/etc/motd", contents="hi")."""
    state, fun = state_fun.split(".", 1)
    return LowChunk(
        state=state,
        fun=fun,
        id=id,
        name=name or id,
        sls=sls,
        args=args,
        edges=tuple(Edge(kind, target) for kind, target in edges),
        failhard=failhard,
    )


class Harness:
    """Runs hand-built chunks against a real state tree and the real host (under tmp dirs)."""

    def __init__(self, tree: Path, root: Path) -> None:
        self.tree = tree
        self.root = root

    def ctx(self, test: bool = False, pillar: dict | None = None) -> ExecContext:
        from core.render import render_template

        grains = {"id": "t1", "os": "Debian"}
        pil = pillar or {}

        def render(text: str, context: dict, source: str) -> str:
            base = {"grains": grains, "pillar": pil, "opts": {}, "sls": ""}
            return render_template(text, source, {**base, **context}, str(self.tree))

        return ExecContext(
            grains=grains,
            pillar=pil,
            files=LocalFileClient(str(self.tree)),
            log=logging.getLogger("test"),
            test=test,
            render=render,
        )

    def run(self, chunks: list[LowChunk], test: bool = False, **kw: Any) -> dict[str, dict]:
        return run_plan(chunks, self.ctx(test=test, pillar=kw.pop("pillar", None)), **kw)

    def path(self, rel: str) -> str:
        return str(self.root / rel)


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    tree = tmp_path / "tree"
    root = tmp_path / "host"
    tree.mkdir()
    root.mkdir()
    os.chmod(root, 0o755)
    return Harness(tree, root)
