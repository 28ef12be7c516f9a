"""The `backup:` pillar: what parses, and errors that name the key."""
from __future__ import annotations

import pytest

from core.errors import ConfigError
from minion.backup.spec import parse_backup

BASE = {"repository": "/srv/restic", "password": "pw"}


@pytest.mark.parametrize("jobs, message", [
    ({"x": {"source": "tape", "cron": "0 3 * * *"}}, "source must be one of"),
    ({"x": {"source": "files", "paths": ["etc"], "cron": "0 3 * * *"}}, "absolute path"),
    ({"x": {"source": "files", "paths": ["/etc"], "cron": "every night"}}, "cron must be"),
    ({"x": {"source": "command", "command": "true", "filename": "../x", "cron": "0 3 * * *"}}, "plain file name"),
    ({"x": {"source": "postgres", "database": "-c evil", "cron": "0 3 * * *"}}, "database must be"),
    ({"x": {"source": "files", "paths": ["/etc"], "cron": "0 3 * * *", "keep": {"daily": 0}}}, "positive"),
    ({"verify": {"source": "files", "paths": ["/etc"], "cron": "0 3 * * *"}}, "not `verify`"),
    ({"x": {"source": "files", "paths": ["/etc"], "cron": "0 3 * * *", "colour": 1}}, "unknown keys colour"),
])
def test_bad_jobs_are_refused_naming_the_key(jobs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        parse_backup({**BASE, "jobs": jobs}, "web1")
    assert "backup:jobs:" in str(err.value)


def test_every_error_at_once_and_env_may_not_set_the_password() -> None:
    with pytest.raises(ConfigError) as err:
        parse_backup({"repository": "", "password": "", "env": {"RESTIC_PASSWORD": "x"}, "jobs": {}}, "web1")
    text = str(err.value)
    assert "repository" in text and "password" in text and "RESTIC_PASSWORD" in text


def test_defaults_for_database_jobs() -> None:
    spec = parse_backup({**BASE, "jobs": {
        "db": {"source": "postgres", "database": "linkpeek", "cron": "0 3 * * *"},
        "lite": {"source": "sqlite", "path": "/srv/app/app.db", "cron": "0 3 * * *"},
        "off": {"source": "files", "paths": ["/etc"], "cron": "0 3 * * *", "enabled": False}}}, "web1")
    assert spec.host == "web1"
    assert spec.job("db").filename == "linkpeek.pgdump" and spec.job("db").user == "postgres"
    assert spec.job("lite").filename == "app.db"
    assert "off" not in spec.jobs
    with pytest.raises(ConfigError, match="no backup job 'nope'"):
        spec.job("nope")


def test_ssh_port_is_checked_like_the_masters_and_reported_with_the_rest() -> None:
    with pytest.raises(ConfigError) as err:
        parse_backup({**BASE, "password": "", "ssh": {"key": "KEY", "port": "22x"}, "jobs": {}}, "web1")
    assert "pillar backup:ssh:port must be a port number from 1 to 65535" in str(err.value)
    assert "pillar backup:password" in str(err.value)
    ssh = parse_backup({**BASE, "ssh": {"key": "KEY", "port": 2222}, "jobs": {}}, "web1").ssh
    assert ssh is not None and (ssh.key, ssh.port) == ("KEY\n", 2222)
