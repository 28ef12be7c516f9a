"""The highstate text users read, and the test state module's dry-run predictions."""

from __future__ import annotations

import pytest

from core.stateoutput import format_highstate
from tests.runner.conftest import Harness, chunk

RESULTS = {
    "file_|-motd_|-/etc/motd_|-managed": {
        "name": "/etc/motd",
        "result": True,
        "changes": {"diff": "--- \n+++ \n@@ -1 +1 @@\n-a\n+b\n"},
        "comment": "File /etc/motd updated",
        "duration": 1.5,
        "start_time": "06:00:00.000001",
        "__run_num__": 0,
        "__sls__": "base",
        "__id__": "motd",
    },
    "test_|-quiet_|-quiet_|-nop": {
        "name": "quiet",
        "result": True,
        "changes": {},
        "comment": "Success!",
        "duration": 0.5,
        "start_time": "06:00:00.000002",
        "__run_num__": 1,
        "__sls__": "base",
        "__id__": "quiet",
    },
    "cmd_|-evil_|-echo_|-run": {
        "name": "echo",
        "result": False,
        "changes": {"stdout": "\x1b]0;pwned\x07text"},
        "comment": "Command 'echo' run",
        "duration": 1000.0,
        "start_time": "06:00:00.000003",
        "__run_num__": 2,
        "__sls__": "base",
        "__id__": "evil",
    },
}


def test_highstate_text_shows_changed_and_failed_with_diff_and_summary():
    text = format_highstate("web1", RESULTS)
    assert text.startswith(
        "web1:\n----------\n          ID: motd\n    Function: file.managed\n"
        "        Name: /etc/motd\n      Result: True\n"
    )
    assert "                  -a\n                  +b" in text
    assert "ID: quiet" not in text
    assert "Succeeded: 2 (changed=1)\nFailed:    1\n" in text
    assert "Total states run:     3" in text and "Total run time:    1.002 s" in text
    assert "\x1b" not in text and "\x07" not in text and "\\x1b]0;pwned\\x07text" in text


def test_verbose_shows_every_state_and_colour_only_when_asked():
    assert "ID: quiet" in format_highstate("web1", RESULTS, verbose=True)
    assert "\033[0;31m" in format_highstate("web1", RESULTS, color=True)


def test_compile_errors_print_as_salt_does():
    text = format_highstate("web1", ["site.sls:3: no state matches `require: file: x`"])
    assert "Data failed to compile:" in text and "site.sls:3:" in text


@pytest.mark.parametrize(
    "fun,test_result,real_result,has_changes",
    [
        ("nop", True, True, False),
        ("succeed_without_changes", True, True, False),
        ("succeed_with_changes", None, True, True),
        ("fail_without_changes", False, False, False),
        ("fail_with_changes", None, False, True),
    ],
)
def test_test_module_dry_run_predicts_the_real_one(
    harness: Harness, fun, test_result, real_result, has_changes
):
    c = chunk(f"test.{fun}", "t")
    (dry,) = harness.run([c], test=True).values()
    (real,) = harness.run([c]).values()
    assert dry["result"] is test_result and real["result"] is real_result
    assert bool(dry["changes"]) is has_changes and dry["changes"] == real["changes"]


def test_test_mode_summary_counts_pending_states_as_salt_does():
    pending = {
        "test_|-p_|-p_|-succeed_with_changes": {
            "name": "p",
            "result": None,
            "changes": {"x": 1},
            "comment": "would",
            "duration": 0.1,
            "start_time": "06:00:00.1",
            "__run_num__": 0,
            "__sls__": "s",
            "__id__": "p",
        }
    }
    text = format_highstate("web1", pending)
    assert "Result: None" in text and "Succeeded: 1 (unchanged=1, changed=1)" in text
