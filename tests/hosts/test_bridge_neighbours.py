"""A test host going away must not cut the others off the master on the bridge.

The stall this guards against: a Linux bridge without a MAC of its own takes the lowest MAC of
its ports as the gateway's, so when the host owning that port went away (any test session's,
or the demo deleting dev1) every other host's ARP entry for the gateway named a MAC nobody
had. Their minions' requests went nowhere for 30 s to minutes (heartbeats unanswered, links
reset, "the master did not answer a file request" in a converge) until ARP and TCP recovered.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from master import api
from tests.cluster import Cluster, wait_for
from tests.hostlib import network
from tests.hostlib.network import GATEWAY
from tests.hosts.conftest import spawn_minion

pytestmark = pytest.mark.host

HEARTBEAT_S = 2


def _lowest_mac(host) -> str:
    """A MAC below any the kernel is likely to make up (random ones are 02:00:00:00:01 or above but
    for one in 2**40),
    unique per lease so two sessions running this test never share one."""
    mac = f"02:00:00:00:00:{host.lease.n:02x}"
    network._ip("link", "set", "dev", host.lease.veth, "address", mac)
    return mac


def _last_seen(c: Cluster, minion_id: str) -> float:
    """When the running master last heard from `minion_id` (its control socket's status)."""
    status = next(api.control_request(api.load_config(c.master_cfg), {"op": "status"}, timeout=5))
    return float(status["last_seen"].get(minion_id) or 0)


def test_a_minion_still_answers_after_another_host_leaves_the_bridge(make_host, tmp_path: Path):
    leaver = make_host("leaver")
    leaver_mac = _lowest_mac(leaver)   # the gateway's MAC, were the bridge to follow its ports
    host = make_host("stayer")
    with Cluster(tmp_path / "c", master_args=["--interface", GATEWAY]) as c:
        c.start_master()
        spawn_minion(host, c, "stayer", heartbeat=HEARTBEAT_S)
        try:
            c.wait_pending("stayer")
            c.accept_keys("stayer")
            c.wait_answering("stayer")
            gateway = host.run(["ip", "neigh", "show", GATEWAY]).stdout
            # the other host leaves between two heartbeats (the minion speaks first: the master
            # has nothing in flight to it, which would have taught it the gateway's new MAC)
            heard = _last_seen(c, "stayer")
            wait_for(lambda: _last_seen(c, "stayer") > heard, step=0.05, what="a heartbeat")
            leaver.stop()
            gone = time.time()
            wait_for(lambda: _last_seen(c, "stayer") > gone, timeout=10, step=0.2,
                     what=f"a heartbeat from the minion after another host left the bridge (its ARP "
                          f"entry for the gateway: {gateway.strip()!r}; the host that left had {leaver_mac})")
            proc = c.cli("run", "stayer", "test.ping", "--timeout", "10", "--out", "json")
            assert proc.returncode == 0, proc.stdout + proc.stderr
            assert json.loads(proc.stdout) == {"stayer": True}
            assert leaver_mac not in gateway
        except BaseException:
            print(host.log("minion"))
            raise
