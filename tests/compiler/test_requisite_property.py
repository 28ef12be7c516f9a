"""Property: any requisite graph compiles to an order that respects every edge, or is
refused as a cycle whose named states really do form one."""
from __future__ import annotations

import graphlib
import re
import tempfile
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import CompileError
from minion.state.compiler import compile_sls
from minion.state.tree import StateTree
from tests.compiler.conftest import fake_validate

KEYS = ["require", "watch", "onchanges", "onfail", "prereq", "listen", "use",
        "require_in", "watch_in", "onchanges_in", "onfail_in", "prereq_in", "listen_in",
        "require_any", "watch_any", "onchanges_any", "onfail_any"]
TARGET_FIRST = {"require", "watch", "onchanges", "onfail",
                "require_any", "watch_any", "onchanges_any", "onfail_any"}   # the target runs before the holder


def constraint(holder: int, key: str, target: int) -> tuple[int, int] | None:
    """(runs first, runs after) implied by `holder` having `key: target`, or None."""
    reverse = key.endswith("_in")
    kind = key[:-3] if reverse else key
    owner, other = (target, holder) if reverse else (holder, target)   # owner holds `kind: other`
    if kind in TARGET_FIRST:
        return other, owner
    if kind == "prereq":
        return owner, other
    return None


graphs = st.integers(min_value=1, max_value=9).flatmap(lambda n: st.tuples(
    st.just(n),
    st.lists(st.tuples(st.integers(0, n - 1), st.sampled_from(KEYS), st.integers(0, n - 1))
             .filter(lambda e: e[0] != e[2]), max_size=14),
    st.lists(st.sampled_from([None, None, None, "first", "last", 1, 2, 3]), min_size=n, max_size=n),
))


def sls_text(n: int, edges: list[tuple[int, str, int]], orders: list) -> str:
    high: dict = {}
    for i in range(n):
        args: dict = {}
        if orders[i] is not None:
            args["order"] = orders[i]
        for holder, key, target in edges:
            if holder == i:
                args.setdefault(key, []).append({"test": f"s{target}"})
        high[f"s{i}"] = {"test.nop": [{k: v} for k, v in args.items()]}
    return yaml.safe_dump(high, sort_keys=False)


@settings(max_examples=150, deadline=None)
@given(graphs)
def test_compiles_to_an_order_respecting_every_edge_or_is_refused_as_a_cycle(graph) -> None:
    n, edges, orders = graph
    constraints = {c for h, k, t in edges if (c := constraint(h, k, t)) is not None}
    sorter = graphlib.TopologicalSorter({i: set() for i in range(n)})
    for first, then in constraints:
        sorter.add(then, first)
    try:
        tuple(sorter.static_order())
        acyclic = True
    except graphlib.CycleError:
        acyclic = False

    with tempfile.TemporaryDirectory() as root:
        Path(root, "g.sls").write_text(sls_text(n, edges, orders))
        tree = StateTree(root)
        try:
            plan = compile_sls(tree, ["g"], {}, {}, validate=fake_validate)
        except CompileError as exc:
            assert not acyclic, exc.errors
            assert len(exc.errors) == 1 and exc.errors[0].startswith("requisite cycle")
            named = [int(i) for i in re.findall(r"test\.nop 's(\d+)'", exc.errors[0])]
            assert named[0] == named[-1] and len(named) >= 3
            for first, then in zip(named, named[1:]):
                assert (first, then) in constraints
            return
        assert acyclic
        again = compile_sls(tree, ["g"], {}, {}, validate=fake_validate)

    position = {int(c.id[1:]): c.order for c in plan.chunks}
    assert sorted(position) == list(range(n))
    assert [c.order for c in plan.chunks] == list(range(n))
    for first, then in constraints:
        assert position[first] < position[then]
    assert [c.tag for c in again.chunks] == [c.tag for c in plan.chunks]
    by_tag = {c.tag: c for c in plan.chunks}
    for c in plan.chunks:
        for edge in c.edges:
            assert edge.target in by_tag and not edge.kind.endswith("_in") and edge.kind != "use"
