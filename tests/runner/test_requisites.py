"""Requisite semantics of the runner, on hand-built plans (the compiler's output shape)."""

from __future__ import annotations

from pathlib import Path

from tests.runner.conftest import Harness, chunk


def _by_id(results: dict[str, dict]) -> dict[str, dict]:
    return {r["__id__"]: r for r in results.values()}


def test_require_on_a_failed_state_fails_the_dependents_transitively(harness: Harness):
    bad = chunk("test.fail_without_changes", "bad")
    mid = chunk(
        "file.managed", "mid", harness.path("mid"), contents="x", edges=(("require", bad.tag),)
    )
    top = chunk(
        "file.managed", "top", harness.path("top"), contents="x", edges=(("require", mid.tag),)
    )
    other = chunk("test.succeed_without_changes", "other")
    res = _by_id(harness.run([bad, mid, top, other]))
    assert res["bad"]["result"] is False and res["bad"]["comment"] == "Failure!"
    assert (
        res["mid"]["result"] is False
        and res["mid"]["comment"] == "One or more requisite failed: test.bad"
    )
    assert (
        res["top"]["result"] is False
        and res["top"]["comment"] == "One or more requisite failed: test.mid"
    )
    assert res["other"]["result"] is True
    assert not Path(harness.path("mid")).exists() and not Path(harness.path("top")).exists()
    assert [r["__id__"] for r in sorted(res.values(), key=lambda r: r["__run_num__"])] == [
        "bad",
        "mid",
        "top",
        "other",
    ]


def test_require_any_fails_only_when_every_target_failed(harness: Harness):
    bad = chunk("test.fail_without_changes", "bad")
    good = chunk("test.succeed_without_changes", "good")
    one = chunk(
        "test.succeed_with_changes",
        "one",
        edges=(("require_any", bad.tag), ("require_any", good.tag)),
    )
    none = chunk("test.succeed_with_changes", "none", edges=(("require_any", bad.tag),))
    res = _by_id(harness.run([bad, good, one, none]))
    assert res["one"]["result"] is True and res["none"]["result"] is False


def test_watch_triggers_a_restart_like_action_once(harness: Harness):
    counter = harness.path("restarts")
    conf = chunk("file.managed", "conf", harness.path("app.conf"), contents="v1")
    # cmd.run whose `creates` is satisfied: watch must not force it; cmd.wait runs on change.
    restart = chunk(
        "cmd.wait", "restart", f"echo restart >> {counter}", edges=(("watch", conf.tag),)
    )
    guarded = chunk(
        "cmd.run",
        "guarded",
        f"echo guarded >> {counter}",
        creates=harness.path("app.conf"),
        edges=(("watch", conf.tag),),
    )
    res = _by_id(harness.run([conf, restart, guarded]))
    assert res["restart"]["changes"]["retcode"] == 0
    assert res["guarded"]["changes"] == {}
    assert Path(counter).read_text() == "restart\n"
    # No change in the watched file: no restart.
    res = _by_id(harness.run([conf, restart, guarded]))
    assert res["restart"]["changes"] == {} and Path(counter).read_text() == "restart\n"
    # Test mode after a change predicts the restart without running it.
    Path(harness.path("app.conf")).write_text("v0\n")
    res = _by_id(harness.run([conf, restart, guarded], test=True))
    assert res["restart"]["result"] is None and res["restart"]["changes"]
    assert Path(counter).read_text() == "restart\n"


def test_watch_on_a_failed_state_fails_the_watcher(harness: Harness):
    bad = chunk("test.fail_with_changes", "bad")
    w = chunk("cmd.wait", "w", "true", edges=(("watch", bad.tag),))
    res = _by_id(harness.run([bad, w]))
    assert res["w"]["result"] is False and "requisite failed" in res["w"]["comment"]


