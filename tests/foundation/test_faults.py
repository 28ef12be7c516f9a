"""Bad input and faults: each is answered or dropped, no daemon crashes, no return is lost."""
from __future__ import annotations

import json
import os
import signal
import subprocess

import msgpack

from tests.foundation.conftest import wait_for
from tests.foundation.rawclient import RawClient, fresh_keypair, minion_keypair


def _job_returns(cluster, jid: str) -> dict:
    res = cluster.cli("jobs", "show", jid, "--json")
    return json.loads(res.stdout)["returns"] if res.returncode == 0 else {}


def _latest_jid(cluster, fun: str) -> str:
    return next(j["jid"] for j in json.loads(cluster.cli("jobs", "list", "--json").stdout) if j["fun"] == fun)


def test_master_killed_mid_job_gets_the_spooled_return_after_restart(cluster):
    cluster.add_minions("web1")
    # long enough that the return cannot reach the master before it is killed, on a loaded machine too
    res = cluster.cli("run", "web1", "test.sleep", "4", "--timeout", "0.2")
    assert res.returncode == 2
    jid = _latest_jid(cluster, "test.sleep")
    cluster.stop_master(signal.SIGKILL)
    assert "web1" not in _job_returns(cluster, jid)
    spool = cluster.minion_dir("web1") / "spool" / "returns"
    wait_for(lambda: any(n.endswith(".mp") for n in os.listdir(spool)), what="return spooled")
    cluster.start_master()
    wait_for(lambda: "web1" in _job_returns(cluster, jid), what="spooled return delivered")
    assert _job_returns(cluster, jid)["web1"]["ret"] is True
    wait_for(lambda: not any(n.endswith(".mp") for n in os.listdir(spool)), what="spool emptied")
    cluster.wait_answering("web1")  # and it reconnected by itself
    assert "delivered spooled return" in cluster.minion_log("web1")


def test_master_stops_cleanly_on_sigterm_and_minions_come_back(cluster):
    cluster.add_minions("web1", "web2")
    assert cluster.stop_master(signal.SIGTERM) == 0
    assert not (cluster.master_dir / "run" / "master.sock").exists()
    cluster.start_master()
    cluster.wait_answering("web1", "web2")
    assert all(p.poll() is None for p in cluster.minions.values())


def test_malformed_and_oversized_frames_are_refused_and_the_master_stays_up(cluster):
    cluster.add_minions("web1")
    client = RawClient(cluster, minion_keypair(cluster, "web1"))
    try:
        client.send_raw(b"\xc1\xc1 not msgpack")
        reply = client.recv()
        assert reply["type"] == "error" and "bad message" in reply["error"]
        client.send_raw(msgpack.packb({"v": 1, "type": "heartbeat", "x": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}))
        assert "deeper" in client.recv()["error"]
        client.send_raw(b"a", b"b")  # an extra frame: dropped without a reply
        assert client.recv(timeout=1) is None
        # bigger than MAXMSGSIZE: libzmq drops the connection; nothing reaches the handlers
        client.send_raw(b"\x00" * (5 * 1024 * 1024))
    finally:
        client.close()
    fresh = RawClient(cluster, minion_keypair(cluster, "web1"))
    try:
        assert fresh.ask({"type": "heartbeat"})["type"] == "ok"
    finally:
        fresh.close()
    cluster.wait_answering("web1")
    assert "bad message from key" in cluster.master_log()


def test_unknown_type_and_unaccepted_requests_are_refused(cluster):
    cluster.add_minions("web1")
    accepted = RawClient(cluster, minion_keypair(cluster, "web1"))
    stranger = RawClient(cluster, fresh_keypair())
    try:
        reply = accepted.ask({"type": "shutdown_everything", "rid": 7})
        assert reply == {"v": 1, "type": "error", "error": "unknown request type 'shutdown_everything'", "rid": 7}
        for kind in ("heartbeat", "return", "pillar", "file"):
            reply = stranger.ask({"type": kind, "jid": "x"})
            assert reply["type"] == "error" and "not accepted" in reply["error"], kind
        reply = stranger.ask({"type": "register", "id": "evil/../id"})
        assert reply["type"] == "error" and "invalid minion id" in reply["error"]
        reply = stranger.ask({"type": "register", "id": "stranger1"})
        assert reply == {"v": 1, "type": "registered", "state": "pending", "publish_port": cluster.pub_port}
        assert cluster.keys()["pending"] == ["stranger1"]
    finally:
        accepted.close()
        stranger.close()
    cluster.wait_answering("web1")


