"""Issue 15.1: a running minion daemon sees a group's gid changed by hand.

A real master on the machine (bound to the test bridge) and a real `lpminion start` inside a
test host. After a converge, `groupmod -g` on the host makes the managed file's group wrong
(the file keeps the old number); `lpmaster drift --refresh` must say so, not `clean`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cluster import Cluster
from tests.hostlib.network import GATEWAY
from tests.hosts.conftest import spawn_minion

pytestmark = pytest.mark.host

STATES = {
    "top.sls": "base:\n  'h1':\n    - acct\n",
    "acct.sls": (
        "lpdeploy:\n  group.present: []\n"
        "/srv/lp.conf:\n  file.managed:\n    - contents: hi\n    - group: lpdeploy\n"
        "    - require:\n      - group: lpdeploy\n"
    ),
}


def drift(c: Cluster) -> tuple[int, dict]:
    proc = c.cli("drift", "h1", "--refresh", "--timeout", "30", "--json")
    return proc.returncode, json.loads(proc.stdout) if proc.stdout.strip() else {}


def test_drift_from_a_running_daemon_sees_a_gid_changed_by_hand(make_host, tmp_path: Path):
    host = make_host("lookup1")
    with Cluster(tmp_path / "c", master_args=["--interface", GATEWAY]) as c:
        c.write_states(STATES)
        c.start_master()
        spawn_minion(host, c, "h1")
        try:
            c.wait_pending("h1")
            c.accept_keys("h1")
            c.wait_answering("h1")
            applied = c.cli("apply", "h1", "--timeout", "60")
            assert applied.returncode == 0, applied.stdout + applied.stderr
            code, rows = drift(c)
            assert (code, rows["h1"]["status"]) == (0, "clean"), rows

            host.run(["groupmod", "-g", "1500", "lpdeploy"], check=True)
            code, rows = drift(c)
            assert code == 2 and rows["h1"]["status"] == "drifted", rows
            assert "/srv/lp.conf" in json.dumps(rows["h1"]), rows
        except BaseException:
            print(host.log("minion"))
            raise
