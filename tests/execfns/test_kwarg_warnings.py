"""Arguments state.* and backup.* do not take.

Salt 3008.5, observed with salt-call --local: `state.apply SLS tset=True` runs the states for
real and says nothing about `tset` (state.sls, state.highstate and state.single alike), while a
function without **kwargs fails ("The following keyword arguments are not valid"). Ours: the
state functions run too and warn, naming the argument and what they take; an argument that
would change what runs (pillar=, exclude=, saltenv=) fails the job before anything runs;
backup.* take no **kwargs and are refused like every other execution function.
"""
from __future__ import annotations


def test_a_mistyped_state_apply_argument_runs_and_warns_naming_what_it_takes(fleet):
    (fleet.out / "motd").unlink(missing_ok=True)
    (ret,) = fleet.run_api("m1", "state.apply", "web", tset="True").values()
    assert ret["success"] is True, ret
    states = sorted(ret["ret"].values(), key=lambda r: r["__run_num__"])
    assert states[0]["warnings"] == [
        "state.apply does not take 'tset' (ignored); it takes: *mods, test, strict"]
    assert all("warnings" not in r for r in states[1:])
    assert (fleet.out / "motd").exists()  # as Salt: the typo is not test=True


def test_the_highstate_text_shows_the_warning_and_counts_it(fleet):
    res = fleet.cli("run", "m1", "state.highstate", "test=True", "verbose_typo=1")
    assert res.returncode == 0, res.stdout + res.stderr
    assert ("Warnings: state.highstate does not take 'verbose_typo' (ignored); "
            "it takes: test, strict") in res.stdout
    assert "Warnings:  1" in res.stdout.split("Summary for m1")[-1]


def test_a_sls_that_does_not_compile_gets_the_warning_as_a_line(fleet):
    (ret,) = fleet.run_api("m1", "state.sls", "broken", bogus="1").values()
    assert ret["success"] is False and isinstance(ret["ret"], list)
    assert ret["ret"][-1] == "state.sls does not take 'bogus' (ignored); it takes: *mods, test, strict"


def test_arguments_that_would_change_what_runs_fail_before_anything_runs(fleet):
    (ret,) = fleet.run_api("m1", "state.apply", "fails", exclude="fails").values()
    assert ret["success"] is False and "exclude= is not supported" in str(ret["ret"])
    assert "Failure!" not in str(ret["ret"])  # test.fail_without_changes never ran
    (ret,) = fleet.run_api("m1", "state.apply", "web", pillar='{"x": 1}').values()
    assert ret["success"] is False and "put the value in the pillar" in str(ret["ret"])
    (ret,) = fleet.run_api("m1", "state.apply", "web", test="True", saltenv="base").values()
    assert ret["success"] is True and all("warnings" not in r for r in ret["ret"].values())


def test_backup_functions_refuse_an_unknown_argument_naming_what_they_take(fleet):
    (ret,) = fleet.run_api("m1", "backup.restore", "files", to="/tmp/x", foce="True").values()
    assert ret["success"] is False
    assert ("backup.restore does not take 'foce'; it takes: job, snapshot, in_place, to, force, "
            "host, exclude") in str(ret["ret"])
    (ret,) = fleet.run_api("m1", "backup.check", full="1").values()
    assert "backup.check does not take 'full'; it takes no arguments" in str(ret["ret"])


def test_strict_makes_the_unknown_argument_an_error_and_nothing_runs(fleet):
    (fleet.out / "motd").unlink(missing_ok=True)
    (ret,) = fleet.run_api("m1", "state.apply", "web", strict="True", tset="True").values()
    assert ret["success"] is False
    assert "state.apply does not take 'tset'; it takes: *mods, test, strict" in str(ret["ret"])
    assert not (fleet.out / "motd").exists()
