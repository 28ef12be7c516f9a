"""Key flow, denial of a second key, revocation of a live connection, master key pinning."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import zmq

from core import wire
from tests.foundation.conftest import wait_for
from tests.foundation.rawclient import RawClient, minion_keypair, wait_event


def test_key_flow_pending_then_accepted(cluster):
    cluster.add_minions("web1", accept=False)
    assert cluster.keys() == {"accepted": [], "pending": ["web1"], "rejected": [], "denied": []}
    res = cluster.cli("run", "*", "test.ping")
    assert res.returncode == 2 and "no minions matched" in res.stderr
    # without --yes the command shows the fingerprint and asks; "n" changes nothing
    finger = json.loads(cluster.cli("keys", "finger", "web1", "--json").stdout)["pending"]["web1"]
    res = cluster.cli("keys", "accept", "web1", input="n\n")
    assert res.returncode == 1 and finger in res.stdout and "nothing changed" in res.stdout
    assert cluster.keys()["pending"] == ["web1"]
    res = cluster.cli("keys", "accept", "web*", input="y\n")
    assert res.returncode == 0 and "web1" in res.stdout
    cluster.wait_answering("web1")
    assert json.loads(cluster.cli("status", "--json").stdout)["web1"]["up"]


def test_a_second_key_for_an_accepted_id_is_denied(cluster):
    cluster.add_minions("web1")
    impostor = cluster.root / "impostor"
    # same id, new keys: as if another machine claimed to be web1
    subprocess.run([cluster.lpminion, "init", "--dir", str(impostor), "--id", "web1",
                    "--master", f"127.0.0.1:{cluster.req_port}", "--key-port", str(cluster.key_port),
                    "--master-finger", cluster.finger], check=True, capture_output=True)
    proc = subprocess.Popen([cluster.lpminion, "-c", str(impostor / "minion.yaml"), "start"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: cluster.keys()["denied"] == ["web1"], what="second key denied")
        assert cluster.keys()["accepted"] == ["web1"]
        code, data, _ = cluster.run_json("web1", "test.ping")
        assert (code, data) == (0, {"web1": True})  # the original still answers, only once
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_rejecting_a_key_cuts_its_live_connection(cluster):
    """A subscriber holding web2's key is disconnected at once and cannot get back in."""
    cluster.add_minions("web1", "web2")
    client = RawClient(cluster, minion_keypair(cluster, "web2"))
    try:
        sub, monitor = client.subscribe_with_monitor(wire.job_topic("web2"))
        assert wait_event(monitor, zmq.EVENT_HANDSHAKE_SUCCEEDED)
        assert client.ask({"type": "heartbeat"})["type"] == "ok"
        res = cluster.cli("keys", "reject", "web2", "--yes")
        assert res.returncode == 0, res.stderr
        assert wait_event(monitor, zmq.EVENT_DISCONNECTED), "revoked subscriber was not cut off"
        # libzmq reconnects by itself; ZAP now refuses the revoked key
        assert wait_event(monitor, zmq.EVENT_HANDSHAKE_FAILED_AUTH)
        reply = client.ask({"type": "heartbeat"})
        assert reply["type"] == "error" and reply["state"] == "rejected"
        # a job for the revoked minion is never published: it is no longer a target
        assert cluster.cli("run", "web2", "test.ping").returncode == 2
        code, data, _ = cluster.run_json("*", "test.ping")
        assert (code, data) == (0, {"web1": True})
    finally:
        client.close()
    # accepting again lets the real minion back in (it opens fresh sockets by itself)
    assert cluster.cli("keys", "accept", "web2", "--yes").returncode == 0
    cluster.wait_answering("web2")


def test_deleting_a_key_stops_the_real_minion_getting_jobs(cluster):
    cluster.add_minions("web1")
    assert cluster.cli("keys", "delete", "web1", "--yes").returncode == 0
    # the minion re-registers and waits as pending
    wait_for(lambda: cluster.keys()["pending"] == ["web1"], what="deleted minion back to pending")
    assert "no longer accepts" in cluster.minion_log("web1")
    assert cluster.cli("keys", "accept", "web1", "--yes").returncode == 0
    cluster.wait_answering("web1")


def test_trust_first_use_records_the_master_key(cluster):
    cfg = cluster.init_minion("tofu1", "--trust-first-use")
    cluster.start_minion("tofu1")
    wait_for(lambda: "tofu1" in cluster.keys()["pending"], what="tofu minion registered")
    recorded = open(cluster.minion_dir("tofu1") / "pki" / "master.pub").read()
    assert recorded == open(cluster.master_dir / "pki" / "master.pub").read()
    assert "trusting the master's key on first use" in cluster.minion_log("tofu1")
    assert cfg


def test_a_wrong_master_fingerprint_is_refused(cluster):
    cluster.init_minion("bad1", finger="ab" * 32)
    proc = cluster.start_minion("bad1")
    assert proc.wait(timeout=30) == 64
    assert "does not match master_finger" in cluster.minion_log("bad1")
    assert cluster.keys()["pending"] == []


def test_a_changed_master_key_is_refused(cluster):
    cluster.add_minions("web1")
    cluster.minions["web1"].terminate()
    cluster.minions["web1"].wait(timeout=10)
    # the recorded key no longer matches what the master presents
    other = cluster.root / "otherkey"
    shutil.copytree(cluster.minion_dir("web1") / "pki", other)
    pub = cluster.minion_dir("web1") / "pki" / "master.pub"
    os.unlink(pub)
    pub.write_text(open(other / "minion.pub").read())
    proc = cluster.start_minion("web1")
    assert proc.wait(timeout=30) == 64
    assert "master_finger" in cluster.minion_log("web1") or "refusing" in cluster.minion_log("web1")


def test_subscribing_to_another_minions_topic_gets_the_subscriber_kicked(cluster):
    cluster.add_minions("web1", "web2")
    spy = RawClient(cluster, minion_keypair(cluster, "web1"))
    try:
        sub, monitor = spy.subscribe_with_monitor(wire.job_topic("web2"))
        assert wait_event(monitor, zmq.EVENT_HANDSHAKE_SUCCEEDED)
        assert wait_event(monitor, zmq.EVENT_DISCONNECTED), "a subscriber to someone else's jobs stayed"
    finally:
        spy.close()
    assert "subscribed to a topic that is not its own" in cluster.master_log()
    cluster.wait_answering("web1", "web2")


def test_status_shows_a_stopped_minion_down(cluster):
    cluster.add_minions("web1", "web2")
    proc = cluster.minions["web2"]
    proc.terminate()
    assert proc.wait(timeout=30) == 0  # a clean stop on SIGTERM
    wait_for(lambda: not json.loads(cluster.cli("status", "--json").stdout)["web2"]["up"],
             what="web2 shown down")
    status = json.loads(cluster.cli("status", "--json").stdout)
    assert status["web1"]["up"] and status["web2"]["last_seen"]
    res = cluster.cli("run", "*", "test.ping")
    assert res.returncode == 2 and "web2 (not connected)" in res.stderr and "web1:" in res.stdout
