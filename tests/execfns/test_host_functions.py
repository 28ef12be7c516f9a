"""Issue 15.10 on a whole host: pkg.* and service.* through a real master and a real minion
running inside a test host (packages from the tests' offline .deb cache; a real supervisord)."""
from __future__ import annotations


import shutil
import tempfile
from pathlib import Path

import pytest

from tests.cluster import Cluster
from tests.hostlib import Host
from tests.hostlib.network import GATEWAY
from tests.hosts.conftest import spawn_minion, use_deb_cache

pytestmark = pytest.mark.host

PROGRAM = "[program:ticker]\ncommand=sleep 100000\nautostart=true\nstartsecs=0\n"


@pytest.fixture(scope="module")
def onhost(bridge, deb_cache):
    # our own temp dir: pytest's basetemp rotation (other sessions on this machine) must not
    # remove it under the running master
    root = Path(tempfile.mkdtemp(prefix="lp-execfns-host-"))
    try:
        with Host.start("execfns1") as host, Cluster(root, master_args=["--interface", GATEWAY]) as c:
            use_deb_cache(host, deb_cache)
            host.run(["rm", "-f", "/var/lib/man-db/auto-update"])  # dpkg's man-db trigger: seconds per call
            host.write_text("/etc/supervisor/conf.d/ticker.conf", PROGRAM)
            host.start_supervisord()
            c.start_master()
            spawn_minion(host, c, "h1", config="register_backoff_max: 0.5\ndrift:\n  enabled: false\n")
            try:
                c.wait_pending("h1")
                c.accept_keys("h1")
                c.wait_answering("h1")
            except BaseException:
                print(host.log("minion"))
                raise
            yield host, c
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run(c: Cluster, *args: str) -> tuple[int, object]:
    code, data, _err = c.run_json("h1", *args, "--timeout", "120")
    return code, data.get("h1")


def test_pkg_install_version_and_remove(onhost):
    host, c = onhost
    assert run(c, "pkg.version", "hello") == (0, "")
    code, changes = run(c, "pkg.install", "hello")
    assert code == 0 and set(changes) >= {"hello"} and changes["hello"]["old"] == ""
    installed = changes["hello"]["new"]
    assert run(c, "pkg.version", "hello") == (0, installed)
    assert host.run(["hello"]).stdout.strip() == "Hello, world!"
    code, pkgs = run(c, "pkg.list_pkgs")
    assert code == 0 and pkgs["hello"] == installed
    assert run(c, "pkg.install", "hello") == (0, {})  # installed already: apt is not even asked
    assert run(c, "pkg.remove", "hello") == (0, {"hello": {"old": installed, "new": ""}})
    code, err = run(c, "pkg.install", "Evil_Name")
    assert code == 1 and "is not a Debian package name" in err


def test_service_status_restart_reload(onhost):
    host, c = onhost

    def pid() -> int | None:
        return next((p for p, cmd in host.processes().items() if cmd.startswith("sleep 100000")), None)

    assert run(c, "service.status", "ticker") == (0, True)
    before = pid()
    assert run(c, "service.restart", "ticker") == (0, True)
    assert pid() not in (None, before)
    assert run(c, "service.reload", "ticker") == (0, True)
    assert run(c, "service.stop", "ticker") == (0, True)
    assert run(c, "service.status", "ticker") == (0, False)
    assert pid() is None
    code, err = run(c, "service.restart", "nosuch")
    assert code == 1 and "no program 'nosuch'" in err
