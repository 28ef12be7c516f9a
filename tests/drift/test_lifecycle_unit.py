"""Lifecycle pieces without processes: which jobs get scheduled from config, pillar and defaults."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from minion.lifecycle import Lifecycle
from minion.schedule_spec import DRIFT_JOB_NAME, parse_schedule


@dataclass(frozen=True)
class Config:
    cache_dir: str
    id: str = "web1"
    startup_states: str = "highstate"
    schedule: Mapping[str, Any] = field(default_factory=dict)
    drift: Mapping[str, Any] = field(default_factory=dict)


async def _never(message):
    raise AssertionError("no request expected")


async def _no_job(job):
    return None


def test_jobs_merge_defaults_config_and_pillar_and_drop_unknown_functions(tmp_path, caplog):
    config = Config(str(tmp_path), schedule={"a": {"function": "test.ping", "minutes": 5},
                                             "typo": {"function": "tset.ping", "minutes": 5}})
    life = Lifecycle(config, {}, _never, _no_job)
    life.pillar_jobs = parse_schedule({"a": {"function": "cmd.run", "job_args": ["true"], "hours": 1}}, "pillar")
    jobs = {j.name: j for j in life.jobs()}
    assert set(jobs) == {DRIFT_JOB_NAME, "a"}
    assert jobs["a"].function == "cmd.run" and jobs["a"].source == "pillar"
    assert "tset.ping" in caplog.text


def test_bad_settings_are_logged_and_the_defaults_kept(tmp_path, caplog):
    config = Config(str(tmp_path), schedule={"x": {"minutes": 5}}, drift={"interval": -1})
    life = Lifecycle(config, {}, _never, _no_job)
    assert [j.name for j in life.jobs()] == [DRIFT_JOB_NAME]
    assert life.drift is not None and life.drift.interval == 1800
    assert "schedule ignored" in caplog.text and "drift settings ignored" in caplog.text


def test_drift_check_can_be_turned_off(tmp_path):
    life = Lifecycle(Config(str(tmp_path), drift={"enabled": False}), {}, _never, _no_job)
    assert life.jobs() == []
