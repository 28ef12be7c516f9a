"""Issue 14.3: the execution function cmd.run (what `lpmaster run '*' cmd.run '...'` calls)
keeps its command off every process's argv, through a real master and minion."""
from __future__ import annotations

from tests.execfns.argv import sample_while

CANARY = "canary-cmdrun-91c2e7"


def test_cmd_run_through_the_master_keeps_the_command_off_every_argv(fleet):
    command = f"pw='{CANARY}'; sleep 0.8; printf '%s' \"$pw\" | wc -c; echo err >&2; exit 3"
    returns, seen = sample_while(lambda: fleet.run_api("m1", "cmd.run", command), CANARY)
    assert seen.seen(b"sleep\x000.8") and seen.samples > 5
    assert not seen.leaked, seen.leaked
    assert returns["m1"] == {"ret": f"{len(CANARY)}\nerr", "success": False, "retcode": 3}


def test_cmd_run_all_and_the_shell_behave_as_with_sh_c(fleet):
    (ret,) = fleet.run_api("m1", "cmd.run_all", 'echo "$0"; env | grep -c LINKPEEK_SCRIPT; echo e >&2',
                           cwd="/tmp", success_retcodes="[1]").values()
    assert ret["success"] is True
    assert {k: ret["ret"][k] for k in ("retcode", "stdout", "stderr")} == {
        "retcode": 0, "stdout": "/bin/sh\n0", "stderr": "e"}
    (ret,) = fleet.run_api("m1", "cmd.run", "pwd", cwd="/tmp").values()
    assert ret["ret"] == "/tmp"
    (ret,) = fleet.run_api("m1", "cmd.retcode", "exit 4", ignore_retcode="True").values()
    assert ret == {"ret": 4, "success": True, "retcode": 0}
    (ret,) = fleet.run_api("m1", "cmd.run", "true", creates="/tmp").values()
    assert ret["success"] is False and "cmd.run does not take 'creates'" in ret["ret"] and "cwd" in ret["ret"]
