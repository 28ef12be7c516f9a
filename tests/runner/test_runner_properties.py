"""Property: on any requisite DAG of succeeding/failing states, the runner runs each state once,
after its requisites, and fails exactly the states that (transitively) require a failed one."""

from __future__ import annotations

import logging

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minion.state.contract import Edge, ExecContext, LowChunk
from minion.state.fileclient import LocalFileClient
from minion.state.runner import run_plan


@st.composite
def dags(draw):
    n = draw(st.integers(min_value=1, max_value=12))
    fails = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    edges = []
    for i in range(n):
        deps = (
            draw(st.sets(st.integers(min_value=0, max_value=max(0, i - 1)), max_size=3))
            if i
            else set()
        )
        kinds = [draw(st.sampled_from(["require", "watch", "onchanges"])) for _ in deps]
        edges.append(list(zip(kinds, sorted(deps), strict=True)))
    order = draw(st.permutations(list(range(n))))
    return n, fails, edges, order


def _tag(i: int, fails: list[bool]) -> str:
    fun = "fail_without_changes" if fails[i] else "succeed_with_changes"
    return f"test_|-s{i}_|-s{i}_|-{fun}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dags())
def test_runner_respects_edges_and_propagates_failures(dag):
    n, fails, edges, order = dag
    chunks = {
        i: LowChunk(
            state="test",
            fun="fail_without_changes" if fails[i] else "succeed_with_changes",
            id=f"s{i}",
            name=f"s{i}",
            sls="p",
            args={},
            edges=tuple(Edge(k, _tag(j, fails)) for k, j in edges[i]),
        )
        for i in range(n)
    }
    ctx = ExecContext(
        grains={}, pillar={}, files=LocalFileClient("/nonexistent"), log=logging.getLogger("prop")
    )
    # Any input order: the runner pulls requisites forward itself.
    results = run_plan([chunks[i] for i in order], ctx)
    assert len(results) == n
    run_num = {i: results[_tag(i, fails)]["__run_num__"] for i in range(n)}
    assert sorted(run_num.values()) == list(range(n))
    expected: dict[int, bool | None] = {}
    for i in range(n):  # deps always have smaller indices
        req_failed = any(k in ("require", "watch") and expected[j] is False for k, j in edges[i])
        onchanges = [j for k, j in edges[i] if k == "onchanges"]
        if req_failed:
            expected[i] = False
        elif onchanges and not any(expected[j] is True and not fails[j] for j in onchanges):
            expected[i] = None  # skipped: result True without changes
        else:
            expected[i] = not fails[i]
    for i in range(n):
        res = results[_tag(i, fails)]
        for _, j in edges[i]:
            assert run_num[j] < run_num[i]
        if expected[i] is None:
            assert res["result"] is True and res["changes"] == {}
        else:
            assert res["result"] is expected[i], (i, res)
