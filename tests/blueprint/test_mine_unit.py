"""The mine's rules and the master's handlers: who may publish what, who may read it."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from core import targeting
from core.errors import WireError
from core.mine import parse_mine_functions
from master.mine.handlers import handle_mine_get, handle_mine_update
from master.mine.store import MineStore
from master.ratelimit import PerMinionRate


def test_salt_forms_of_mine_functions():
    rules = parse_mine_functions({
        "network.ip_addrs": [{"interface": "eth0"}],
        "grains.items": None,
        "db_address": [{"mine_function": "network.ip_addrs"}, "eth1", {"allow_tgt": "web*"}],
    })
    assert rules["network.ip_addrs"].kwargs == {"interface": "eth0"}
    assert rules["grains.items"].function == "grains.items" and rules["grains.items"].args == ()
    alias = rules["db_address"]
    assert (alias.function, alias.args, alias.allow_tgt, alias.allow_tgt_type) == \
        ("network.ip_addrs", ("eth1",), "web*", "glob")
    assert parse_mine_functions(None) == {}
    with pytest.raises(WireError):
        parse_mine_functions(["network.ip_addrs"])


class FakePillar:
    def __init__(self, pillars):
        self.pillars = pillars

    def compile_for(self, minion_id, grains):
        return self.pillars.get(minion_id, {}), set()


@pytest.fixture
def master(tmp_path):
    pillars = {
        "db1": {"mine_functions": {"network.ip_addrs": {"interface": "eth0"},
                                   "secret_addr": [{"mine_function": "network.ip_addrs"},
                                                   {"allow_tgt": "web*"}]}},
    }
    grains = {"db1": {"roles": ["db"]}, "web1": {"roles": ["web"]}, "other1": {"roles": ["x"]}}
    services = SimpleNamespace(
        grains=grains, mine=MineStore(str(tmp_path / "master.db")), config=SimpleNamespace(nodegroups={}),
        converge=SimpleNamespace(pillar=FakePillar(pillars)),
        pillar_rate=PerMinionRate("pillar", rate=1.0, burst=100),
        select_targets=lambda tgt, tgt_type: targeting.select(grains, tgt, tgt_type))
    yield services
    services.mine.close()


def run(coro):
    return asyncio.run(coro)


def test_a_minion_publishes_only_what_its_pillar_declares(master):
    reply = run(handle_mine_update(master, "db1", {"data": {"network.ip_addrs": ["10.0.0.5"],
                                                           "secret_addr": ["10.0.0.5"],
                                                           "made.up": ["6.6.6.6"]}}))
    assert reply["stored"] == ["network.ip_addrs", "secret_addr"]
    reply = run(handle_mine_update(master, "other1", {"data": {"network.ip_addrs": ["6.6.6.6"]}}))
    assert reply["stored"] == []  # other1's pillar declares nothing: it cannot pose as a db host
    got = run(handle_mine_get(master, "web1", {"tgt": "*", "fun": "network.ip_addrs"}))
    assert got["data"] == {"db1": ["10.0.0.5"]}


def test_allow_tgt_decides_who_reads_by_the_readers_authenticated_id(master):
    run(handle_mine_update(master, "db1", {"data": {"secret_addr": ["10.0.0.5"]}}))
    query = {"tgt": "roles:db", "fun": "secret_addr", "tgt_type": "grain"}
    assert run(handle_mine_get(master, "web1", query))["data"] == {"db1": ["10.0.0.5"]}
    assert run(handle_mine_get(master, "other1", query))["data"] == {}
    with pytest.raises(WireError):
        run(handle_mine_get(master, "web1", {"tgt": "*", "fun": "x", "tgt_type": "nonsense"}))


def test_a_new_update_replaces_the_old_values(master):
    run(handle_mine_update(master, "db1", {"data": {"network.ip_addrs": ["10.0.0.5"]}}))
    run(handle_mine_update(master, "db1", {"data": {"network.ip_addrs": ["10.0.0.9"]}}))
    assert run(handle_mine_get(master, "web1", {"tgt": "db1", "fun": "network.ip_addrs"}))["data"] == \
        {"db1": ["10.0.0.9"]}
