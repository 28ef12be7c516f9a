"""The formula corpus (tests/compat/corpus): this project compiles it to exactly what Salt
3008.5 compiled it to (recorded `state.show_lowstate` / `state.show_highstate`), and runs it
in test mode."""
from __future__ import annotations

import json
from pathlib import Path

from core.pillar import compile_pillar
from minion.state.compiler import compile_plan
from minion.state.saltshape import salt_highstate, salt_lowstate
from minion.state.tree import StateTree

CORPUS = Path(__file__).parent / "corpus"
GRAINS = {"id": "m1", "os": "Debian", "os_family": "Debian"}


def _plan():
    pillar = compile_pillar(str(CORPUS / "pillar"), "m1", dict(GRAINS))
    return compile_plan(StateTree(str(CORPUS / "states")), "m1", dict(GRAINS), pillar, None,
                        {"id": "m1"})


def _recorded(what: str):
    return json.loads((CORPUS / f"salt-3008.5-show_{what}.json").read_text())


def test_the_corpus_compiles_to_salts_lowstate():
    plan = _plan()
    assert salt_lowstate(plan) == _recorded("lowstate")
    assert not [c for c in plan.chunks if c.warnings]


def test_the_corpus_compiles_to_salts_highstate():
    assert salt_highstate(_plan()) == _recorded("highstate")
