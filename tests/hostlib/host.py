"""A whole test host: mount+pid+net+uts+ipc namespaces, an overlay over `/`, its own address.

`Host.start(name)` returns in well under a second. Whatever runs inside writes to `/etc`,
`/usr`, `/var` of an overlay whose upper layer is a tmpfs in the host's own mount namespace,
so it is gone with the host. `/proc`, `/sys`, `/tmp`, `/run` and `/dev/shm` are the host's own;
`/dev` is bound from the machine. `stop()` kills the host's init, which makes the kernel kill
every process in the host's pid namespace and drop its mounts and network; it is safe to call
twice and runs on `with` exit whatever happened. If the test process dies, the host dies too.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Self

from tests.hostlib import network

INIT_SCRIPT = str(Path(__file__).with_name("hostinit.py"))
CHECKOUT = Path(__file__).resolve().parents[2]  # the repo, with the .venv whose lpminion hosts run
DEFAULT_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "LANG": "C.UTF-8",
    "DEBIAN_FRONTEND": "noninteractive",
}


def _remove_stale_bases() -> None:
    """Remove the machine-side dirs of hosts whose init is gone (their test process was killed
    before teardown); dirs without a pid file are left alone unless an hour old."""
    for base in glob.glob(os.path.join(tempfile.gettempdir(), "lphost-*")):
        try:
            pid = int(Path(base, "init.pid").read_text())
            alive = os.path.exists(f"/proc/{pid}") and "hostinit.py" in Path(
                f"/proc/{pid}/cmdline"
            ).read_text(errors="replace")
        except (OSError, ValueError):
            try:
                alive = time.time() - os.path.getmtime(base) < 3600
            except OSError:
                continue
        if not alive:
            shutil.rmtree(base, ignore_errors=True)


class HostError(RuntimeError):
    """The host could not be started, or a command inside it failed with check=True."""


class Host:
    """One running test host. Build with `Host.start(name)`; use as a context manager."""

    def __init__(
        self,
        name: str,
        base: str,
        init: subprocess.Popen[bytes],
        pid: int,
        lease: network.Lease | None,
    ) -> None:
        self.name = name
        self.base = base
        self.pid = pid  # the host's init (pid 1 inside), as the machine sees it
        self.lease = lease
        self._init = init
        self._spawned: list[subprocess.Popen[bytes]] = []
        self._stopped = False

    # -- life cycle -------------------------------------------------------------------------
    @classmethod
    def start(cls, name: str, *, network_on: bool = True, timeout: float = 30.0) -> Host:
        """Start a host called `name` (its hostname); plug it into the test bridge if asked."""
        if os.geteuid() != 0:
            raise HostError("test hosts need root (namespaces, overlayfs)")
        _remove_stale_bases()
        base = tempfile.mkdtemp(prefix=f"lphost-{name}-")
        init = subprocess.Popen(
            [sys.executable, "-I", "-S", INIT_SCRIPT, base, name, str(CHECKOUT)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        host = None
        try:
            pid = cls._await_ready(init, timeout)
            host = cls(name, base, init, pid, None)
            Path(base, "init.pid").write_text(f"{pid}\n")
            if network_on:
                host.plug_in()
            return host
        except BaseException:
            init.kill()
            init.wait()
            if host is not None and host.lease:
                host.lease.release()
            shutil.rmtree(base, ignore_errors=True)
            raise

    def plug_in(self) -> None:
        """Lease an address on the test bridge and give the host eth0 with it."""
        self.lease = network.bridge_and_lease()
        network.plug(self.pid, self.lease)
        self.write_text("/etc/hosts", f"127.0.0.1 localhost\n{self.lease.address} {self.name}\n")

    @staticmethod
    def _await_ready(init: subprocess.Popen[bytes], timeout: float) -> int:
        assert init.stdout is not None
        deadline = time.monotonic() + timeout
        pid, ready = 0, False
        while time.monotonic() < deadline:
            line = init.stdout.readline().decode().strip()
            if line.startswith("pid "):
                pid = int(line.split()[1])
            elif line == "ready":  # the child may say it before its parent prints the pid
                ready = True
            elif not line:
                err = init.stderr.read().decode() if init.stderr else ""
                raise HostError(f"host init exited: {err.strip()}")
            else:
                raise HostError(f"host init failed: {line}")
            if pid and ready:
                return pid
        raise HostError("host init did not get ready in time")

    def stop(self) -> None:
        """Kill everything in the host and remove its traces on the machine. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        if self._init.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)  # the kernel then kills the whole pid namespace
            except ProcessLookupError:
                pass
            self._init.wait(timeout=30)
        for proc in self._spawned:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.lease:
            subprocess.run(
                ["ip", "link", "del", "dev", self.lease.veth], capture_output=True, check=False
            )
            self.lease.release()
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def address(self) -> str:
        if not self.lease:
            raise HostError(f"host {self.name} has no network")
        return self.lease.address

    # -- running things inside ----------------------------------------------------------------
    def command(self, argv: Sequence[str], cwd: str | None = None) -> list[str]:
        """The machine-side argv that runs `argv` inside the host (via nsenter, no shell)."""
        inner = list(argv)
        if cwd:
            inner = ["env", f"--chdir={cwd}", "--", *inner]
        return [
            "nsenter",
            "-t",
            str(self.pid),
            "-m",
            "-u",
            "-i",
            "-n",
            "-p",
            "-r",
            "-w",
            "--",
            *inner,
        ]

    def _env(self, env: Mapping[str, str] | None) -> dict[str, str]:
        merged = dict(DEFAULT_ENV)
        merged.update(env or {})
        return merged

    def run(
        self,
        argv: Sequence[str],
        *,
        input: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        check: bool = False,
        timeout: float = 300.0,
    ) -> subprocess.CompletedProcess[str]:
        """Run `argv` inside the host, wait, and return its output (text)."""
        proc = subprocess.run(
            self.command(argv, cwd),
            check=False,
            input=input,
            env=self._env(env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise HostError(
                f"{self.name}: {list(argv)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    def spawn(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        log_name: str | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start a long-running process inside the host; output goes to a log file on the machine."""
        logname = log_name or Path(argv[0]).name
        with open(os.path.join(self.base, f"{logname}.log"), "ab") as log:
            proc = subprocess.Popen(
                self.command(argv, cwd),
                env=self._env(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._spawned.append(proc)
        return proc

    def wait_for(self, predicate: Callable[[], object], what: str, timeout: float = 60.0) -> None:
        """Poll `predicate` (every 50 ms) until it is true; HostError naming `what` on timeout."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise HostError(f"{self.name}: timed out waiting for {what}")
            time.sleep(0.05)

    def start_supervisord(self, conf: str = "/etc/supervisor/supervisord.conf") -> None:
        """Run the Debian package's supervisord inside the host (no systemd here) and wait for
        its control socket, as a service manager would on a real server."""
        self.spawn(["supervisord", "-n", "-c", conf], log_name="supervisord")
        self.wait_for(lambda: self.exists("/run/supervisor.sock"), "supervisord's socket")

    def log(self, log_name: str) -> str:
        path = os.path.join(self.base, f"{log_name}.log")
        return Path(path).read_text(errors="replace") if os.path.exists(path) else ""

    # -- looking at its files and processes from outside --------------------------------------
    def path(self, inside: str) -> Path:
        """The machine-side path of a file inside the host (through /proc/PID/root)."""
        if not inside.startswith("/"):
            raise ValueError(f"host paths are absolute: {inside!r}")
        return Path(f"/proc/{self.pid}/root{inside}")

    def read_text(self, inside: str) -> str:
        return self.path(inside).read_text()

    def write_text(self, inside: str, text: str, mode: int = 0o644) -> None:
        target = self.path(inside)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        os.chmod(target, mode)

    def exists(self, inside: str) -> bool:
        return os.path.lexists(self.path(inside))

    def processes(self) -> dict[int, str]:
        """Every process in the host, as {pid inside the host: command line}."""
        ns = os.readlink(f"/proc/{self.pid}/ns/pid")
        found: dict[int, str] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if os.readlink(f"/proc/{entry}/ns/pid") != ns:
                    continue
                with open(f"/proc/{entry}/status") as fh:
                    nspid = next(ln for ln in fh if ln.startswith("NSpid:")).split()[-1]
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    cmd = fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
            except (OSError, IndexError):
                continue
            found[int(nspid)] = cmd
        return found
