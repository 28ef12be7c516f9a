"""Item 3 of issue 13: module.run / module.wait, as Salt 3008.5 ran this SLS.

Salt 3008.5 (`salt-call --local state.apply`, then with test=True):
  mr       False  "'cmd.run' failed: Missing arguments: cmd, test.ping: True, test.echo: hello"
                  changes {"test.ping": true, "test.echo": "hello"}   (`name` is not `cmd`)
  mr-old   True   "Module function test.echo executed", changes {"ret": "old-style"}
  mr-fail  False  (cmd.run_all without a shell could not run `exit 3`; here it exits 3)
  mw       False  "One or more requisite failed: mr.mr"
  test mode: None, "Function test.ping, cmd.run, test.echo to be executed." /
             "Module function test.echo is set to execute"
"""
from __future__ import annotations

import pytest

from core.errors import CompileError

SLS = 'mr:\n  module.run:\n    - test.ping: []\n    - cmd.run:\n      - name: echo hi\n    - test.echo:\n      - text: hello\nmr-old:\n  module.run:\n    - name: test.echo\n    - text: old-style\nmr-fail:\n  module.run:\n    - cmd.run_all:\n      - cmd: "exit 3"\nmw:\n  module.wait:\n    - test.ping: []\n    - watch:\n      - module: mr\n'


def test_module_run_calls_functions_as_salt_does(tree):
    plan = tree.compile({"mr.sls": SLS}, ["mr"])
    got = {r["__id__"]: r for r in tree.run(plan).values()}
    assert got["mr"]["result"] is False
    assert got["mr"]["changes"] == {"test.ping": True, "test.echo": "hello"}
    assert got["mr"]["comment"].startswith("'cmd.run' failed: ")
    assert got["mr"]["comment"].endswith(", test.ping: True, test.echo: hello")
    assert (got["mr-old"]["result"], got["mr-old"]["changes"], got["mr-old"]["comment"]) == (
        True, {"ret": "old-style"}, "Module function test.echo executed")
    assert got["mr-fail"]["result"] is False and "'cmd.run_all' failed" in got["mr-fail"]["comment"]
    assert (got["mw"]["result"], got["mw"]["comment"]) == (False, "One or more requisite failed: mr.mr")
    tested = {r["__id__"]: r for r in tree.run(plan, test=True).values()}
    assert (tested["mr"]["result"], tested["mr"]["comment"]) == (
        None, "Function test.ping, cmd.run, test.echo to be executed.")
    assert tested["mr-old"]["comment"] == "Module function test.echo is set to execute"


def test_module_wait_runs_on_a_watched_change_only(tree):
    files = {"w.sls": """
    changed:
      test.succeed_with_changes: []
    quiet:
      test.succeed_without_changes: []
    on-change:
      module.wait:
        - test.echo: [fired]
        - watch: [changed]
    no-change:
      module.wait:
        - test.echo: [fired]
        - watch: [quiet]
    """}
    got = {r["__id__"]: r for r in tree.run(tree.compile(files, ["w"])).values()}
    assert got["on-change"]["changes"] == {"test.echo": "fired"}
    assert got["no-change"]["changes"] == {}


def test_functions_that_need_a_master_or_change_state_are_refused(tree):
    files = {"x.sls": "x:\n  module.run:\n    - state.apply: [web]\n"}
    plan = tree.compile(files, ["x"])
    assert "state.apply cannot be called from a state here" in plan.chunks[0].warnings[0]
    with pytest.raises(CompileError):
        tree.compile(files, ["x"], strict=True)
