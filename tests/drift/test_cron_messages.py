"""One bad cron expression reads the same wherever a schedule is declared: the minion's
`schedule:`, backup jobs and verify in pillar, the master's drills and its own backup."""
from __future__ import annotations

from typing import Any, Callable

import pytest

from core.errors import ConfigError
from master.drills.schedule import parse_schedule as parse_drills
from minion.backup.spec import parse_backup
from minion.schedule_spec import parse_schedule

BAD = "61 * * * *"
BACKUP = {"repository": "/srv/restic", "password": "pw"}
PLACES: dict[str, Callable[[], Any]] = {
    "config schedule job 'j'": lambda: parse_schedule({"j": {"function": "test.ping", "cron": BAD}}),
    "pillar backup:jobs:x": lambda: parse_backup(
        {**BACKUP, "jobs": {"x": {"source": "files", "paths": ["/etc"], "cron": BAD}}}, "web1"),
    "pillar backup:verify": lambda: parse_backup({**BACKUP, "verify": {"cron": BAD}, "jobs": {}}, "web1"),
    "master.yaml: drills: web1": lambda: parse_drills({"web1": {"onto": "s1", "cron": BAD}}),
}


def _message(parse: Callable[[], Any]) -> str:
    with pytest.raises(ConfigError) as err:
        parse()
    return str(err.value)


def test_the_same_message_names_the_place_and_shows_how_to_write_it() -> None:
    messages = {where: _message(parse) for where, parse in PLACES.items()}
    for where, message in messages.items():
        assert message.startswith(f"{where}: cron must be a cron expression like \""), message
        assert message.endswith(f"(minute hour day month weekday), not '{BAD}'"), message
