"""Issue 14.3: a command holding a secret never shows it in any process's argv.

While the command runs (a `sleep` inside it keeps it running), every process's
/proc/PID/cmdline is sampled, as any local user can; the canary must be in none of them,
and the command must still work (its output, its exit code, guards).
"""

from __future__ import annotations

import os

from tests.execfns.argv import sample_while
from tests.runner.conftest import Harness, chunk

CANARY = "canary-7f3a9c-hunter2"


def test_cmd_run_keeps_a_secret_off_every_command_line(harness: Harness):
    command = f"pw='{CANARY}'; sleep 0.7; printf '%s' \"$pw\" | wc -c; exit 3"
    c = chunk("cmd.run", "db-password", command, success_retcodes=[3],
              unless=f"test '{CANARY}' = x && sleep 0.7")
    res, seen = sample_while(lambda: harness.run([c]), CANARY)
    assert not seen.leaked, seen.leaked
    assert seen.seen(b"sleep\x000.7") and seen.samples > 5
    (out,) = res.values()
    assert out["result"] is True and out["changes"]["retcode"] == 3
    assert out["changes"]["stdout"].strip() == str(len(CANARY))


def test_the_command_is_not_inherited_by_its_children(harness: Harness):
    command = f"x='{CANARY}'; env | grep -c LINKPEEK_SCRIPT; echo \"$0\""
    (out,) = harness.run([chunk("cmd.run", "c", command, success_retcodes=[1])]).values()
    assert out["changes"]["stdout"].split("\n") == ["0", "/bin/sh"]


def test_a_pip_index_url_with_a_token_stays_off_the_command_line():
    """A real pip (this checkout's own venv, a dry run of a requirement it already has, so
    the index is never asked) with a token in index_url: not in any argv while pip runs."""
    import sys

    from minion.providers import python_env

    venv = os.path.dirname(os.path.dirname(sys.executable))
    options = python_env.PipOptions(index_url=f"http://lp:{CANARY}@127.0.0.1:9/simple")
    plan, seen = sample_while(lambda: python_env.plan(venv, ["packaging"], None, options), CANARY)
    saw_pip = any(b"--dry-run" in c and b"packaging" in c for c in seen.lines)
    assert saw_pip and not seen.leaked, seen.leaked
    assert plan == {}
