"""A master with three real minions: ping, cmd.run, targeting, failures, jobs, status."""
from __future__ import annotations

import json

from tests.foundation.conftest import wait_for


def test_ping_reaches_all_three_minions(trio):
    res = trio.cli("run", "*", "test.ping")
    assert res.returncode == 0, res.stderr
    for mid in ("m1", "m2", "m3"):
        assert f"{mid}:\n    True" in res.stdout


def test_cmd_run_returns_each_minions_output_as_json(trio):
    code, data, _ = trio.run_json("*", "cmd.run", "echo hello from $(hostname) >&2; echo out")
    assert code == 0
    assert set(data) == {"m1", "m2", "m3"}
    assert all("hello from" in v and v.endswith("out") for v in data.values())


def test_keyword_arguments_and_echo(trio):
    code, data, _ = trio.run_json("m2", "test.echo", "text=hi there")
    assert (code, data) == (0, {"m2": "hi there"})


def test_list_and_grain_targets_pick_their_minions(trio):
    code, data, _ = trio.run_json("m1,m3", "test.ping", "-t", "list")
    assert (code, set(data)) == (0, {"m1", "m3"})
    code, data, _ = trio.run_json("id:m2", "grains.get", "id", "-t", "grain")
    assert (code, data) == (0, {"m2": "m2"})
    code, data, _ = trio.run_json("m1", "grains.items")
    assert data["m1"]["kernel"] == "Linux" and data["m1"]["num_cpus"] >= 1 and data["m1"]["ipv4"]


def test_a_target_that_names_nobody_exits_2(trio):
    res = trio.cli("run", "nosuch*", "test.ping")
    assert res.returncode == 2
    assert "no minions matched" in res.stderr


def test_unknown_function_fails_the_job_not_the_minion(trio):
    code, data, _ = trio.run_json("m1", "nosuch.function")
    assert code == 1
    assert "not available" in data["m1"]
    trio.wait_answering("m1")


def test_a_job_that_raises_fails_with_its_error_and_the_minion_stays_up(trio):
    code, data, _ = trio.run_json("m1", "test.exception", "boom")
    assert code == 1 and "RuntimeError: boom" in data["m1"]
    code, data, _ = trio.run_json("m2", "cmd.run", "exit 3")
    assert code == 1
    trio.wait_answering("m1", "m2")


def test_a_minion_that_does_not_answer_in_time_is_named(trio):
    res = trio.cli("run", "m3", "test.sleep", "2", "--timeout", "0.3")
    assert res.returncode == 2
    assert "m3 (no answer)" in res.stderr
    jid = json.loads(trio.cli("jobs", "list", "--json").stdout)[0]["jid"]
    # the return still arrives and is kept
    wait_for(lambda: "m3" in json.loads(trio.cli("jobs", "show", jid, "--json").stdout)["returns"],
             what="late return stored")


def test_jobs_list_and_show(trio):
    code, _, _ = trio.run_json("*", "test.echo", "stored")
    assert code == 0
    jobs = json.loads(trio.cli("jobs", "list", "--json").stdout)
    job = next(j for j in jobs if j["fun"] == "test.echo" and j["arg"] == ["stored"])
    shown = json.loads(trio.cli("jobs", "show", job["jid"], "--json").stdout)
    assert shown["minions"] == ["m1", "m2", "m3"]
    assert {m: r["ret"] for m, r in shown["returns"].items()} == {"m1": "stored", "m2": "stored", "m3": "stored"}
    text = trio.cli("jobs", "show", job["jid"]).stdout
    assert "m2:\n    stored" in text
    assert trio.cli("jobs", "show", "20000101000000000000abcdef").returncode == 1


def test_status_shows_minions_up(trio):
    status = json.loads(trio.cli("status", "--json").stdout)
    assert set(status) == {"m1", "m2", "m3"}
    assert all(s["up"] and s["last_seen"] for s in status.values())


def test_control_socket_is_closed_to_others(trio):
    import os
    import stat

    sock = trio.master_dir / "run" / "master.sock"
    assert stat.S_IMODE(os.stat(sock).st_mode) == 0o660
    assert stat.S_IMODE(os.stat(sock.parent).st_mode) == 0o700


def test_terminal_escapes_from_a_minion_are_shown_escaped(trio):
    res = trio.cli("run", "m1", "cmd.run", r"printf 'a\033[2Jb\007c'")
    assert res.returncode == 0
    assert "\x1b" not in res.stdout and "\x07" not in res.stdout
    assert r"a\x1b[2Jb\x07c" in res.stdout
    flipped = trio.cli("run", "m1", "cmd.run", r"printf 'ok\342\200\256txt.exe'")  # U+202E
    assert "\u202e" not in flipped.stdout and r"ok\x202etxt.exe" in flipped.stdout
