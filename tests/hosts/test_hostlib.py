"""The test-host library itself: isolation, reachability, teardown."""

from __future__ import annotations

import glob
import os
import socket
import time
from pathlib import Path

import pytest

from tests.hostlib import Host

pytestmark = pytest.mark.host


def test_host_writes_land_in_its_overlay_only(make_host):
    host = make_host("iso1")
    host.run(["sh", "-c", "echo hi > /etc/lp-isolation-marker && useradd lpisolated"], check=True)
    assert host.read_text("/etc/lp-isolation-marker") == "hi\n"
    assert not os.path.exists("/etc/lp-isolation-marker")
    assert "lpisolated" not in Path("/etc/passwd").read_text()
    assert host.run(["hostname"]).stdout.strip() == "iso1"
    # its own pid namespace: only init and the command itself are visible
    assert host.run(["ps", "-e", "-o", "pid="]).stdout.split()[0] == "1"


def test_host_is_reachable_on_the_bridge_and_teardown_kills_everything(bridge):
    host = Host.start("net1")
    try:
        server = host.spawn(
            ["python3", "-m", "http.server", "8080", "--bind", host.address, "-d", "/etc"],
            log_name="http",
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection((host.address, 8080), timeout=2) as conn:
                    conn.sendall(b"GET /hostname HTTP/1.0\r\n\r\n")
                    reply = conn.makefile("rb").read()
                break
            except OSError:
                assert time.monotonic() < deadline, host.log("http")
                time.sleep(0.05)
        assert reply.endswith(b"net1\n")
        inside = host.processes()
        assert any("http.server" in cmd for cmd in inside.values())
        base = host.base
    finally:
        host.stop()
    assert server.poll() is not None
    assert not os.path.exists(base)
    with pytest.raises(OSError):
        socket.create_connection((host.address, 8080), timeout=1)


def test_host_dies_with_a_failing_test_body(bridge):
    with pytest.raises(RuntimeError), Host.start("fail1") as host:
        pid = host.pid
        raise RuntimeError("test failed")
    assert not os.path.exists(f"/proc/{pid}/root/etc")


def test_host_dies_with_a_killed_test_process(bridge, tmp_path):
    """A test process that is SIGKILLed cannot run teardown: the host must die on its own."""
    import signal
    import subprocess
    import sys

    script = (
        "import sys, time\n"
        "from tests.hostlib import Host\n"
        "host = Host.start('orphan1')\n"
        "host.spawn(['sleep', '600'])\n"
        "print(host.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    owner = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        cwd=str(Path(__file__).resolve().parents[2]),
    )
    init_pid = int(owner.stdout.readline())
    assert os.path.exists(f"/proc/{init_pid}")
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    deadline = time.monotonic() + 30
    while os.path.exists(f"/proc/{init_pid}/root/etc"):
        assert time.monotonic() < deadline, "the host outlived its test process"
        time.sleep(0.05)
    Host.start("next1").stop()  # the next start clears what the dead host left on the machine
    assert not glob.glob("/tmp/lphost-orphan1-*")
