"""Suite-wide fixtures. Each area keeps its own fixtures in tests/<area>/conftest.py."""
from __future__ import annotations

import os

import pytest

from tests.cluster import VENV_BIN


@pytest.fixture(scope="session")
def lpmaster_bin() -> str:
    """The installed `lpmaster` console script (real process, as users run it)."""
    return str(VENV_BIN / "lpmaster")


@pytest.fixture(scope="session")
def lpminion_bin() -> str:
    return str(VENV_BIN / "lpminion")


def pytest_collection_modifyitems(config, items):
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason="needs root for namespaces and overlayfs")
        for item in items:
            if "host" in item.keywords:
                item.add_marker(skip)
