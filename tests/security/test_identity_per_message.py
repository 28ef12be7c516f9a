"""Item 1 of issue 14: identity comes from each message's own authenticated key.

A rogue CURVE client with a never-accepted key reuses the routing id of an accepted
minion's closed connection and asks for the pillar; it must get a refusal, not vault1's
pillar and its secret.
"""
from __future__ import annotations

import msgpack

from tests.security.conftest import VAULT_SECRET, assert_unharmed, snapshot
from tests.security.rogue import Rogue, fresh_keypair, minion_keypair


def test_a_reused_routing_id_does_not_inherit_an_accepted_key(guarded):
    before = snapshot(guarded)
    rid = b"reused-routing-id"
    victim = Rogue(guarded, minion_keypair(guarded, "vault1"), routing_id=rid)
    try:
        assert victim.ask_until_answered({"type": "heartbeat"})["type"] == "ok"
        own = victim.ask({"type": "pillar"})
        assert own["type"] == "pillar" and own["pillar"]["vault"]["token"] == VAULT_SECRET
    finally:
        victim.close()
    rogue = Rogue(guarded, fresh_keypair(), routing_id=rid)
    try:
        reply = rogue.ask_until_answered({"type": "pillar"})
        assert reply["type"] == "error" and reply.get("state") == "unknown", reply
        assert VAULT_SECRET.encode() not in msgpack.packb(reply)
        beat = rogue.ask({"type": "heartbeat"})
        assert beat["type"] == "error", beat
    finally:
        rogue.close()
    assert_unharmed(guarded, before)


def test_the_same_key_on_two_connections_is_itself_on_each(guarded):
    """The honest case still works: vault1's key on a second connection gets vault1's pillar."""
    pair = minion_keypair(guarded, "vault1")
    first, second = Rogue(guarded, pair), Rogue(guarded, pair)
    try:
        for client in (first, second):
            reply = client.ask_until_answered({"type": "pillar"})
            assert reply["type"] == "pillar" and reply["pillar"]["vault"]["token"] == VAULT_SECRET
    finally:
        first.close()
        second.close()


async def test_nothing_about_a_peer_outlives_its_connection(tmp_path):
    """The server channel keeps a key only for a live descriptor, and drops it on disconnect."""
    import asyncio

    import zmq
    import zmq.asyncio

    from core.channel import ServerChannel, curve_keypair
    from tests.cluster import free_ports

    public, secret = curve_keypair()
    channel = ServerChannel(public, secret, admit_request=lambda k: True, admit_subscriber=lambda k: False)
    req_port, pub_port = free_ports(2)
    await channel.start("127.0.0.1", req_port, pub_port)
    watcher = asyncio.ensure_future(channel.watch_connections())
    ctx = zmq.asyncio.Context()
    try:
        client_public, client_secret = curve_keypair()
        dealer = ctx.socket(zmq.DEALER)
        dealer.linger = 0
        dealer.curve_serverkey, dealer.curve_publickey = public.encode(), client_public.encode()
        dealer.curve_secretkey = client_secret.encode()
        dealer.setsockopt(zmq.ROUTING_ID, b"chosen-by-the-peer")
        dealer.connect(f"tcp://127.0.0.1:{req_port}")
        await dealer.send(b"hello")
        req = await asyncio.wait_for(channel.recv_request(), 10)
        assert req.conn.key == client_public and req.routing_id == b"chosen-by-the-peer"
        assert [c.key for c in channel._live.values()] == [client_public]
        dealer.close(linger=0)
        for _ in range(200):
            if not channel._live:
                break
            await asyncio.sleep(0.05)
        assert channel._live == {} and channel.forget_key(client_public) == []
    finally:
        watcher.cancel()
        ctx.destroy(linger=0)
        await channel.close()


def test_a_burst_read_in_one_wakeup_is_answered_message_by_message_by_its_own_key(guarded):
    """The master reads what is queued without waiting (300, more than one burst): each message
    is still judged by its own key, and every one is answered."""
    honest, rogue = Rogue(guarded, minion_keypair(guarded, "vault1")), Rogue(guarded, fresh_keypair())
    try:
        honest.ask_until_answered({"type": "heartbeat"})
        rogue.ask_until_answered({"type": "heartbeat"})
        for rid in range(300):
            for client in (honest, rogue):
                client.send_raw(msgpack.packb({"v": 1, "type": "heartbeat", "rid": rid}))
        got = {"honest": [honest.recv() for _ in range(300)], "rogue": [rogue.recv() for _ in range(300)]}
        assert sorted(r["rid"] for r in got["honest"]) == list(range(300))
        assert all(r["type"] == "ok" for r in got["honest"])
        assert sorted(r["rid"] for r in got["rogue"]) == list(range(300))
        assert all(r["type"] == "error" and r.get("state") == "unknown" for r in got["rogue"])
    finally:
        honest.close()
        rogue.close()
