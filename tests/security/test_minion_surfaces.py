"""A hostile accepted minion against the surfaces added with the mine, backups and drills.

Each attack runs against the shared real master (conftest `guarded`) with a rogue CURVE
client holding an accepted minion's own key.
"""
from __future__ import annotations

import json
import socket
import time

import msgpack
import pytest

from tests.security.conftest import VAULT_SECRET, assert_unharmed, pillar_extra, snapshot
from tests.security.rogue import Rogue, minion_keypair


def _client(guarded, mid: str) -> Rogue:
    client = Rogue(guarded, minion_keypair(guarded, mid))
    client.ask_until_answered({"type": "heartbeat"})
    return client


def test_mine_get_cannot_probe_another_minions_pillar(guarded):
    """vault1 publishes an address; web1 must not learn vault1's secret by asking which
    publishers a pillar target (I@vault:token:<guess>) selects."""
    before = snapshot(guarded)
    top = "base:\n  'vault1':\n    - vault\n    - mine\n"
    with pillar_extra(guarded, top, {"mine.sls": "mine_functions:\n  test.ping: []\n"}):
        vault, web = _client(guarded, "vault1"), _client(guarded, "web1")
        try:
            stored = vault.ask({"type": "mine_update", "data": {"test.ping": True}})
            assert stored["stored"] == ["test.ping"], stored
            plain = web.ask({"type": "mine_get", "tgt": "vault1", "fun": "test.ping"})
            assert plain["data"] == {"vault1": True}, plain
            for tgt, tgt_type in ((f"vault:token:{VAULT_SECRET}", "pillar"), ("vault:token:^canary", "pillar_pcre"),
                                  (f"vault1 and I@vault:token:{VAULT_SECRET[:8]}*", "compound")):
                reply = web.ask({"type": "mine_get", "tgt": tgt, "fun": "test.ping", "tgt_type": tgt_type})
                assert reply["type"] == "error" and "pillar" in reply["error"], reply
                assert "vault1" not in msgpack.packb(reply).decode(errors="replace")
        finally:
            vault.close()
            web.close()
    assert_unharmed(guarded, before)


@pytest.mark.parametrize("forged", ["0.0.0.0", "localhost:{port}/#", "169.254.169.254"])
def test_forged_address_grains_do_not_point_the_masters_probes_elsewhere(guarded, forged):
    """web1 reports an ipv4 grain that is no address of its own (an unspecified or link-local
    address, or a host with a port and a fragment spliced into the check's URL): the master's
    http check of web1 must not reach a service on the master's side (a listener here)."""
    from master import api

    before = snapshot(guarded)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    original = api.known_minions(api.load_config(guarded.master_cfg))["web1"]["grains"]
    checks = f"health:\n  checks:\n    web:\n      type: http\n      url: http://{{address}}:{port}/healthz\n" \
             "      timeout: 1\n"
    top = "base:\n  'vault1':\n    - vault\n  'web1':\n    - health\n"
    web = _client(guarded, "web1")
    try:
        with pillar_extra(guarded, top, {"health.sls": checks}):
            beat = web.ask({"type": "heartbeat", "grains": {**original, "ipv4": [forged.format(port=port)]}})
            assert beat["type"] == "ok", beat
            res = guarded.cli("health", "web1", "--json")
            assert res.stdout, res.stderr
            with pytest.raises(OSError):
                listener.accept()[0].close()
            report = json.loads(res.stdout)["web1"]
            assert res.returncode == 2 and not report["healthy"], report
            assert report["address"] is None
    finally:
        web.ask({"type": "heartbeat", "grains": original})
        web.close()
        listener.close()
    assert_unharmed(guarded, before)


def test_a_backup_report_dated_ahead_does_not_hide_later_failures(guarded):
    """web1 files a good run dated far in the future, then its real run fails: the catalogue
    must say failing, not ok forever; a non-finite number is refused."""
    before = snapshot(guarded)
    backup = "backup:\n  repository: /srv/none\n  password: x\n  jobs:\n    etc: {source: files, paths: [/etc], " \
             "cron: '0 3 * * *'}\n"
    top = "base:\n  'vault1':\n    - vault\n  'web1':\n    - backup\n"
    web = _client(guarded, "web1")
    try:
        with pillar_extra(guarded, top, {"backup.sls": backup}):
            assert web.ask({"type": "pillar"})["type"] == "pillar"   # the master records web1's jobs

            def report(run_id: str, finished_at: float, success: bool) -> dict:
                return web.ask({"type": "backup_report", "report": {
                    "run_id": run_id, "kind": "backup", "job": "etc", "success": success,
                    "finished_at": finished_at, **({} if success else {"error": "restic failed"})}})

            assert report("future", 1e300, True)["type"] == "ack"
            assert report("inf", float("inf"), True)["type"] == "error"
            assert report("now", time.time(), False)["type"] == "ack"
            rows = json.loads(guarded.cli("backups", "web1", "--json").stdout)
            assert [(r["job"], r["status"]) for r in rows] == [("etc", "failing")], rows
        assert web.ask({"type": "pillar"})["type"] == "pillar"           # and forgets them again
    finally:
        web.close()
    assert_unharmed(guarded, before)


def test_a_published_address_is_an_address(guarded):
    """db hosts publish network.ip_addrs and web hosts write it into their app config: a value
    with a newline and a setting after it is refused, and the stored one stays."""
    before = snapshot(guarded)
    top = "base:\n  'vault1':\n    - vault\n    - mine\n"
    with pillar_extra(guarded, top, {"mine.sls": "mine_functions:\n  network.ip_addrs: []\n"}):
        vault, web = _client(guarded, "vault1"), _client(guarded, "web1")
        try:
            assert vault.ask({"type": "mine_update", "data": {"network.ip_addrs": ["10.0.0.5"]}})["type"] == "ack"
            forged = ["10.0.0.5\nlinkpeek.db_password = x"]
            reply = vault.ask({"type": "mine_update", "data": {"network.ip_addrs": forged}})
            assert reply["type"] == "error" and "IP addresses" in reply["error"], reply
            got = web.ask({"type": "mine_get", "tgt": "vault1", "fun": "network.ip_addrs"})
            assert got["data"] == {"vault1": ["10.0.0.5"]}, got
        finally:
            vault.close()
            web.close()
    assert_unharmed(guarded, before)
