"""The schedule plan over a clock we pass in: parsing Salt's `schedule:`, due times, missed slots."""
from __future__ import annotations

from datetime import datetime

import pytest

from core.errors import ConfigError
from minion.schedule_spec import (DRIFT_FUNCTION, JobRecord, drift_job, due_at, mark_started,
                                  merge_jobs, parse_schedule, splay_offset)

T0 = datetime(2026, 1, 5, 12, 0, 0).astimezone().timestamp()   # local noon, on a 5-minute boundary


def job(**body):
    return parse_schedule({"j": {"function": "test.ping", **body}})[0]


def test_salt_spellings_parse():
    jobs = parse_schedule({
        "hs": {"function": "state.sls", "job_args": ["web"], "job_kwargs": {"test": True},
               "cron": "*/5 * * * *", "splay": {"start": 10, "end": 20}},
        "p": {"function": "test.echo", "args": ["hi"], "kwargs": {"x": 1}, "minutes": 1, "seconds": 30,
              "run_on_start": True},
    }, source="pillar")
    hs, p = jobs
    assert (hs.function, hs.args, dict(hs.kwargs), hs.cron, hs.splay) == (
        "state.sls", ("web",), {"test": True}, "*/5 * * * *", (10.0, 20.0))
    assert (p.args, dict(p.kwargs), p.interval, p.run_on_start, p.source) == (("hi",), {"x": 1}, 90.0, True, "pillar")


@pytest.mark.parametrize("body, message", [
    ({"minutes": 5}, "function"),
    ({"function": "test.ping"}, "exactly one"),
    ({"function": "test.ping", "minutes": 5, "cron": "* * * * *"}, "exactly one"),
    ({"function": "test.ping", "cron": "61 * * * *"}, "cron must be a cron expression like"),
    ({"function": "test.ping", "seconds": -1}, "non-negative"),
    ({"function": "test.ping", "seconds": 5, "splay": {"start": 9, "end": 3}}, "splay end"),
    ({"function": "test.ping", "seconds": 5, "whenever": 1}, "unsupported keys whenever"),
    ({"function": "test.ping", "seconds": 5, "job_args": "web"}, "must be a list"),
])
def test_bad_jobs_are_refused_with_the_job_named(body, message):
    with pytest.raises(ConfigError) as err:
        parse_schedule({"nightly": body})
    assert "nightly" in str(err.value) and message in str(err.value)


def test_every_bad_job_is_reported_at_once():
    with pytest.raises(ConfigError) as err:
        parse_schedule({"a": {"minutes": 1}, "b": {"function": "x.y"}, "ok": {"function": "x.y", "seconds": 1}})
    assert "'a'" in str(err.value) and "'b'" in str(err.value)


def test_schedule_disabled_as_a_whole_and_per_job():
    assert parse_schedule({"enabled": False, "a": {"function": "x.y", "seconds": 1}}) == []
    jobs = parse_schedule({"a": {"function": "x.y", "seconds": 1, "enabled": False}})
    assert merge_jobs(jobs) == []


def test_pillar_overrides_config_by_name():
    config = parse_schedule({"a": {"function": "x.y", "seconds": 1}, "b": {"function": "x.z", "seconds": 1}})
    pillar = parse_schedule({"a": {"function": "x.q", "hours": 1}}, source="pillar")
    merged = {j.name: j for j in merge_jobs(config, pillar)}
    assert merged["a"].function == "x.q" and merged["a"].interval == 3600
    assert merged["b"].function == "x.z"


def test_interval_job_runs_every_interval_from_its_baseline():
    j = job(minutes=5)
    rec = JobRecord(baseline=T0)
    assert due_at(j, rec, started_at=T0) == T0 + 300
    rec = mark_started(j, rec, T0 + 300)
    assert due_at(j, rec, started_at=T0) == T0 + 600


def test_cron_job_missed_many_slots_runs_once_then_back_on_its_slots():
    j = job(cron="*/5 * * * *")
    rec = JobRecord(baseline=T0, last_slot=T0, last_run=T0)
    # the host was down for an hour: twelve slots passed
    boot = T0 + 3600 + 42
    assert due_at(j, rec, started_at=boot) == T0 + 300      # in the past: due at once
    rec = mark_started(j, rec, boot)
    assert due_at(j, rec, started_at=boot) == T0 + 3900      # the next slot, not the 2nd missed one


def test_interval_job_missed_while_down_runs_once():
    j = job(hours=1)
    rec = JobRecord(baseline=T0, last_slot=T0, last_run=T0)
    boot = T0 + 5 * 3600 + 7
    assert due_at(j, rec, started_at=boot) < boot
    rec = mark_started(j, rec, boot)
    assert due_at(j, rec, started_at=boot) == boot + 3600


def test_new_cron_job_waits_for_its_first_slot():
    j = job(cron="0 * * * *")
    assert due_at(j, JobRecord(baseline=T0 + 60), started_at=T0 + 60) == T0 + 3600


def test_run_on_start_runs_at_each_start_without_moving_the_cadence():
    j = job(minutes=10, run_on_start=True)
    rec = JobRecord(baseline=T0, last_slot=T0, last_run=T0)
    start = T0 + 120
    assert due_at(j, rec, started_at=start) == start
    rec = mark_started(j, rec, start)
    assert due_at(j, rec, started_at=start) == T0 + 600
    # a later restart runs it again at start
    assert due_at(j, rec, started_at=T0 + 200) == T0 + 200


def test_run_on_start_after_missed_slot_runs_once_not_twice():
    j = job(minutes=10, run_on_start=True)
    rec = JobRecord(baseline=T0, last_slot=T0, last_run=T0)
    start = T0 + 3600
    rec = mark_started(j, rec, start)
    assert due_at(j, rec, started_at=start) == start + 600


def test_splay_is_within_bounds_stable_and_spread_across_minions():
    j = job(minutes=30, splay=300)
    offsets = {splay_offset(j, T0, salt=f"web{i}") for i in range(50)}
    assert all(0 <= o <= 300 for o in offsets)
    assert len(offsets) == 50
    assert splay_offset(j, T0, "web1") == splay_offset(j, T0, "web1")
    ranged = job(seconds=15, splay={"start": 10, "end": 20})
    assert all(10 <= splay_offset(ranged, T0 + i, "m") <= 20 for i in range(30))


def test_splayed_interval_job_does_not_drift_later_each_run():
    j = job(minutes=30, splay=300)
    rec = JobRecord(baseline=T0)
    for n in range(1, 6):
        when = due_at(j, rec, started_at=T0, salt="web1")
        assert T0 + n * 1800 <= when <= T0 + n * 1800 + 300
        rec = mark_started(j, rec, when)


def test_default_drift_job_is_highstate_test_every_30_minutes_with_splay():
    d = drift_job(None)
    assert d is not None and d.function == DRIFT_FUNCTION
    assert d.interval == 1800 and d.splay == (0.0, 300.0)
    assert drift_job(False) is None
    assert drift_job({"interval": 60, "splay": 0}).interval == 60
    with pytest.raises(ConfigError):
        drift_job({"interval": 0})
    with pytest.raises(ConfigError):
        drift_job({"intervall": 60})
    assert drift_job({"enabled": False}) is None
