"""What `lpmaster backups` and `drift` call each job: a table of runs in, status out."""
from __future__ import annotations

import pytest

from master.backups.catalogue import Declared
from master.backups.status import declared_from_pillar, interval, job_status

NOW = 1_800_000_000.0
DAY = 86400.0
DAILY = Declared("backup", "0 3 * * *", "postgres")
VERIFY = Declared("verify", "0 5 * * 0", "restic check")


def run(age: float, success: bool = True, error: str | None = None) -> dict:
    return {"finished_at": NOW - age, "success": success, "error": error, "snapshot_id": "abcd1234"}


@pytest.mark.parametrize("decl, last, good, status", [
    (DAILY, None, None, "never run"),
    (DAILY, run(60, False, "pg_dump exited 1"), None, "never run"),
    (DAILY, run(3600), run(3600), "ok"),
    (DAILY, run(1.9 * DAY), run(1.9 * DAY), "ok"),
    (DAILY, run(2.1 * DAY), run(2.1 * DAY), "stale"),
    (DAILY, run(60, False, "repository unreachable"), run(DAY), "failing"),
    (VERIFY, None, None, "unverified"),
    (VERIFY, run(DAY), run(DAY), "ok"),
    (VERIFY, run(15 * DAY), run(15 * DAY), "unverified"),
    (VERIFY, run(60, False, "pack damaged"), run(DAY), "failing"),
])
def test_status(decl: Declared, last: dict | None, good: dict | None, status: str) -> None:
    row = job_status("web1", "db", decl, last, good, NOW)
    assert row.status == status
    assert row.last_error == (last["error"] if last is not None and not last["success"] else None)


def test_two_intervals_of_the_cron() -> None:
    assert interval("0 3 * * *", NOW) == DAY
    assert interval("0 4 * * 0", NOW) == 7 * DAY
    assert job_status("h", "j", DAILY, None, None, NOW).max_age == 2 * DAY


def test_declared_from_the_compiled_pillar() -> None:
    pillar = {"jobs": {"db": {"source": "postgres", "cron": "0 3 * * *"}, "off": {"source": "files", "cron": "0 3 * * *",
                                                                             "enabled": False},
                       "bad": {"source": "files", "cron": "never"}},
              "verify": {"cron": "0 5 * * 0"}}
    assert declared_from_pillar(pillar) == {"db": ("backup", "0 3 * * *", "postgres"),
                                            "verify": ("verify", "0 5 * * 0", "restic check")}
    assert declared_from_pillar(None) == {}
