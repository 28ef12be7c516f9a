"""A cron expression from config or pillar, checked the one way every schedule checks it:
the minion's `schedule:`, backup jobs and verify, the master's self-backup and drills.

    cron = check_cron(body.get("cron"), "pillar backup:jobs:db")   # the text, or ConfigError
    due = next_time(cron, time.time())                                # epoch seconds, local time
"""
from __future__ import annotations

from typing import Any

from core.errors import ConfigError


def is_cron(expr: Any) -> bool:
    """Whether `expr` is a cron expression croniter takes (five fields, or six with seconds)."""
    from croniter import croniter

    return isinstance(expr, str) and bool(croniter.is_valid(expr))


def check_cron(expr: Any, where: str, example: str = "0 3 * * *") -> str:
    """`expr` when it is a cron expression; ConfigError naming `where` with an example otherwise."""
    if not is_cron(expr):
        raise ConfigError(f"{where}: cron must be a cron expression like \"{example}\" "
                          f"(minute hour day month weekday), not {repr(expr)[:60]}")
    return str(expr)


def next_time(expr: str, after: float) -> float:
    """The first time `expr` names after `after` (epoch seconds), read in the host's local time."""
    from datetime import datetime

    from croniter import croniter

    return float(croniter(expr, datetime.fromtimestamp(after).astimezone()).get_next(float))
