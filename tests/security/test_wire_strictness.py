"""Items 6 and 7 of issue 14: ids, jids and names match whole; maps with a duplicate key and
protocol versions above ours are refused with an error reply."""
from __future__ import annotations

import json

import msgpack

from core import wire
from tests.security.conftest import assert_unharmed, snapshot
from tests.security.rogue import Rogue, fresh_keypair, minion_keypair


def _map(*pairs: tuple[str, object]) -> bytes:
    """A msgpack map with exactly these pairs, duplicates included (a dict cannot hold them)."""
    return bytes([0x80 | len(pairs)]) + b"".join(msgpack.packb(k) + msgpack.packb(v) for k, v in pairs)


def test_an_id_with_a_trailing_newline_is_refused_and_no_file_is_written(guarded):
    before = snapshot(guarded)
    rogue = Rogue(guarded, fresh_keypair())
    try:
        reply = rogue.ask_until_answered({"type": "register", "id": "web1\n"})
        assert reply["type"] == "error" and "invalid minion id" in reply["error"], reply
    finally:
        rogue.close()
    pre = guarded.master_dir / "pki" / "minions_pre"
    assert [n for n in pre.iterdir() if "\n" in n.name] == []
    assert_unharmed(guarded, before)


def test_a_scheduled_job_name_or_return_jid_with_a_trailing_newline_is_refused(guarded):
    before = snapshot(guarded)
    client = Rogue(guarded, minion_keypair(guarded, "web1"))
    try:
        reply = client.ask_until_answered({"type": "scheduled_job", "name": "nightly", "fun": "test.ping\n"})
        assert reply["type"] == "error" and "function name" in reply["error"], reply
        reply = client.ask({"type": "scheduled_job", "name": "nightly\n", "fun": "test.ping"})
        assert reply["type"] == "error" and "printable" in reply["error"], reply
        reply = client.ask({"type": "minion_started", "startup_states": ["web\n"]})
        assert reply["type"] == "error" and "startup_states" in reply["error"], reply
        jid = wire.new_jid()
        reply = client.ask({"type": "return", "jid": jid + "\n", "fun": "test.ping", "success": True})
        assert reply["type"] == "error" and "invalid jid" in reply["error"], reply
    finally:
        client.close()
    jobs = json.loads(guarded.cli("jobs", "list", "--json", "--limit", "100000").stdout)
    assert not any("\n" in j["fun"] + j["user"] + json.dumps(j["arg"]) for j in jobs)
    assert_unharmed(guarded, before)


def test_a_map_with_a_duplicate_key_is_refused(guarded):
    before = snapshot(guarded)
    client = Rogue(guarded, minion_keypair(guarded, "vault1"))
    try:
        assert client.ask_until_answered({"type": "heartbeat"})["type"] == "ok"
        client.send_raw(_map(("v", 1), ("type", "heartbeat"), ("type", "pillar")))
        reply = client.recv()
        assert reply["type"] == "error" and "duplicate key 'type'" in reply["error"], reply
        head = b"".join(msgpack.packb(x) for x in ("v", 1, "type", "heartbeat", "grains"))
        client.send_raw(bytes([0x83]) + head + _map(("os", "Debian"), ("os", "Other")))
        reply = client.recv()
        assert reply["type"] == "error" and "duplicate key 'os'" in reply["error"], reply
    finally:
        client.close()
    assert_unharmed(guarded, before)


def test_a_protocol_version_above_ours_is_refused(guarded):
    before = snapshot(guarded)
    client = Rogue(guarded, minion_keypair(guarded, "vault1"))
    try:
        reply = client.ask_until_answered({"type": "heartbeat", "v": wire.PROTOCOL_VERSION + 1})
        assert reply["type"] == "error" and "protocol version" in reply["error"], reply
        assert client.ask({"type": "heartbeat"})["type"] == "ok"
    finally:
        client.close()
    assert_unharmed(guarded, before)


def test_decode_refuses_duplicates_and_newer_versions_without_a_socket():
    import pytest

    from core.errors import ProtocolVersionError, WireError

    with pytest.raises(WireError, match="duplicate key"):
        wire.decode(_map(("v", 1), ("type", "a"), ("type", "b")))
    with pytest.raises(ProtocolVersionError, match="above"):
        wire.decode(msgpack.packb({"v": wire.PROTOCOL_VERSION + 1, "type": "heartbeat"}))
    for bad in ("web1\n", "web1\r", "\nweb1", "web1\x00"):
        with pytest.raises(WireError):
            wire.check_minion_id(bad)
    assert not wire.JID_RE.match(wire.new_jid() + "\n")
    assert not wire.FUNCTION_RE.match("test.ping\n")
