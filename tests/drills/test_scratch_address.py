"""A drill checks SOURCE's health against SCRATCH's address from SCRATCH's own grains: only a
plain reachable IP counts (the daemon itself probes it; a forged 0.0.0.0 or host:port/path
would aim those probes at the master's own services). Stand-in daemon: grains only."""
from __future__ import annotations

from types import SimpleNamespace

from master.drills.verify import _ScratchHealth


def test_scratch_address_skips_forged_grains():
    grains = {"scratch1": {"ipv4": ["0.0.0.0", "localhost:5432/#", "169.254.169.254", "127.0.0.1", "10.231.0.7"]},
              "scratch2": {"ipv4": ["0.0.0.0"]}}
    health = _ScratchHealth(SimpleNamespace(services=SimpleNamespace(grains=grains)), None, 1.0)
    assert health.address_of("scratch1") == "10.231.0.7"
    assert health.address_of("scratch2") is None
