"""PID 1 of a test host: make the namespaces, the overlay root and its mounts, then reap.

Run as `python hostinit.py BASE HOSTNAME [KEEP ...]` (root). The process unshares mount, pid, net, uts and
ipc namespaces, forks the host's init (pid 1 inside), prints `pid N` (the init's pid as the
machine sees it) and, once the root is ready, `ready`; errors print `error: ...`. Both processes
die with their parent (PR_SET_PDEATHSIG), so a crashed test cannot leave a host behind. Only the
standard library is used: this file must start fast and import nothing from the project.

Each KEEP path (the project checkout, whose .venv runs `lpminion` inside the host) is bound
read-only at the same path, so it stays visible even under the host's own /tmp or /run.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG = 1
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}

libc = ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def mount(
    source: str | None, target: str, fstype: str | None, flags: int = 0, data: str | None = None
) -> None:
    """mount(2), raising OSError naming the target."""
    enc = lambda s: s.encode() if s is not None else None
    _check(
        libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
        f"mount {fstype or source} on {target}",
    )


def die_with_parent() -> None:
    _check(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")


def build_root(base: str, hostname: str, keep: list[str]) -> None:
    """Mount the host's root (overlay over / with a tmpfs upper) and pivot into it."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    layers = os.path.join(base, "layers")
    os.makedirs(layers, exist_ok=True)
    # The upper layer is on its own tmpfs: an upper dir on / itself would overlap the lower layer.
    mount("lphost", layers, "tmpfs", 0, "mode=0700")
    upper, work, root = (os.path.join(layers, d) for d in ("upper", "work", "root"))
    for d in (upper, work, root):
        os.mkdir(d)
    mount("overlay", root, "overlay", 0, f"lowerdir=/,upperdir={upper},workdir={work}")
    mount("proc", f"{root}/proc", "proc", MS_NOSUID | MS_NODEV)
    mount("sysfs", f"{root}/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV)
    mount("/dev", f"{root}/dev", None, MS_BIND | MS_REC)
    mount("shm", f"{root}/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    mount("tmp", f"{root}/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    mount("run", f"{root}/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")
    os.makedirs(f"{root}/run/lock", mode=0o1777, exist_ok=True)
    for path in keep:
        target = root + os.path.realpath(path)
        os.makedirs(target, exist_ok=True)
        mount(path, target, None, MS_BIND | MS_REC)
        mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
    os.chdir(root)
    number = SYS_PIVOT_ROOT[os.uname().machine]
    _check(libc.syscall(number, b".", b"."), "pivot_root")
    _check(libc.umount2(b".", MNT_DETACH), "umount old root")
    os.chdir("/")
    socket.sethostname(hostname)
    with open("/etc/hostname", "w") as fh:
        fh.write(hostname + "\n")


def serve_as_init() -> None:
    """Reap every orphan until told to stop (SIGTERM) or killed."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT})
    while True:
        sig = signal.sigwait({signal.SIGCHLD, signal.SIGTERM, signal.SIGINT})
        if sig != signal.SIGCHLD:
            os._exit(0)
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break


def main() -> None:
    base, hostname, keep = sys.argv[1], sys.argv[2], sys.argv[3:]
    die_with_parent()
    _check(
        libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC),
        "unshare",
    )
    child = os.fork()
    if child == 0:
        die_with_parent()
        try:
            build_root(base, hostname, keep)
        except Exception as exc:  # noqa: BLE001 (any failure: report to the test, then stop)
            print(f"error: {exc}", flush=True)
            os._exit(1)
        print("ready", flush=True)
        sys.stdout.close()
        os.close(1)
        serve_as_init()
    print(f"pid {child}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: os.kill(child, signal.SIGKILL))
    _, status = os.waitpid(child, 0)
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


if __name__ == "__main__":
    main()
