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
    (pack,) = (tree / "cache" / "render").glob("p-*")         # make every result recognisable
    entries = pickle.loads(pack.read_bytes())
    for key, data in entries.items():
        if key.startswith("r-") and isinstance(pickle.loads(data), str):
            entries[key] = pickle.dumps("from the cache\n")
    pack.write_bytes(pickle.dumps(entries))
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


def packs(base: Path) -> list[str]:
    return sorted(p.name for p in (base / "cache" / "render").glob("p-*") if p.suffix != ".tmp")


def test_one_pack_per_run_that_renders_and_none_for_a_run_that_does_not(tree: Path) -> None:
    apply(tree)
    first = packs(tree)
    assert len(first) == 1
    apply(tree)
    apply(tree, test=True)
    assert packs(tree) == first                                # nothing new: nothing written
    apply(tree, color="blue")
    assert len(packs(tree)) == 2
    apply(tree, color="red")                                   # the older pack still serves
    assert len(packs(tree)) == 2 and files(tree) == ("one 80 red\n", "sls red\n")


def test_the_cache_directory_is_pruned_by_count_and_age(tree: Path) -> None:
    render = tree / "cache" / "render"
    for color in range(rendercache.PACK_KEEP + 3):
        apply(tree, color=f"c{color}")
    assert len(packs(tree)) == rendercache.PACK_KEEP           # the oldest went
    apply(tree, color=f"c{rendercache.PACK_KEEP + 2}")         # still a hit: nothing written
    assert len(packs(tree)) == rendercache.PACK_KEEP

    legacy = render / ("r-" + "0" * 64)
    legacy.write_bytes(pickle.dumps("old format"))
    stale_tmp = render / "p-000000000099-1-abcd.123.tmp"
    stale_tmp.write_bytes(b"")
    newest = packs(tree)[-1]
    later = rendercache.PACK_MAX_AGE + 10 + int(newest.split("-")[2], 16)
    removed = rendercache.prune(str(render), keep=newest, now=later)
    assert packs(tree) == [newest]                             # too old, but the one just made
    assert legacy.name in removed and not legacy.exists() and not stale_tmp.exists()
    apply(tree, color=f"c{rendercache.PACK_KEEP + 2}")
    assert files(tree)[1] == f"sls c{rendercache.PACK_KEEP + 2}\n"


def test_a_damaged_pack_is_a_miss_never_an_error(tree: Path) -> None:
    apply(tree)
    (pack,) = (tree / "cache" / "render").glob("p-*")
    pack.write_bytes(b"not a pickle")
    (tree / "out" / "a.conf").unlink()
    apply(tree)
    assert files(tree) == ("one 80 red\n", "sls red\n")
