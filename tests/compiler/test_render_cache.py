"""The render cache (core/rendercache.py): a run of an unchanged tree reuses what it rendered,
any change of an input renders again, and every state still looks at the host."""
from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from core import rendercache
from minion.local import apply_local
from minion.state.compiler import compile_plan
from minion.state.tree import StateTree

SITE = """\
{% from 'map.jinja' import conf %}
{{ pillar['out'] }}/a.conf:
  file.managed:
    - source: salt://a.conf.j2
    - template: jinja
    - context:
        word: {{ conf.word }}
{{ pillar['out'] }}/g.txt:
  file.managed:
    - contents: "sls {{ grains['color'] }}"
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    states, pillar = tmp_path / "states", tmp_path / "pillar"
    states.mkdir()
    pillar.mkdir()
    (states / "site.sls").write_text(SITE)
    (states / "map.jinja").write_text("{% set conf = {'word': 'one'} %}\n")
    (states / "a.conf.j2").write_text("{{ word }} {{ pillar['port'] }} {{ grains['color'] }}\n")
    (pillar / "top.sls").write_text("base:\n  '*':\n    - p\n")
    (pillar / "p.sls").write_text(f"out: {tmp_path / 'out'}\nport: 80\n")
    (tmp_path / "out").mkdir()
    return tmp_path


def apply(base: Path, color: str = "red", test: bool = False) -> dict:
    results, code = apply_local(str(base / "states"), str(base / "pillar"), {"color": color}, "web1",
                                ["site"], test, str(base / "cache"))
    assert code == 0, results
    return results


def files(base: Path) -> tuple[str, str]:
    return (base / "out" / "a.conf").read_text(), (base / "out" / "g.txt").read_text()


def changed(results: dict) -> set[str]:
    return {r["name"].rsplit("/", 1)[1] for r in results.values() if r["changes"]}


def test_every_input_kind_invalidates(tree: Path) -> None:
    apply(tree)
    assert files(tree) == ("one 80 red\n", "sls red\n")
    assert changed(apply(tree)) == set()                       # unchanged: nothing to do

    (tree / "states" / "map.jinja").write_text("{% set conf = {'word': 'two'} %}\n")
    assert changed(apply(tree)) == {"a.conf"}                  # an imported file (context)
    assert files(tree)[0] == "two 80 red\n"

    (tree / "pillar" / "p.sls").write_text(f"out: {tree / 'out'}\nport: 81\n")
    apply(tree)                                                # pillar
    assert files(tree)[0] == "two 81 red\n"

    apply(tree, color="blue")                                  # grains
    assert files(tree) == ("two 81 blue\n", "sls blue\n")

    (tree / "states" / "site.sls").write_text(SITE.replace('"sls ', '"SLS '))
    apply(tree, color="blue")                                  # the SLS text
    assert files(tree)[1] == "SLS blue\n"

    (tree / "states" / "a.conf.j2").write_text("{{ word }}:{{ pillar['port'] }}\n")
    apply(tree, color="blue")                                  # the file template
    assert files(tree)[0] == "two:81\n"


def test_checks_still_look_at_the_host(tree: Path) -> None:
    apply(tree)
    apply(tree)
    (tree / "out" / "a.conf").write_text("edited by hand\n")
    assert changed(apply(tree, test=True)) == {"a.conf"}       # a dry run sees the drift
    assert files(tree)[0] == "edited by hand\n"
    assert changed(apply(tree)) == {"a.conf"}                  # and the run repairs it
    assert files(tree)[0] == "one 80 red\n"


def test_hits_are_served_and_the_code_version_is_part_of_the_key(
        tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    apply(tree)
    for entry in (tree / "cache" / "render").glob("r-*"):     # make every result recognisable
        if isinstance(pickle.loads(entry.read_bytes()), str):
            entry.write_bytes(pickle.dumps("from the cache\n"))
    apply(tree)
    assert files(tree)[0] == "from the cache\n"                # a hit is not rendered again
    monkeypatch.setattr(rendercache, "_CODE_VERSION", ["another version of the code"])
    apply(tree)
    assert files(tree)[0] == "one 80 red\n"


def test_compiles_hit_the_cache_and_host_lookups_are_never_cached(tmp_path: Path) -> None:
    states = tmp_path / "states"
    states.mkdir()
    marker = tmp_path / "marker"
    (states / "pure.sls").write_text("p:\n  test.nop:\n    - word: {{ salt['pillar.get']('w') }}\n")
    (states / "host.sls").write_text(
        f"h:\n  test.nop:\n    - seen: {{{{ salt['file.file_exists']('{marker}') }}}}\n")

    def compile_once(name: str) -> tuple[dict, rendercache.RenderCache]:
        with rendercache.using(str(tmp_path / "cache")) as cache:
            assert cache is not None
            plan = compile_plan(StateTree(str(states)), "web1", {}, {"w": "x"}, [name])
        return plan.chunks[0].args, cache

    args, cache = compile_once("pure")
    assert (cache.hits, cache.misses) == (0, 1)
    args2, cache = compile_once("pure")
    assert args2 == args and (cache.hits, cache.misses) == (1, 0)

    assert compile_once("host")[0]["seen"] is False
    marker.write_text("")
    args, cache = compile_once("host")
    assert args["seen"] is True and cache.hits == 0 and cache.skipped == 1


def test_a_cache_directory_others_can_write_is_not_used(tmp_path: Path) -> None:
    (tmp_path / "cache" / "render").mkdir(parents=True)
    (tmp_path / "cache" / "render").chmod(0o777)
    with rendercache.using(str(tmp_path / "cache")) as cache:
        assert cache is None
