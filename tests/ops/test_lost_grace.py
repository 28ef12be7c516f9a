"""InFlight: a minion whose job subscription drops is lost only if it stays away.

A link reset re-opens a minion's sockets while its job keeps running; calling the job lost then
made `lpmaster backup run` exit 2 in the middle of a good backup. The services here are a
stand-in holding what InFlight reads (who is subscribed) and records (returns)."""
from __future__ import annotations

import asyncio
import time

from core.jobstate import is_lost
from core.wire import Job
from master import jobwait
from master.jobwait import InFlight


class Services:
    def __init__(self) -> None:
        self.subscribed: dict[str, set[object]] = {"web1": {object()}}
        self.returns: list[tuple[str, object]] = []

    def store_return(self, minion_id: str, ret: object) -> None:
        self.returns.append((minion_id, ret))


def _dropped_mid_job(monkeypatch) -> Services:
    """web1 runs a backup job and its job subscription drops (grace shortened to 0.2 s)."""
    monkeypatch.setattr(jobwait, "LOST_GRACE_S", 0.2)
    services = Services()
    flight = InFlight(services)
    flight.published(Job(jid="2" * 20 + "abcdef", fun="backup.run", expires=time.time() + 60), ["web1"])
    services.subscribed.pop("web1")
    flight.presence_changed("web1", False)
    return services


async def test_a_minion_back_within_the_grace_keeps_its_job(monkeypatch):
    services = _dropped_mid_job(monkeypatch)
    services.subscribed["web1"] = {object()}        # re-subscribed: its sockets were re-opened
    await asyncio.sleep(0.4)
    assert services.returns == []


async def test_a_minion_that_stays_away_has_its_job_recorded_lost(monkeypatch):
    services = _dropped_mid_job(monkeypatch)
    await asyncio.sleep(0.4)
    ((mid, ret),) = services.returns
    assert mid == "web1" and is_lost(ret.retcode) and "dropped" in ret.ret
