"""The backup jobs of the pillar as scheduled jobs, so the minion's scheduler runs them.

    jobs = scheduled_jobs(pillar.get("backup"))     # [ScheduledJob]: backup:NAME -> backup.run NAME,
                                                    #  backup:verify -> backup.check

They run like every pillar schedule job (recorded in the master's job store, spooled while it
is away) and, as schedules do, a slot missed while the host was down runs once at the next start.
"""
from __future__ import annotations

import logging
from typing import Any, Mapping

from minion.schedule_spec import ScheduledJob

log = logging.getLogger("lp.minion.backup")

PREFIX = "backup:"


def scheduled_jobs(backup: Any) -> list[ScheduledJob]:
    """One scheduled job per declared backup job (and the verify run); bad entries are logged and left out."""
    if not isinstance(backup, Mapping):
        return []
    from core.errors import ConfigError
    from core.cronexpr import check_cron
    from minion.backup.spec import parse_job

    declared = backup.get("jobs")
    jobs: list[ScheduledJob] = []
    for name, body in declared.items() if isinstance(declared, Mapping) else ():
        try:
            job = parse_job(str(name), body)
        except ConfigError as exc:
            log.warning("backup job not scheduled: %s", exc)
            continue
        if job.enabled:
            jobs.append(ScheduledJob(name=PREFIX + job.name, function="backup.run", args=(job.name,),
                                     cron=job.cron, source="pillar"))
    verify = backup.get("verify")
    if isinstance(verify, Mapping):
        try:
            jobs.append(ScheduledJob(name=PREFIX + "verify", function="backup.check",
                                     cron=check_cron(verify.get("cron"), "pillar backup:verify"), source="pillar"))
        except ConfigError as exc:
            log.warning("backup verify not scheduled: %s", exc)
    return jobs
