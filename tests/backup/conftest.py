"""Fixtures for the backup tests: a real restic repository per module, specs made from pillar."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from minion.backup.spec import BackupSpec, parse_backup
from tests.hosts.conftest import bridge  # noqa: F401  (the fixture for the whole-host tests)

PASSWORD = "canary-Restic-Pw-7f3a91"


def make_spec(repo: str, jobs: dict[str, Any], **extra: Any) -> BackupSpec:
    return parse_backup({"repository": repo, "password": PASSWORD, "jobs": jobs, **extra}, "m1")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One restic repository shared by a module's tests (each test uses its own job names)."""
    yield tmp_path_factory.mktemp("repo") / "restic"
