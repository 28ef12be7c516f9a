"""The fleet summary and exit codes of `lpmaster apply` (plain and Puppet-style detailed)."""
from __future__ import annotations

import pytest

from master.fleet import FleetSummary


def _state(result, changes=None):
    return {"result": result, "changes": changes or {}, "comment": "", "__run_num__": 0}


CLEAN = {"file_|-a_|-a_|-managed": _state(True)}
CHANGED = {"file_|-a_|-a_|-managed": _state(True, {"diff": "New file"})}
PENDING = {"file_|-a_|-a_|-managed": _state(None, {"diff": "New file"})}
FAILED = {"file_|-a_|-a_|-managed": _state(False), "file_|-b_|-b_|-managed": _state(True, {"x": 1})}
NOT_COMPILED = ["Pillar failed to render: db.sls: ..."]


@pytest.mark.parametrize("returns, missing, plain, detailed", [
    ({"m1": (True, CLEAN)}, {}, 0, 0),
    ({"m1": (True, CHANGED)}, {}, 0, 2),
    ({"m1": (True, PENDING)}, {}, 0, 2),                       # test mode: changes pending
    ({"m1": (False, FAILED)}, {}, 1, 6),                       # a failure and a change
    ({"m1": (False, NOT_COMPILED)}, {}, 1, 4),
    ({"m1": (True, CLEAN)}, {"m2": "not connected"}, 2, 4),   # no answer counts as a failure
    ({"m1": (True, CHANGED)}, {"m2": "no answer"}, 2, 6),
    ({"m1": (False, FAILED)}, {"m2": "no answer"}, 2, 6),
])
def test_exit_codes(returns, missing, plain, detailed):
    fleet = FleetSummary(targeted=sorted([*returns, *missing]))
    for mid, (success, ret) in returns.items():
        fleet.add(mid, success, ret)
    fleet.missing = dict(missing)
    assert fleet.exit_code() == plain
    assert fleet.exit_code(detailed=True) == detailed


def test_the_summary_counts_minions_and_states():
    fleet = FleetSummary(targeted=["db1", "web1", "web2", "web3"])
    fleet.add("web1", True, CHANGED)
    fleet.add("web2", True, CLEAN)
    fleet.add("db1", False, FAILED)
    fleet.missing = {"web3": "not connected"}
    assert fleet.as_dict() == {
        "targeted": 4, "succeeded": ["web1", "web2"], "failed": ["db1"], "changed": ["db1", "web1"],
        "did_not_answer": {"web3": "not connected"},
        "states": {"total": 4, "changed": 2, "failed": 1}}
    text = fleet.text()
    assert "Failed:             1  (db1)" in text and "Did not answer:     1  (web3)" in text
    assert "would change" in fleet.text(test=True)
