"""The wire codec and message types, without sockets."""
from __future__ import annotations

import time

import msgpack
import pytest

from core import wire
from core.errors import ProtocolVersionError, WireError


def test_round_trip_keeps_the_message():
    msg = wire.message("heartbeat", grains={"os": "Debian", "ipv4": ["10.0.0.1"]}, n=3)
    assert wire.decode(wire.encode(msg)) == msg


@pytest.mark.parametrize("data, why", [
    (b"\xc1", "malformed"),
    (b"\x92\x01\x02", "not a map"),
    (msgpack.packb({"type": "x"}), "no protocol version"),
    (msgpack.packb({"v": 1}), "no type"),
    (msgpack.packb({"v": 1, "type": ""}), "no type"),
    (msgpack.packb({"v": 1, "type": "x", 1: 2}), "malformed"),
    (msgpack.packb({"v": 1, "type": "x", "m": {b"k": 1}}), "keys must be strings"),
    (msgpack.packb({"v": 1, "type": "x", "e": msgpack.ExtType(5, b"zz")}), "malformed|ext type"),
    (msgpack.packb({"v": 1, "type": "x"}) + b"\x00", "malformed"),
])
def test_decode_refuses_bad_frames_with_a_wire_error(data, why):
    with pytest.raises(WireError, match=why):
        wire.decode(data)


def test_decode_refuses_an_oversized_frame():
    big = msgpack.packb({"v": 1, "type": "x", "blob": b"\0" * (wire.MAX_MESSAGE_BYTES + 1)})
    with pytest.raises(WireError, match="exceeds"):
        wire.decode(big)
    with pytest.raises(WireError, match="exceeds"):
        wire.encode({"v": 1, "type": "x", "blob": b"\0" * (wire.MAX_MESSAGE_BYTES + 1)})


def test_decode_refuses_deep_nesting():
    inner: object = 1
    for _ in range(wire.MAX_DEPTH + 1):
        inner = [inner]
    with pytest.raises(WireError, match="deeper"):
        wire.decode(msgpack.packb({"v": 1, "type": "x", "deep": inner}))


def test_decode_refuses_an_old_protocol_version():
    with pytest.raises(ProtocolVersionError):
        wire.decode(msgpack.packb({"v": 0, "type": "x"}))


def _job(**over):
    now = time.time()
    fields = dict(jid=wire.new_jid(now), fun="test.ping", created=now, expires=now + 60)
    fields.update(over)
    return wire.Job(**fields)


def test_job_round_trips_and_validates():
    job = _job(arg=("a",), kwarg={"k": 1}, tgt="web*")
    assert wire.Job.from_map(wire.decode(wire.encode(job.to_map()))) == job
    bad = job.to_map() | {"fun": "os.system; rm"}
    with pytest.raises(WireError, match="function"):
        wire.Job.from_map(bad)
    with pytest.raises(WireError, match="jid"):
        wire.Job.from_map(job.to_map() | {"jid": "../../x"})


def test_job_freshness_is_checked_both_ways():
    now = time.time()
    assert _job().freshness_error(now) is None
    assert "expired" in _job(created=now - 100, expires=now - 1).freshness_error(now)
    assert "future" in _job(created=now + 3600, expires=now + 3700).freshness_error(now)


def test_jids_are_unique_and_sortable():
    jids = [wire.new_jid() for _ in range(1000)]
    assert len(set(jids)) == 1000
    assert all(wire.JID_RE.match(j) for j in jids)
    assert wire.new_jid(1_000_000_000) < wire.new_jid(2_000_000_000)


def test_return_validation():
    ret = wire.Return(wire.new_jid(), "test.ping", True, True)
    assert wire.Return.from_map(ret.to_map()) == ret
    with pytest.raises(WireError):
        wire.Return.from_map(ret.to_map() | {"success": "yes"})


@pytest.mark.parametrize("mid", ["web1", "db-2.example.org", "a_b"])
def test_good_minion_ids(mid):
    assert wire.check_minion_id(mid) == mid


@pytest.mark.parametrize("mid", ["", "../x", "a/b", "-rf", "a\x00b", "x" * 200, 5])
def test_bad_minion_ids(mid):
    with pytest.raises(WireError):
        wire.check_minion_id(mid)


def test_topics_do_not_prefix_each_other():
    assert not wire.job_topic("web10").startswith(wire.job_topic("web1"))
