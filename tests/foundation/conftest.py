"""Fixtures for the foundation tests: real lpmaster/lpminion processes on loopback.

`Cluster` (tests/cluster.py) makes a master dir with free random ports, starts `lpmaster
serve`, and adds minions (`lpminion init` + `lpminion start`); here with short heartbeats
and backoff, and a master that marks a minion down after 3 s.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.cluster import STARTUP_TIMEOUT, Cluster as _Cluster, free_ports, wait_for

__all__ = ["STARTUP_TIMEOUT", "Cluster", "free_ports", "wait_for"]


class Cluster(_Cluster):
    """The shared cluster with the foundation tests' fast timings."""

    def __init__(self, root: Path, lpmaster: str, lpminion: str) -> None:
        super().__init__(root, lpmaster, lpminion, minion_args=["--heartbeat", "0.5"],
                         minion_config="register_backoff_max: 0.5\nrequest_timeout: 2\n")
        self.add_master_config("minion_down_after: 3\n")


@pytest.fixture
def cluster(tmp_path: Path, lpmaster_bin: str, lpminion_bin: str):
    c = Cluster(tmp_path, lpmaster_bin, lpminion_bin)
    try:
        c.start_master()
        yield c
    finally:
        c.close()


@pytest.fixture(scope="module")
def trio(tmp_path_factory: pytest.TempPathFactory, lpmaster_bin: str, lpminion_bin: str):
    """One master with three accepted, answering minions (m1, m2, m3), shared by a module."""
    c = Cluster(tmp_path_factory.mktemp("trio"), lpmaster_bin, lpminion_bin)
    try:
        c.start_master()
        c.add_minions("m1", "m2", "m3")
        yield c
    finally:
        c.close()
