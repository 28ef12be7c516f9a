"""Fixtures of the blueprint tests: one lab (a real master on the test bridge) per module."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.blueprint.lab import Lab, prepare_caches
from tests.hostlib import ensure_bridge

DB_PASSWORD = "canary-db-pw-5e1f0c"


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    ensure_bridge()
    prepare_caches()
    root = Path(tempfile.mkdtemp(prefix="lp-blueprint-"))
    lab = Lab(root, {"linkpeek:db:password": DB_PASSWORD})
    try:
        yield lab
    finally:
        lab.close()
        if os.environ.get("LP_KEEP_TMP") != "1":
            shutil.rmtree(root, ignore_errors=True)
