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


def test_a_command_check_that_never_ends_fails_the_check_instead_of_raising(monkeypatch):
    """A job the daemon's loop never finishes (here: a stand-in sleeping an hour) fails the
    health check with a reason; the drill records a failed verify phase instead of dying on a
    bare TimeoutError."""
    import asyncio
    import threading

    from master.drills import verify

    monkeypatch.setattr(verify, "run_on", lambda *a, **k: asyncio.sleep(3600))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        health = _ScratchHealth(SimpleNamespace(), loop, 1.0)
        health.STUCK_AFTER = 0.2
        ok, why = health.run_command("scratch1", "true", 0.1)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
    assert ok is False and why == "no answer from scratch1 within 0.3 s"
