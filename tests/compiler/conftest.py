"""Fixtures for the renderer and compiler tests: real trees of SLS files in tmp dirs."""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any, Callable, Mapping

import pytest

from minion.state.tree import StateTree

# The state modules these tests use, with the functions each one has. The compiler's
# default validator asks minion.states; tests pass this one so that they do not depend on
# which state modules exist yet (pkg/service are Salt's, and appear in the trees below).
FAKE_MODULES = {
    "pkg": {"installed", "removed", "latest"},
    "file": {"managed", "directory", "symlink", "absent", "replace"},
    "service": {"running", "dead"},
    "cmd": {"run"},
    "test": {"nop", "succeed_with_changes", "fail_without_changes"},
    "user": {"present"},
}


def fake_validate(state: str, fun: str, name: str, args: Mapping[str, Any]) -> str | None:
    if state not in FAKE_MODULES:
        return f"unknown state module {state!r}"
    if fun not in FAKE_MODULES[state]:
        return f"{state!r} has no function {fun!r}"
    if state == "file" and fun == "managed" and "mode" in args and not isinstance(args["mode"], (int, str)):
        return "mode must be a number or a string"
    return None


def write_tree(root: Path, files: Mapping[str, str]) -> StateTree:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return StateTree(str(root))


@pytest.fixture
def make_tree(tmp_path: Path) -> Callable[[Mapping[str, str]], StateTree]:
    """make_tree({"web/init.sls": "...", "top.sls": "..."}) -> a StateTree over tmp_path/states."""
    def make(files: Mapping[str, str]) -> StateTree:
        return write_tree(tmp_path / "states", files)
    return make
