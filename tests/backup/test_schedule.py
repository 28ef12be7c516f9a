"""The pillar's backup jobs become scheduled jobs of the minion (the scheduler then catches up
missed slots at start, as it does for every job)."""
from __future__ import annotations

from minion.backup.schedule import scheduled_jobs


def test_each_job_and_the_verify_run_are_scheduled_and_bad_ones_left_out() -> None:
    jobs = scheduled_jobs({"jobs": {"db": {"source": "postgres", "database": "linkpeek", "cron": "0 3 * * *"},
                                    "off": {"source": "files", "paths": ["/etc"], "cron": "0 4 * * 0", "enabled": False},
                                    "bad": {"source": "files", "paths": ["/etc"], "cron": "sometimes"}},
                           "verify": {"cron": "0 5 * * 0"}})
    assert {(j.name, j.function, j.args, j.cron) for j in jobs} == {
        ("backup:db", "backup.run", ("db",), "0 3 * * *"),
        ("backup:verify", "backup.check", (), "0 5 * * 0")}
    assert all(j.source == "pillar" for j in jobs)
    assert scheduled_jobs(None) == [] and scheduled_jobs({"jobs": "nonsense"}) == []
