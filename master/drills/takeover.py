"""The last phase of `lpmaster rebuild LOST --onto NEW`: NEW becomes LOST.

1. NEW's minion writes LOST's id into its config (`minion.adopt_id`), with LOST's grains it
   lacks (custom ones such as `roles`, which top.sls matches on), and restarts once the return
   is delivered;
2. the key store accepts NEW's key under LOST's id, moves LOST's old key to rejected and
   forgets NEW's id; the daemon cuts every live connection of the old key at once;
3. the master waits until LOST (now the new machine) answers, converges it as itself (its
   own highstate: same role, with its own id in every template) and asks for a drift report,
   so `lpmaster drift` shows the fleet whole again.

Backups, mine, drift and job history live under the id, so they carry on: the new machine's
pillar is LOST's, its backups go on into LOST's repository and catalogue.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from master.drills.jobs import answers, run_on
from master.drills.record import Phase

log = logging.getLogger("lp.master.drills")

ANSWER_TIMEOUT_S = 90.0


def custom_grains(services: Any, lost: str, new: str) -> dict[str, Any]:
    """LOST's grains that NEW does not have: the custom ones its config set (e.g. roles), as the
    drill's rendering took them (minion/remote_apply.py rendering_as)."""
    mine = services.grains.get(new, {})
    return {k: v for k, v in services.grains.get(lost, {}).items() if k not in mine and k not in ("id", "scratch")}


async def take_over(runner: Any, lost: str, new: str) -> Phase:
    daemon = runner.daemon
    services = daemon.services
    phase = Phase("takeover", 0.0)
    ret, why = await run_on(daemon, new, "minion.adopt_id", [lost], {"grains": custom_grains(services, lost, new)},
                            timeout=60, user=f"rebuild:{lost}")
    if ret is None or not ret.success:
        phase.error = why or f"{new} refused to take the id {lost}: {ret.ret if ret else ''}"
        return phase
    old = services.keystore.transfer(new, lost)
    cut = daemon.keys_changed()
    services.subscribed.pop(new, None)
    if lost in services.grains:
        services.grains[lost] = {**services.grains[lost], "scratch": False}
    log.warning("rebuild: %s's key now accepted as %s; old key of %s %s", new, lost, lost,
                "revoked" if old else "(there was none)")
    phase.items.append({"step": "keys", "old_key_revoked": old is not None, "connections_cut": sorted(set(cut))})
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ANSWER_TIMEOUT_S
    while not await answers(daemon, lost, timeout=2.0):
        if loop.time() > deadline:
            phase.error = f"{new} did not come back as {lost} within {ANSWER_TIMEOUT_S:.0f}s"
            return phase
        await asyncio.sleep(0.5)
    ret, why = await run_on(daemon, lost, "state.highstate", [], {}, timeout=runner.phase_timeout,
                            user=f"rebuild:{lost}")
    if ret is None or not ret.success:
        phase.error = why or f"{lost} did not converge as itself after the takeover"
        return phase
    ret, why = await run_on(daemon, lost, "drift.check", [], {}, timeout=runner.phase_timeout,
                            user=f"rebuild:{lost}")
    drift = ret.ret.get("status") if ret is not None and isinstance(ret.ret, dict) else None
    phase.items.append({"step": "drift", "status": drift})
    phase.passed = True
    phase.detail = f"{new} now runs as {lost}; old key {'revoked' if old else 'absent'}; drift {drift or 'unknown'}"
    return phase
