"""A test host booted by systemd: `systemd-nspawn --boot` over an overlay of `/`.

For what only a real service manager shows: units that start, restart on failure, are
enabled for the next boot, and what their sandboxing lets a daemon do. The overlay and its
upper layer (a tmpfs) live in a private mount namespace that ends with systemd-nspawn, so
nothing is left on the machine. The machine's own enabled services are not started (their
wants links are removed in the overlay). Its network is a test host's: eth0 on the test
bridge (or loopback alone).

It is a `Host`: `run`, `spawn`, `path`, `read_text`, `write_text`, `wait_for` and `stop` work
the same (nsenter into the container's namespaces; stop kills its systemd, and with it every
process inside).
"""
from __future__ import annotations

import glob
import os
import shlex
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.hostlib.host import Host, HostError

PREFIX = "lpsystemd-"
# The machine's services and timers: a test host starts none of them.
WANTS = ("multi-user.target.wants", "timers.target.wants", "getty.target.wants",
         "sysinit.target.wants", "sockets.target.wants")


def available() -> bool:
    return shutil.which("systemd-nspawn") is not None and os.path.exists("/lib/systemd/systemd")


def _boot_script(base: str, name: str) -> str:
    root, layers = f"{base}/root", f"{base}/layers"
    unwanted = " ".join(f"{root}/etc/systemd/system/{w}/*" for w in WANTS)
    return "\n".join([
        "set -e",
        f"mount -t tmpfs -o mode=0755 lp-upper {shlex.quote(layers)}",
        f"mkdir {layers}/upper {layers}/work",
        f"mount -t overlay overlay -o lowerdir=/,upperdir={layers}/upper,workdir={layers}/work {root}",
        f"rm -f {unwanted}",
        f"echo {shlex.quote(name)} > {root}/etc/hostname",
        f"exec systemd-nspawn -q -D {root} --boot --register=no --keep-unit --link-journal=no "
        f"--private-network --hostname={shlex.quote(name)} --machine={shlex.quote(name)}",
    ])


def _remove_stale_bases() -> None:
    for base in glob.glob(os.path.join(tempfile.gettempdir(), PREFIX + "*")):
        try:
            pid = int(Path(base, "nspawn.pid").read_text())
            alive = "systemd-nspawn" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
        except (OSError, ValueError):
            alive = time.time() - os.path.getmtime(base) < 600
        if not alive:
            shutil.rmtree(base, ignore_errors=True)


def _container_init(nspawn_pid: int) -> int | None:
    """The container's systemd: nspawn's child in another pid namespace."""
    mine = os.readlink("/proc/self/ns/pid")
    for children in glob.glob(f"/proc/{nspawn_pid}/task/*/children"):
        try:
            pids = Path(children).read_text().split()
        except OSError:
            continue
        for pid in pids:
            try:
                if os.readlink(f"/proc/{pid}/ns/pid") != mine:
                    return int(pid)
            except OSError:
                continue
    return None


class SystemdHost(Host):
    @classmethod
    def boot(cls, name: str, *, network_on: bool = True, timeout: float = 90.0) -> SystemdHost:
        """Boot a host called `name`, on the test bridge unless `network_on` is false, and
        wait until systemd says it is running."""
        if os.geteuid() != 0:
            raise HostError("a systemd host needs root (namespaces, overlayfs)")
        _remove_stale_bases()
        base = tempfile.mkdtemp(prefix=f"{PREFIX}{name}-")
        os.mkdir(f"{base}/root")
        os.mkdir(f"{base}/layers")
        with open(f"{base}/console.log", "wb") as console:
            nspawn = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                                       _boot_script(base, name)],
                                      stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT)
        Path(base, "nspawn.pid").write_text(f"{nspawn.pid}\n")
        deadline = time.monotonic() + timeout
        host = None
        try:
            while host is None:
                pid = _container_init(nspawn.pid)
                if pid is not None:
                    host = cls(name, base, nspawn, pid, None)
                elif nspawn.poll() is not None or time.monotonic() > deadline:
                    raise HostError(f"systemd-nspawn did not start: {Path(base, 'console.log').read_text()}")
                else:
                    time.sleep(0.05)
            if network_on:
                host.plug_in()
            state = ""   # "offline" or nothing (no bus yet) until the manager's socket is up
            while state in ("", "offline") and time.monotonic() < deadline:
                left = max(1.0, deadline - time.monotonic())
                state = host.run(["systemctl", "is-system-running", "--wait"], timeout=left).stdout.strip()
                time.sleep(0.05)
            if state not in ("running", "degraded"):
                raise HostError(f"{name}: systemd is {state!r}: {host.console()}")
            return host
        except BaseException:
            if host is not None:
                host.stop()
            else:
                nspawn.kill()
                nspawn.wait()
                shutil.rmtree(base, ignore_errors=True)
            raise

    def console(self) -> str:
        return Path(self.base, "console.log").read_text(errors="replace")

    def journal(self, unit: str) -> str:
        return self.run(["journalctl", "-u", unit, "--no-pager", "-o", "cat"]).stdout

    def systemctl(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return self.run(["systemctl", *argv], timeout=60)

    def main_pid(self, unit: str) -> int:
        return int(self.systemctl("show", "-P", "MainPID", unit).stdout.strip() or 0)
