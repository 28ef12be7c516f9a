"""Item 5 of issue 13: execution order and the yaml filter, as Salt 3008.5 has them.

Every expectation below was recorded with `salt-call --local state.apply` (the order of
`__run_num__`, each state's result and comment) and `file.managed` with `template: jinja`
(the file's bytes) on the same trees.
"""
from __future__ import annotations

import pytest

from core.render import render_template

ORDERS = {"ord.sls": 'a:\n  test.nop: []\nb:\n  test.nop:\n    - order: last\nc:\n  test.nop:\n    - order: 5\nd:\n  test.nop:\n    - order: first\ne:\n  test.nop:\n    - order: 10001\nf:\n  test.nop:\n    - order: -1\ng:\n  test.nop:\n    - require:\n      - test: b\nh:\n  test.nop:\n    - names:\n      - h2\n      - h1\ni:\n  test.nop:\n    - order: 20000\nj:\n  test.nop:\n    - require_in:\n      - test: d\n'}
PREREQS = {"pre.sls": 'p1:\n  test.succeed_with_changes: []\np2:\n  test.succeed_without_changes:\n    - prereq:\n      - test: p1\np3:\n  test.succeed_without_changes:\n    - prereq:\n      - test: p2\np4:\n  test.succeed_with_changes:\n    - prereq:\n      - test: p5\np5:\n  test.succeed_without_changes: []\nx:\n  test.nop: []\np6:\n  test.succeed_without_changes:\n    - prereq:\n      - test: p7\np7:\n  test.succeed_with_changes:\n    - require:\n      - test: x\n', "pre2.sls": 'bad:\n  test.fail_without_changes: []\nconf:\n  test.succeed_with_changes:\n    - require:\n      - test: bad\noffline:\n  test.succeed_with_changes:\n    - prereq:\n      - test: conf\na:\n  test.succeed_without_changes:\n    - prereq:\n      - test: b2\nx:\n  test.nop:\n    - order: 15000\nb2:\n  test.succeed_with_changes:\n    - order: 20000\n'}
INCLUDES = {"incl/init.sls": 'include:\n  - incl.b\n  - incl.c\ntop-a:\n  test.nop: []\ntop-b:\n  test.nop:\n    - order: 10001\n', "incl/b.sls": 'include:\n  - incl.c\nb-1:\n  test.nop: []\nb-2:\n  test.nop: []\n', "incl/c.sls": 'c-1:\n  test.nop: []\n'}

SALT_RUN = {
    "ord": ["j", "d", "c", "a", "e", "b", "g", "h2", "h1", "i", "f"],
    "incl": ["c-1", "b-1", "top-b", "b-2", "top-a"],
    "pre": [("p3", True, False, "No changes detected"), ("p2", True, False, "Success!"),
            ("p1", True, True, "Success!"), ("p4", True, False, "No changes detected"),
            ("p5", True, False, "Success!"), ("x", True, False, "Success!"),
            ("p6", True, False, "Success!"), ("p7", True, True, "Success!")],
    "pre2": [("bad", False, False, "Failure!"),
             ("conf", False, False, "One or more requisite failed: pre2.bad"),
             ("offline", False, False, "One or more requisite failed: pre2.conf"),
             ("a", True, False, "Success!"), ("x", True, False, "Success!"),
             ("b2", True, True, "Success!")],
}


def _run_order(tree, files, sls):
    results = tree.run(tree.compile(files, [sls]))
    return [(r["name"], r["result"], bool(r["changes"]), r["comment"])
            for r in sorted(results.values(), key=lambda r: r["__run_num__"])]


@pytest.mark.parametrize(("files", "sls"), [(ORDERS, "ord"), (INCLUDES, "incl")])
def test_first_last_numbered_and_automatic_orders_run_as_salt_runs_them(tree, files, sls):
    assert [c.name for c in tree.compile(files, [sls]).chunks] == SALT_RUN[sls]
    assert [name for name, *_ in _run_order(tree, files, sls)] == SALT_RUN[sls]


def test_prereq_chains_run_as_salt_runs_them(tree):
    assert _run_order(tree, PREREQS, "pre") == SALT_RUN["pre"]
    assert _run_order(tree, PREREQS, "pre2") == SALT_RUN["pre2"]  # b2 runs at its own turn


def test_salt_order_values_are_kept_on_the_chunks(tree):
    orders = {c.name: c.salt_order for c in tree.compile(ORDERS, ["ord"]).chunks}
    assert orders == {"d": 0, "c": 5, "a": 10000, "e": 10001, "b": 1020100, "g": 10001,
                      "h2": 10002.0001, "h1": 10002.0002, "j": 10003, "i": 20000, "f": 1020099}


YAML_TEMPLATE = '{% set d = {\'b\': 1, \'a\': {\'d\': 2, \'c\': [1, 2]}, \'z\': \'x y\', \'long\': \'aaaaaaaaaa bbbbbbbbbbbbb cccccccccccccc dddddddddddddd eeeeeeeeeeeeeee ffffffffffff gggggggg\'} %}\nA: {{ d | yaml }}\nB:\n{{ d | yaml(False) }}\nC: {{ d | json }}\nD: {{ d | tojson }}\nE: {{ \'a: b\' | yaml_encode }} {{ \'x\' | yaml_dquote }} {{ "it\'s" | yaml_squote }}\nF:\n  {{ d | yaml(False) | indent(2) }}\nG: {{ [3, 1] | yaml }} {{ \'plain\' | yaml }} {{ 5 | yaml }}\n'
SALT_WROTE = '\nA: {a: {c: [1, 2], d: 2}, b: 1, long: aaaaaaaaaa bbbbbbbbbbbbb cccccccccccccc dddddddddddddd\n    eeeeeeeeeeeeeee ffffffffffff gggggggg, z: x y}\nB:\na:\n  c:\n  - 1\n  - 2\n  d: 2\nb: 1\nlong: aaaaaaaaaa bbbbbbbbbbbbb cccccccccccccc dddddddddddddd eeeeeeeeeeeeeee ffffffffffff\n  gggggggg\nz: x y\nC: {"a": {"c": [1, 2], "d": 2}, "b": 1, "long": "aaaaaaaaaa bbbbbbbbbbbbb cccccccccccccc dddddddddddddd eeeeeeeeeeeeeee ffffffffffff gggggggg", "z": "x y"}\nD: {"b": 1, "a": {"d": 2, "c": [1, 2]}, "z": "x y", "long": "aaaaaaaaaa bbbbbbbbbbbbb cccccccccccccc dddddddddddddd eeeeeeeeeeeeeee ffffffffffff gggggggg"}\nE: "a: b" "x" \'it\'\'s\'\nF:\n  a:\n    c:\n    - 1\n    - 2\n    d: 2\n  b: 1\n  long: aaaaaaaaaa bbbbbbbbbbbbb cccccccccccccc dddddddddddddd eeeeeeeeeeeeeee ffffffffffff\n    gggggggg\n  z: x y\nG: [3, 1] plain 5\n'


def test_yaml_json_and_tojson_filters_write_what_salt_writes():
    assert render_template(YAML_TEMPLATE, "y", {}) == SALT_WROTE