def test_onchanges_runs_only_when_a_target_changed(harness: Harness):
    marker = harness.path("ran")
    conf = chunk("file.managed", "conf", harness.path("c"), contents="v1")
    react = chunk("cmd.run", "react", f"echo x >> {marker}", edges=(("onchanges", conf.tag),))
    res = _by_id(harness.run([conf, react]))
    assert res["react"]["changes"]["retcode"] == 0 and Path(marker).read_text() == "x\n"
    res = _by_id(harness.run([conf, react]))
    assert res["react"]["result"] is True and res["react"]["changes"] == {}
    assert "none of the onchanges reqs changed" in res["react"]["comment"]
    assert Path(marker).read_text() == "x\n"


def test_onchanges_on_a_failed_state_is_skipped_with_result_true(harness: Harness):
    bad = chunk("test.fail_with_changes", "bad")
    react = chunk("test.succeed_with_changes", "react", edges=(("onchanges", bad.tag),))
    res = _by_id(harness.run([bad, react]))
    assert res["react"]["result"] is True and res["react"]["changes"] == {}


def test_onfail_runs_only_when_a_target_failed(harness: Harness):
    bad = chunk("test.fail_without_changes", "bad")
    good = chunk("test.succeed_without_changes", "good")
    rescue = chunk(
        "test.succeed_with_changes", "rescue", edges=(("onfail", bad.tag), ("onfail", good.tag))
    )
    idle = chunk("test.succeed_with_changes", "idle", edges=(("onfail", good.tag),))
    both = chunk(
        "test.succeed_with_changes",
        "both",
        edges=(("onfail_all", bad.tag), ("onfail_all", good.tag)),
    )
    res = _by_id(harness.run([bad, good, rescue, idle, both]))
    assert res["rescue"]["changes"] and res["rescue"]["result"] is True
    assert res["idle"]["changes"] == {} and res["idle"]["result"] is True
    assert res["both"]["changes"] == {}


def test_prereq_runs_first_only_when_its_target_would_change(harness: Harness):
    log = harness.path("log")
    conf = chunk("file.managed", "conf", harness.path("site.conf"), contents="v1")
    # Salt's classic: take the site offline only when the config is about to change.
    offline = chunk(
        "cmd.run",
        "offline",
        f"test -e {harness.path('site.conf')} && echo had-conf >> {log} || echo first >> {log}",
        edges=(("prereq", conf.tag),),
    )
    res = _by_id(harness.run([offline, conf]))
    assert res["offline"]["__run_num__"] < res["conf"]["__run_num__"]
    assert Path(log).read_text() == "first\n"  # ran before the file existed
    res = _by_id(harness.run([offline, conf]))
    assert res["offline"]["changes"] == {} and res["offline"]["comment"] == "No changes detected"
    assert Path(log).read_text() == "first\n"
    # Order in the plan does not matter: the holder still runs before its target.
    Path(harness.path("site.conf")).write_text("old\n")
    res = _by_id(harness.run([conf, offline]))
    assert Path(log).read_text() == "first\nhad-conf\n"
    assert res["offline"]["__run_num__"] < res["conf"]["__run_num__"]


def test_prereq_holder_failing_stops_its_target(harness: Harness):
    conf = chunk("file.managed", "conf", harness.path("x.conf"), contents="v1")
    guard = chunk("cmd.run", "guard", "exit 1", edges=(("prereq", conf.tag),))
    res = _by_id(harness.run([guard, conf]))
    assert res["guard"]["result"] is False
    assert res["conf"]["result"] is False and "requisite failed" in res["conf"]["comment"]
    assert not Path(harness.path("x.conf")).exists()


def test_prereq_in_test_mode_reports_without_running(harness: Harness):
    log = harness.path("log")
    conf = chunk("file.managed", "conf", harness.path("p.conf"), contents="v1")
    offline = chunk("cmd.run", "offline", f"echo x >> {log}", edges=(("prereq", conf.tag),))
    res = _by_id(harness.run([offline, conf], test=True))
    assert res["offline"]["result"] is None and res["conf"]["result"] is None
    assert not Path(log).exists() and not Path(harness.path("p.conf")).exists()


