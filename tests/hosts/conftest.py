"""Fixtures for tests on whole hosts: the bridge, hosts, the offline .deb cache, state runs."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cluster import Cluster
from tests.hostlib import GATEWAY, Host, ensure_bridge, remove_bridge
from tests.hostlib.offline import OFFLINE_APT, use_offline_apt

REPO = Path(__file__).resolve().parents[2]
# Outside any host, shared by every session on this machine: fetched once, reused.
DEB_CACHE = OFFLINE_APT
TEST_PACKAGES = ["hello", "tree"]  # small real packages, not installed on the machine
LPMINION = str(Path(sys.executable).parent / "lpminion")
_SLS_COUNTER = itertools.count()


@pytest.fixture(scope="session")
def bridge() -> Iterator[None]:
    created = ensure_bridge()
    yield
    if created:
        remove_bridge()


@pytest.fixture
def make_host(bridge: None) -> Iterator[Any]:
    """A factory: make_host("web1") starts a host that is torn down when the test ends."""
    hosts: list[Host] = []

    def make(name: str) -> Host:
        host = Host.start(name)
        hosts.append(host)
        return host

    yield make
    for host in hosts:
        host.stop()


@pytest.fixture(scope="module")
def module_host(bridge: None, request: pytest.FixtureRequest) -> Iterator[Host]:
    """One host shared by the tests of a module (each test uses its own names)."""
    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")[:20]
    with Host.start(name.replace("_", "-")) as host:
        yield host


@pytest.fixture(scope="session")
def deb_cache() -> str:
    """The .debs of TEST_PACKAGES (and what they need), downloaded once on the machine.

    Only the download touches the machine (into DEB_CACHE, not apt's own cache); apt's package
    lists are refreshed once when they do not know the packages yet (a fresh machine)."""
    os.makedirs(f"{DEB_CACHE}/partial", exist_ok=True)
    have = os.listdir(DEB_CACHE)
    if all(any(f.startswith(f"{p}_") for f in have) for p in TEST_PACKAGES):
        return DEB_CACHE
    download = [
        "apt-get", "install", "--download-only", "-y", "-q", "--no-install-recommends",
        "-o", f"Dir::Cache::archives={DEB_CACHE}/", "--", *TEST_PACKAGES,
    ]  # fmt: skip
    proc = subprocess.run(download, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=False)
        proc = subprocess.run(download, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.fail(f"could not fetch test .debs (needs Debian's repository once): {proc.stderr}")
    return DEB_CACHE


use_deb_cache = use_offline_apt


def sls_text(states: list[dict[str, Any]]) -> str:
    """SLS (as YAML) for `states`; each gets the ID `s<N>` unless it has an "id"."""
    high: dict[str, Any] = {}
    for n, item in enumerate(states):
        body: list[Any] = [{"name": item["name"]}]
        body += [{key: value} for key, value in item.get("args", {}).items()]
        high[item.get("id", f"s{n}")] = {f"{item['state']}.{item['fun']}": body}
    return yaml.safe_dump(high, sort_keys=False)


def lpminion_apply(
    host: Host, sls: str, *, test: bool = False, tree: str = "/srv/salt"
) -> list[dict[str, Any]]:
    """`lpminion apply --local --json` inside `host`, as a user runs it: results in run order."""
    argv = [
        LPMINION,
        "apply",
        "--local",
        "--state-tree",
        tree,
        "--json",
        *(["--test"] if test else []),
        "--",
        sls,
    ]
    proc = host.run(argv)
    if proc.returncode not in (0, 1):
        raise AssertionError(
            f"lpminion apply exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
        )
    results = json.loads(proc.stdout)
    return sorted(results.values(), key=lambda r: r["__run_num__"])


def apply_states(
    host: Host, states: list[dict[str, Any]], *, test: bool = False, tree: str = "/srv/salt"
) -> list[dict[str, Any]]:
    """Write `states` as an SLS into the host's state tree and apply it with lpminion."""
    name = f"t{next(_SLS_COUNTER)}"
    host.write_text(f"{tree}/{name}.sls", sls_text(states))
    return lpminion_apply(host, name, test=test, tree=tree)


def state(state_fun: str, name: str, **args: Any) -> dict[str, Any]:
    mod, fun = state_fun.split(".", 1)
    return {"state": mod, "fun": fun, "name": name, "args": args}


def assert_test_predicts_run(
    host: Host, states: list[dict[str, Any]], **kw: Any
) -> list[dict[str, Any]]:
    """The property of issue 4: test mode predicts exactly what the real run changes, and a
    second run changes nothing. Returns the real run's results."""
    predicted = apply_states(host, states, test=True, **kw)
    for item, res in zip(states, predicted):
        assert res["result"] in (None, True), (item, res)
    real = apply_states(host, states, **kw)
    for item, pre, res in zip(states, predicted, real):
        assert res["result"] is True, (item, res)
        assert res["changes"] == pre["changes"], (item, pre, res)
    again = apply_states(host, states, **kw)
    for item, res in zip(states, again):
        assert res == {**res, "result": True, "changes": {}}, (item, res)
    return real


QUICK_MINION_CONFIG = "register_backoff_max: 0.5\nrequest_timeout: 2\ndrift:\n  enabled: false\n"


def spawn_minion(host: Host, cluster: Cluster, minion_id: str, *, heartbeat: float = 0.5,
                 config: str = QUICK_MINION_CONFIG) -> None:
    """`lpminion init` in `host` for `cluster`'s master on the gateway, `config` appended to its
    minion.yaml, and `lpminion start` spawned (log "minion"); its key is not accepted yet."""
    host.run([LPMINION, "init", "--dir", "/etc/lp", "--id", minion_id,
              "--master", f"{GATEWAY}:{cluster.req_port}", "--key-port", str(cluster.key_port),
              "--master-finger", cluster.finger, "--heartbeat", str(heartbeat), "--startup-states", "none"],
             check=True)
    cfg = host.path("/etc/lp/minion.yaml")
    cfg.write_text(cfg.read_text() + config)
    host.spawn([LPMINION, "-c", "/etc/lp/minion.yaml", "start"], log_name="minion")