def test_a_minion_cannot_claim_another_minions_id(cluster):
    cluster.add_minions("web1", "web2")
    res = cluster.cli("run", "web1", "test.echo", "genuine")
    assert res.returncode == 0
    jid = _latest_jid(cluster, "test.echo")
    web2 = RawClient(cluster, minion_keypair(cluster, "web2"))
    try:
        reply = web2.ask({"type": "register", "id": "web1"})
        assert reply["type"] == "error" and "registered as 'web2'" in reply["error"]
        # a forged return for a job that only targeted web1, claiming to be web1
        reply = web2.ask({"type": "return", "id": "web1", "jid": jid, "fun": "test.echo",
                          "success": True, "ret": "forged", "retcode": 0})
        assert reply["type"] == "error" and "did not target web2" in reply["error"]
    finally:
        web2.close()
    assert {m: r["ret"] for m, r in _job_returns(cluster, jid).items()} == {"web1": "genuine"}
    assert cluster.keys()["accepted"] == ["web1", "web2"]


def test_a_redelivered_return_is_stored_once(cluster):
    cluster.add_minions("web1")
    assert cluster.cli("run", "web1", "test.echo", "once").returncode == 0
    jid = _latest_jid(cluster, "test.echo")
    web1 = RawClient(cluster, minion_keypair(cluster, "web1"))
    try:
        reply = web1.ask({"type": "return", "jid": jid, "fun": "test.echo", "success": True,
                          "ret": "twice", "retcode": 0})
        assert reply["type"] == "ack"
    finally:
        web1.close()
    assert _job_returns(cluster, jid)["web1"]["ret"] == "once"


def test_config_errors_exit_64_with_one_line(tmp_path, lpmaster_bin, lpminion_bin):
    res = subprocess.run([lpmaster_bin, "-c", str(tmp_path / "nope.yaml"), "serve"],
                         capture_output=True, text=True)
    assert res.returncode == 64 and len(res.stderr.strip().splitlines()) == 1
    assert "does not exist" in res.stderr
    (tmp_path / "bad.yaml").write_text("root: [unclosed\n")
    res = subprocess.run([lpmaster_bin, "-c", str(tmp_path / "bad.yaml"), "serve"], capture_output=True, text=True)
    assert res.returncode == 64 and "invalid YAML" in res.stderr
    res = subprocess.run([lpminion_bin, "init", "--dir", str(tmp_path / "m"), "--id", "m1",
                          "--master", "127.0.0.1"], capture_output=True, text=True)
    assert res.returncode == 64 and "--trust-first-use" in res.stderr


def test_a_minion_refuses_to_start_with_a_readable_secret_key(tmp_path, lpminion_bin):
    d = tmp_path / "m"
    subprocess.run([lpminion_bin, "init", "--dir", str(d), "--id", "m1", "--master", "127.0.0.1:1",
                    "--trust-first-use"], check=True, capture_output=True)
    os.chmod(d / "pki" / "minion.key", 0o644)
    res = subprocess.run([lpminion_bin, "-c", str(d / "minion.yaml"), "start"], capture_output=True,
                         text=True, timeout=30)
    assert res.returncode == 64 and "readable by others" in res.stderr


def test_control_socket_group_is_configurable(tmp_path, lpmaster_bin):
    import grp
    import stat

    from tests.foundation.conftest import Cluster

    group = grp.getgrgid(1).gr_name  # any existing non-root group ("daemon" on Debian)
    c = Cluster(tmp_path, lpmaster_bin, lpmaster_bin)
    with open(c.master_cfg, "a") as fh:
        fh.write(f"control_group: {group}\n")
    c.start_master()
    try:
        sock = c.master_dir / "run" / "master.sock"
        st = os.stat(sock)
        assert stat.S_IMODE(st.st_mode) == 0o660 and st.st_gid == 1
        assert stat.S_IMODE(os.stat(sock.parent).st_mode) == 0o750
    finally:
        c.close()


def test_accepted_keys_that_cannot_be_read_drop_requests_and_the_master_stays_up(cluster):
    cluster.add_minions("web1")
    minions = cluster.master_dir / "pki" / "minions"
    aside = minions.with_name("minions.aside")
    minions.rename(aside)
    minions.write_text("not a directory\n")     # listdir fails: the keys cannot be read
    try:
        wait_for(lambda: "cannot read the key store" in cluster.master_log(), what="the master saying so")
        run = cluster.cli("run", "web1", "test.ping", "--timeout", "1")
        assert run.returncode != 0 and "the master cannot read its files" in run.stderr, run.stderr
        assert cluster.master_proc is not None and cluster.master_proc.poll() is None
    finally:
        minions.unlink()
        aside.rename(minions)
    cluster.wait_answering("web1")
    log = cluster.master_log()
    assert log.count("cannot read the key store") == 1 and "can be read again" in log
    assert "Traceback" not in log
