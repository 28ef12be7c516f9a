"""The .deb, built once per session (packaging/build-deb --fast), and hosts that install it."""
from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostlib import Host

REPO = Path(__file__).resolve().parents[2]
# What a package may touch, listed before install and after purge (dpkg's and apt's own
# records of the run are theirs, not the package's). /root and /opt hold big trees of the
# machine's own (pyenv, wheels): only their top level is listed.
WATCHED = ["/etc", "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/share/doc", "/usr/share/lintian",
           "/lib/systemd", "/var/lib", "/var/cache", "/var/log", "/srv"]
SHALLOW = ["/root", "/opt"]
NOT_OURS = ("/var/lib/dpkg/", "/var/lib/apt/", "/var/cache/apt/", "/var/cache/debconf/",
            "/var/cache/ldconfig/", "/etc/ld.so.cache", "/var/lib/systemd/deb-systemd",
            "/var/log/apt/", "/var/log/dpkg.log", "/var/log/alternatives.log")


@pytest.fixture(scope="session")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("deb")
    proc = subprocess.run([str(REPO / "packaging" / "build-deb"), "--fast", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return Path(proc.stdout.strip().splitlines()[-1])


def copy_in(host: Host, deb: Path) -> str:
    """Put the .deb into the host's own /tmp (as scp would); its path inside the host."""
    inside = f"/tmp/{deb.name}"
    shutil.copyfile(deb, host.path(inside))
    return inside


def install(host: Host, deb: Path) -> None:
    """`apt-get install ./file.deb`: its dependencies are on the machine already (no network)."""
    proc = host.run(["apt-get", "install", "-y", "-q", "--no-install-recommends",
                     copy_in(host, deb)])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def snapshot(host: Host) -> set[str]:
    """Every path under WATCHED with its type and mode (not times: caches get touched)."""
    fmt = ["-xdev", "-printf", "%p %y %m\\n"]
    lines = host.run(["find", *WATCHED, *fmt]).stdout.splitlines()
    lines += host.run(["find", *SHALLOW, "-maxdepth", "1", *fmt]).stdout.splitlines()
    return {line for line in lines if not line.startswith(NOT_OURS)}


def exec_start(host: Host, unit: str) -> list[str]:
    """The installed unit's ExecStart, as argv (what systemd would run)."""
    for line in host.read_text(f"/lib/systemd/system/{unit}").splitlines():
        if line.startswith("ExecStart="):
            return shlex.split(line.removeprefix("ExecStart="))
    raise AssertionError(f"{unit} has no ExecStart")


@pytest.fixture(scope="module")
def fresh_host(request: pytest.FixtureRequest) -> Iterator[Host]:
    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")[:20]
    with Host.start(name.replace("_", "-")) as host:
        yield host
