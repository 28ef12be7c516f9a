"""Salt's `mine_interval` with a real master and minions: a minion publishes its mine once
when it starts and then every `mine_interval` minutes, never because a state run happened,
and at once on `mine.update`."""
from __future__ import annotations

import json
from typing import Iterator

import pytest

from master.mine.store import MineStore
from tests.cluster import Cluster, wait_for

FUN = "network.ip_addrs"
MINE_SLS = f"mine_functions:\n  {FUN}: {{interface: lo, include_loopback: true}}\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, lpmaster_bin: str, lpminion_bin: str) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("mine"), lpmaster_bin, lpminion_bin,
                minion_args=["--heartbeat", "1", "--startup-states", "none"])
    try:
        c.write_pillar({"top.sls": "base:\n  '*':\n    - mine\n", "mine.sls": MINE_SLS})
        c.write_states({"top.sls": "base:\n  '*':\n    - noop\n",
                        "noop.sls": "noop:\n  test.succeed_without_changes: []\n"})
        c.start_master()
        c.init_minion("hourly")
        c.init_minion("fast", config="mine_interval: 0.02\n")      # 1.2 seconds
        for mid in ("hourly", "fast"):
            c.start_minion(mid)
        c.wait_pending("hourly", "fast")
        c.accept_keys("hourly", "fast")
        c.wait_answering("hourly", "fast")
        yield c
    finally:
        c.close()


def _updated(site: Cluster, mid: str) -> float | None:
    store = MineStore(str(site.master_dir / "master.db"), readonly=True)
    try:
        entry = store.entries(FUN, [mid]).get(mid)
    finally:
        store.close()
    assert entry is None or entry.value == ["127.0.0.1"]
    return entry.updated if entry else None


def test_published_at_start_then_only_on_mine_update_not_on_state_runs(site: Cluster) -> None:
    first = wait_for(lambda: _updated(site, "hourly"), what="hourly's mine published at start")
    code, data, err = site.run_json("hourly", "state.apply", "--timeout", "60")
    assert code == 0 and data["hourly"], err
    assert _updated(site, "hourly") == first
    code, data, err = site.run_json("hourly", "mine.update", "--timeout", "30")
    assert code == 0 and data == {"hourly": [FUN]}, err
    assert (_updated(site, "hourly") or 0) > first


def test_published_again_every_mine_interval(site: Cluster) -> None:
    first = wait_for(lambda: _updated(site, "fast"), what="fast's mine published at start")
    wait_for(lambda: (_updated(site, "fast") or 0) > first, timeout=30, what="fast's next mine update")
    jobs = site.cli("jobs", "list", "--json")
    assert jobs.returncode == 0, jobs.stderr
    assert not [j for j in json.loads(jobs.stdout) if j["fun"] == "mine.update" and "fast" in j["minions"]]
