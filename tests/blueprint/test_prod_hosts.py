"""The prod blueprint on two fresh test hosts: db1 (PostgreSQL) and web1 (nginx + the app),
each converging on boot. web1 finds db1 through Salt's mine; after db1 changes address and
both re-converge, web1's production.ini follows it. TLS comes from pillar (a test CA)."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.blueprint.certs import ca_and_server
from tests.blueprint.lab import Lab, changed_states, failed_states, prepare_caches, wait
from tests.hostlib import GATEWAY, ensure_bridge
from tests.hostlib.network import lease_address

pytestmark = pytest.mark.host
SERVER_NAME = "linkpeek.example.org"
INI = "/etc/linkpeek/production.ini"


@pytest.fixture(scope="module")
def prod(tmp_path_factory):
    ensure_bridge()
    prepare_caches()
    ca, cert, key = ca_and_server(SERVER_NAME)
    web_pillar = {"linkpeek": {"tls": {"self_signed": False, "cert": cert, "ca": ca}}}
    lab = Lab(tmp_path_factory.mktemp("prod"), {"linkpeek:tls:key": key},
              {"linkpeek/prod_web.sls": yaml.safe_dump(web_pillar)})
    try:
        db1 = lab.add_host("db1")
        wait(lambda: lab.mine().get("db1"), "db1 to publish its address to the mine")
        web1 = lab.add_host("web1")
        boots = {mid: lab.wait_boot_converge(mid) for mid in ("db1", "web1")}
        yield lab, db1, web1, boots
    finally:
        lab.close()


def test_web_and_db_hosts_converge_and_web_reaches_db_through_the_mine(prod):
    lab, db1, web1, boots = prod
    for mid, boot in boots.items():
        assert boot["success"] is True, (mid, failed_states(boot["ret"]))
    assert lab.mine()["db1"] == [db1.address]
    assert f"linkpeek.db_host = {db1.address}\n" in web1.read_text(INI)
    assert "pyramid.debug_notfound = false" in web1.read_text(INI)  # prod: no debug
    assert not web1.exists("/etc/postgresql/15/main/conf.d/linkpeek.conf")
    assert not db1.exists("/etc/nginx/sites-enabled/linkpeek.conf")
    health = lab.cli("health", "*", "--json")
    assert health.returncode == 0, health.stdout + health.stderr
    report = json.loads(health.stdout)
    assert report["web1"]["checks"]["https-healthz"]["healthy"]  # TLS verified against the CA
    assert report["db1"]["checks"]["postgres-port"]["healthy"]


def test_a_link_posted_on_web_is_stored_on_db(prod):
    lab, db1, web1, _ = prod
    posted = web1.run(["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                       "-H", "Content-Type: application/json", "--data",
                       json.dumps({"url": "http://127.0.0.1/static/about.html"}),
                       "https://127.0.0.1/links"])
    assert posted.stdout == "201"

    def stored() -> bool:
        out = db1.run(["runuser", "-u", "postgres", "--", "psql", "-At", "-d", "linkpeek", "-c",
                       "SELECT title FROM links"]).stdout
        return "About LinkPeek" in out

    wait(stored, "web1's worker to store the title in db1's database")


def test_changing_the_db_address_reaches_web_at_its_next_converge(prod):
    lab, db1, web1, _ = prod
    lease = lease_address()
    try:
        old, new = db1.address, lease.address
        # (deleting the primary address first: it would take a secondary in its subnet along)
        db1.run(["ip", "addr", "del", f"{old}/24", "dev", "eth0"], check=True)
        db1.run(["ip", "addr", "add", f"{new}/24", "dev", "eth0"], check=True)
        db1.run(["ip", "route", "replace", "default", "via", GATEWAY], check=True)
        restarted = lab.restart_minion("db1")  # as a rebuilt host comes up: converge on boot
        boot = lab.wait_boot_converge("db1", after=restarted)
        assert boot["success"] is True, failed_states(boot["ret"])
        assert lab.mine()["db1"] == [new]
        code, data = lab.apply("web1")
        assert code == 0, failed_states(data.get("web1"))
        changed = changed_states(data["web1"])
        assert f"file_|-linkpeek-production-ini_|-{INI}_|-managed" in changed
        assert "restarted" in changed["service_|-linkpeek-web_|-linkpeek-web_|-running"]
        assert f"linkpeek.db_host = {new}\n" in web1.read_text(INI)
        health = lab.cli("health", "web1", "--json")
        assert health.returncode == 0, health.stdout
    finally:
        db1.run(["ip", "addr", "del", f"{lease.address}/24", "dev", "eth0"])
        lease.release()
