"""The formula corpora (tests/compat/corpus, corpus2, corpus3): this project compiles each to exactly what
Salt 3008.5 compiled it to (recorded `state.show_lowstate` / `state.show_highstate`);
tests/hosts/test_salt_modules.py runs the first in test mode on a host."""
from __future__ import annotations

import json
from pathlib import Path

from core.pillar import compile_pillar
from minion.state.compiler import compile_plan
from minion.state.saltshape import salt_highstate, salt_lowstate
from minion.state.tree import StateTree

import pytest

HERE = Path(__file__).parent
GRAINS = {"id": "m1", "os": "Debian", "os_family": "Debian"}
CORPORA = ["corpus", "corpus2", "corpus3"]


def _plan(corpus: Path):
    pillar = compile_pillar(str(corpus / "pillar"), "m1", dict(GRAINS))
    return compile_plan(StateTree(str(corpus / "states")), "m1", dict(GRAINS), pillar, None,
                        {"id": "m1"})


def _recorded(corpus: Path, what: str):
    return json.loads((corpus / f"salt-3008.5-show_{what}.json").read_text())


@pytest.mark.parametrize("name", CORPORA)
def test_the_corpus_compiles_to_salts_lowstate_and_highstate(name):
    corpus = HERE / name
    plan = _plan(corpus)
    assert salt_lowstate(plan) == _recorded(corpus, "lowstate")
    assert salt_highstate(plan) == _recorded(corpus, "highstate")


def test_the_first_corpus_takes_every_argument_it_gives():
    assert not [c.warnings for c in _plan(HERE / "corpus").chunks if c.warnings]
