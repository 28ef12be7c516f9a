"""pkg.installed takes Salt's version specs (`1.6*`, `>=7.88`): they compile, and Debian
versions compare as dpkg compares them (checked against the real dpkg here)."""
from __future__ import annotations

import subprocess

import pytest

from minion.providers.debversion import best, compare, matches
from minion.states import lookup

PAIRS = [("1:2.0-1", "2.5"), ("1.0~rc1", "1.0"), ("1.0", "1.0-0"), ("2.36-9+deb12u14", "2.36-9"),
         ("1.6-2", "1.6.2-1"), ("7.88.1-10+deb12u5", "7.88.1-10"), ("1.0a", "1.0+"),
         ("1.0.0", "1.0"), ("0.9~", "0.9"), ("1:1", "2"), ("2.0-1~bpo12+1", "2.0-1"),
         ("10", "9"), ("1.2.3-4ubuntu1", "1.2.3-4")]


def _dpkg(a: str, b: str) -> int:
    for op, value in (("lt", -1), ("eq", 0)):
        if subprocess.run(["dpkg", "--compare-versions", a, op, b]).returncode == 0:
            return value
    return 1


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_versions_compare_as_dpkg_does(a, b):
    assert compare(a, b) == _dpkg(a, b) == -compare(b, a)


def test_specs_pick_the_highest_matching_version():
    assert best(["1.6-1", "1.7-2", "1.6.2-1"], "1.6*") == "1.6.2-1"
    assert best(["1.6-1", "1.7-2"], "<1.7") == "1.6-1"
    assert matches("2.36-9", ">=2.30") and not matches("2.36-9", ">2.36-9")
    assert matches("2.36-9", "2.36")  # an upstream version alone names its revisions
    spec = lookup("pkg", "installed").parse("x", {"pkgs": [{"jq": "1.6*"}, {"curl": ">=7.88"}]})
    assert spec.packages == (("jq", "1.6*"), ("curl", ">=7.88"))