def test_failhard_stops_the_run_and_later_states_are_absent(harness: Harness):
    first = chunk("file.managed", "first", harness.path("first"), contents="1")
    boom = chunk("test.fail_without_changes", "boom", failhard=True)
    later = chunk("file.managed", "later", harness.path("later"), contents="2")
    res = _by_id(harness.run([first, boom, later]))
    assert set(res) == {"first", "boom"}
    assert Path(harness.path("first")).exists() and not Path(harness.path("later")).exists()
    # Global failhard does the same for any failing state.
    plain = chunk("test.fail_without_changes", "plain")
    res = _by_id(harness.run([plain, later], failhard=True))
    assert set(res) == {"plain"}


def test_test_mode_dependents_of_pending_states_are_checked_not_failed(harness: Harness):
    d = chunk("file.directory", "d", harness.path("newdir"))
    f = chunk(
        "file.managed",
        "f",
        harness.path("newdir/f"),
        contents="x",
        makedirs=True,
        edges=(("require", d.tag),),
    )
    res = _by_id(harness.run([d, f], test=True))
    assert res["d"]["result"] is None and res["f"]["result"] is None
    assert res["f"]["changes"] == {"newfile": harness.path("newdir/f")}  # Salt's test shape


def test_return_shape_is_salts(harness: Harness):
    c = chunk("test.succeed_with_changes", "x", sls="web.nginx")
    ((tag, ret),) = harness.run([c]).items()
    assert tag == "test_|-x_|-x_|-succeed_with_changes"
    assert set(ret) == {
        "name",
        "result",
        "changes",
        "comment",
        "duration",
        "start_time",
        "__run_num__",
        "__sls__",
        "__id__",
    }
    assert (
        ret["__sls__"] == "web.nginx"
        and isinstance(ret["duration"], float)
        and ret["__run_num__"] == 0
    )


def test_listen_calls_the_watch_action_once_at_the_end_of_the_run(harness: Harness):
    log = harness.path("log")
    reload = chunk(
        "cmd.wait",
        "reload",
        f"echo reload >> {log}",
        edges=(
            ("listen", "file_|-a_|-" + harness.path("a") + "_|-managed"),
            ("listen", "file_|-b_|-" + harness.path("b") + "_|-managed"),
        ),
    )
    a = chunk("file.managed", "a", harness.path("a"), contents="1")
    b = chunk("file.managed", "b", harness.path("b"), contents="2")
    res = harness.run([reload, a, b])
    listener = res[f"cmd_|-listener_reload_|-echo reload >> {log}_|-mod_watch"]
    assert listener["__run_num__"] == 3 and listener["changes"]["retcode"] == 0
    assert Path(log).read_text() == "reload\n"
    res = harness.run([reload, a, b])
    assert len(res) == 3 and Path(log).read_text() == "reload\n"


def test_prereq_holder_does_not_run_when_its_target_cannot_run(harness: Harness):
    log = harness.path("log")
    bad = chunk("test.fail_without_changes", "bad")
    conf = chunk(
        "file.managed", "conf", harness.path("c"), contents="x", edges=(("require", bad.tag),)
    )
    offline = chunk("cmd.run", "offline", f"echo x >> {log}", edges=(("prereq", conf.tag),))
    res = _by_id(harness.run([bad, offline, conf]))
    assert res["conf"]["result"] is False and res["offline"]["result"] is False
    assert not Path(log).exists()


def test_the_runner_masks_secrets_in_names_comments_and_changes(harness: Harness):
    secret = "canary-5f2b9c"
    ctx = harness.ctx(pillar={"db": {"password": secret}})
    ctx.mask = lambda text: text.replace(secret, "***")
    from minion.state.runner import run_plan

    chunks = [
        chunk("file.managed", "conf", harness.path("db.conf"), contents=f"password={secret}"),
        chunk("cmd.run", "use", f"echo {secret}; echo {secret} >&2; exit 1"),
    ]
    results = run_plan(chunks, ctx)
    assert secret not in repr(results)
    assert Path(harness.path("db.conf")).read_text() == f"password={secret}\n"  # the host has it
