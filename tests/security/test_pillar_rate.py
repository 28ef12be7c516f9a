"""An accepted key cannot make the master compile pillar (decrypt secrets, render Jinja) as fast
as it sends: `pillar` and `mine_update` share a token bucket per minion (master/ratelimit.py);
the refusal says so, the master logs it once per window, and other minions are served."""
from __future__ import annotations

import msgpack

from master import ratelimit
from tests.cluster import wait_for
from tests.security.conftest import VAULT_SECRET, assert_unharmed, snapshot
from tests.security.rogue import Rogue, fresh_keypair, minion_keypair

FLOOD = 400


def test_a_minion_flooding_pillar_requests_is_limited_and_another_is_still_served(guarded):
    before = snapshot(guarded)
    flooder = Rogue(guarded, fresh_keypair())      # a minion of its own: others' buckets stay full
    vault = Rogue(guarded, minion_keypair(guarded, "vault1"))
    try:
        assert flooder.ask_until_answered({"type": "register", "id": "flood1"})["state"] == "pending"
        guarded.accept_keys("flood1")
        wait_for(lambda: flooder.ask({"type": "heartbeat"}, timeout=1) is not None, timeout=20,
                 what="flood1 accepted")
        for i in range(FLOOD):            # the last one a mine_update: its pillar is compiled too
            flooder.send_raw(msgpack.packb({"v": 1, "type": "mine_update" if i == FLOOD - 1 else "pillar",
                                            "data": {}, "rid": i}))
        # while the flood is being answered, another minion's pillar is compiled and sent
        reply = vault.ask_until_answered({"type": "pillar"}, timeout=15)
        assert reply["type"] == "pillar" and reply["pillar"]["vault"]["token"] == VAULT_SECRET
        replies = [flooder.recv(timeout=15) for _ in range(FLOOD)]
    finally:
        flooder.close()
        vault.close()
    assert None not in replies
    last = next(r for r in replies if r.get("rid") == FLOOD - 1)
    assert last["type"] == "error" and "too often" in last["error"], last
    served = [r for r in replies if r["type"] == "pillar"]
    refused = [r for r in replies if r["type"] == "error"]
    assert len(served) + len(refused) == FLOOD
    assert ratelimit.PILLAR_COMPILES_BURST <= len(served) < FLOOD // 2, len(served)   # the burst, then the steady rate
    assert all("too often" in r["error"] and "retry" in r["error"] and r.get("retry") is True
               for r in refused), refused[:3]
    notes = [line for line in guarded.master_log().splitlines()
             if "over its limit" in line and "flood1" in line]
    assert 1 <= len(notes) < len(refused) // 20, notes        # once per window, not per message
    assert guarded.cli("keys", "delete", "flood1", "--yes").returncode == 0
    assert_unharmed(guarded, before)
