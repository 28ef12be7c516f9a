"""Lifecycle pieces without processes: which jobs get scheduled from config, pillar and defaults."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from minion.lifecycle import Lifecycle
from minion.schedule_spec import DRIFT_JOB_NAME, MINE_JOB_NAME, parse_schedule


@dataclass(frozen=True)
class Config:
    cache_dir: str
    id: str = "web1"
    startup_states: str = "highstate"
    schedule: Mapping[str, Any] = field(default_factory=dict)
    drift: Mapping[str, Any] = field(default_factory=dict)
    mine_interval: float | None = None


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
    assert set(jobs) == {DRIFT_JOB_NAME, MINE_JOB_NAME, "a"}
    assert jobs["a"].function == "cmd.run" and jobs["a"].source == "pillar"
    assert "tset.ping" in caplog.text


def test_bad_settings_are_logged_and_the_defaults_kept(tmp_path, caplog):
    config = Config(str(tmp_path), schedule={"x": {"minutes": 5}}, drift={"interval": -1}, mine_interval=0)
    life = Lifecycle(config, {}, _never, _no_job)
    assert [j.name for j in life.jobs()] == [DRIFT_JOB_NAME, MINE_JOB_NAME]
    assert life.drift is not None and life.drift.interval == 1800
    assert life.mine.interval == 3600
    assert "schedule ignored" in caplog.text and "drift settings ignored" in caplog.text
    assert "mine_interval must be a number of minutes above 0 (like `mine_interval: 60`)" in caplog.text


def test_drift_check_can_be_turned_off(tmp_path):
    life = Lifecycle(Config(str(tmp_path), drift={"enabled": False}), {}, _never, _no_job)
    assert [j.name for j in life.jobs()] == [MINE_JOB_NAME]


def test_the_mine_updates_at_start_then_every_mine_interval_minutes(tmp_path):
    life = Lifecycle(Config(str(tmp_path), mine_interval=15), {}, _never, _no_job)
    mine = {j.name: j for j in life.jobs()}[MINE_JOB_NAME]
    assert (mine.function, mine.interval, mine.source) == ("mine.update", 900.0, "builtin")
