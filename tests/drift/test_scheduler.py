"""The asyncio scheduler with its real persistence file: missed slots, no double starts, restarts."""
from __future__ import annotations

import asyncio
import json
import os
import time

from minion.schedule_spec import parse_schedule
from minion.scheduler import ScheduleBook, Scheduler


async def wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def write_state(path, jobs):
    with open(path, "w") as fh:
        json.dump({"version": 1, "jobs": jobs}, fh)


async def test_job_whose_slot_passed_while_down_runs_once_after_start(tmp_path):
    state = tmp_path / "schedule.json"
    hour_ago = time.time() - 3600
    # last served an hour ago, every minute: sixty slots were missed while the minion was stopped
    write_state(state, {"backup": {"baseline": hour_ago, "last_slot": hour_ago, "last_run": hour_ago}})
    jobs = parse_schedule({"backup": {"function": "backup.run", "minutes": 1}})
    ran: list[str] = []

    async def run_job(job):
        ran.append(job.name)

    sched = Scheduler(jobs, str(state), run_job)
    task = asyncio.create_task(sched.run())
    await wait_until(lambda: ran)
    await asyncio.sleep(0.3)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert ran == ["backup"]
    saved = json.loads(state.read_text())["jobs"]["backup"]
    assert saved["last_run"] > hour_ago + 3500
    assert os.stat(state).st_size > 0


async def test_records_survive_a_restart_so_a_job_is_not_rerun(tmp_path):
    state = tmp_path / "sub" / "schedule.json"
    jobs = parse_schedule({"ping": {"function": "test.ping", "seconds": 0.2},
                           "hourly": {"function": "test.ping", "hours": 1}})
    ran: list[str] = []

    async def run_job(job):
        ran.append(job.name)

    sched = Scheduler(jobs, str(state), run_job)
    task = asyncio.create_task(sched.run())
    await wait_until(lambda: ran.count("ping") >= 3)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert "hourly" not in ran
    book = ScheduleBook(str(state))
    book.load()
    assert set(book.records) == {"ping", "hourly"}
    first_baseline = book.records["hourly"].baseline
    # second life: the hourly job keeps its baseline, so it still waits for its slot
    sched2 = Scheduler(jobs, str(state), run_job)
    task = asyncio.create_task(sched2.run())
    await wait_until(lambda: ran.count("ping") >= 5)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert "hourly" not in ran
    assert sched2.book.records["hourly"].baseline == first_baseline


async def test_a_slow_job_is_not_started_twice_and_a_failing_one_does_not_stop_others(tmp_path):
    jobs = parse_schedule({"slow": {"function": "x.slow", "seconds": 0.05},
                           "boom": {"function": "x.boom", "seconds": 0.05}})
    starts = {"slow": 0, "boom": 0}
    release = asyncio.Event()

    async def run_job(job):
        starts[job.name] += 1
        if job.name == "slow":
            await release.wait()
        else:
            raise RuntimeError("job failed")

    sched = Scheduler(jobs, str(tmp_path / "s.json"), run_job)
    task = asyncio.create_task(sched.run())
    await wait_until(lambda: starts["boom"] >= 4)
    assert starts["slow"] == 1
    release.set()
    await wait_until(lambda: starts["slow"] >= 2)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_unreadable_state_file_starts_afresh(tmp_path):
    state = tmp_path / "schedule.json"
    state.write_text("{not json")
    ran: list[str] = []

    async def run_job(job):
        ran.append(job.name)

    jobs = parse_schedule({"now": {"function": "test.ping", "hours": 1, "run_on_start": True}})
    sched = Scheduler(jobs, str(state), run_job)
    task = asyncio.create_task(sched.run())
    await wait_until(lambda: ran == ["now"])
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert json.loads(state.read_text())["version"] == 1


async def test_a_job_known_only_later_keeps_its_missed_slot(tmp_path):
    """Pillar jobs arrive after the scheduler started: their records must not be dropped meanwhile."""
    state = tmp_path / "schedule.json"
    day_ago = time.time() - 86400
    write_state(state, {"from_pillar": {"baseline": day_ago, "last_slot": day_ago, "last_run": day_ago}})
    config_jobs = parse_schedule({"other": {"function": "test.ping", "hours": 1}})
    pillar_jobs = parse_schedule({"from_pillar": {"function": "test.ping", "hours": 1}}, source="pillar")
    ran: list[str] = []

    async def run_job(job):
        ran.append(job.name)

    sched = Scheduler(config_jobs, str(state), run_job)
    task = asyncio.create_task(sched.run())
    await wait_until(lambda: "other" in json.loads(state.read_text())["jobs"])
    sched.set_jobs(config_jobs + pillar_jobs)
    await wait_until(lambda: ran == ["from_pillar"])
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def test_records_of_jobs_long_gone_are_pruned(tmp_path):
    from minion.schedule_spec import JobRecord

    book = ScheduleBook(str(tmp_path / "s.json"))
    now = 100 * 86400.0
    book.records = {"gone": JobRecord(baseline=0.0, last_run=1.0), "recent": JobRecord(baseline=now - 60),
                    "kept": JobRecord(baseline=0.0)}
    book.prune(["kept"], now)
    assert set(book.records) == {"recent", "kept"}
