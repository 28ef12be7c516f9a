"""The test bridge and per-host addresses: 10.231.0.1/24 on `lpbr0`, hosts at 10.231.0.N.

Addresses are leased with flock'ed files under /run/lphost so that two test sessions on one
machine never hand out the same one. Traffic only ever goes to these addresses.

The bridge has a fixed MAC address. Left to itself a Linux bridge takes the lowest MAC of its
ports, so plugging or removing any host (of any test session) could change the gateway's MAC
under the others: a host whose ARP entry named a port that went away sent to nobody until
it re-resolved, and its TCP connections to the master stalled for 30 s to minutes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

BRIDGE = "lpbr0"
PREFIX = "10.231.0"
GATEWAY = f"{PREFIX}.1"
LEASE_DIR = "/run/lphost"
BRIDGE_MAC = "02:00:0a:e7:00:01"  # locally administered, 10.231.0.1
ADDR_SET = "3"  # /sys/class/net/DEV/addr_assign_type: NET_ADDR_SET, an address someone chose


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def ensure_bridge() -> bool:
    """Create the bridge with the gateway address if missing; True when this call created it.
    A bridge made without a fixed MAC (by an older checkout) gets one."""
    if _ip("link", "show", "dev", BRIDGE, check=False).returncode == 0:
        _fix_mac()
        return False
    made = _ip("link", "add", "name", BRIDGE, "address", BRIDGE_MAC, "type", "bridge", check=False)
    if made.returncode != 0 and "File exists" not in made.stderr:
        raise RuntimeError(f"cannot create bridge {BRIDGE}: {made.stderr.strip()}")
    _ip("addr", "replace", f"{GATEWAY}/24", "dev", BRIDGE)
    _fix_mac()
    _ip("link", "set", "dev", BRIDGE, "up")
    return made.returncode == 0


def _fix_mac() -> None:
    try:
        with open(f"/sys/class/net/{BRIDGE}/addr_assign_type", encoding="ascii") as fh:
            if fh.read().strip() == ADDR_SET:
                return
    except OSError:
        return
    _ip("link", "set", "dev", BRIDGE, "address", BRIDGE_MAC, check=False)


@contextlib.contextmanager
def _bridge_lock() -> Iterator[None]:
    """Held while a host goes from `ensure_bridge` to its lease, and while the bridge is removed,
    so that a test session that ends (parallel test workers end at different times) never
    deletes the bridge under a host that is being plugged in."""
    os.makedirs(LEASE_DIR, exist_ok=True)
    fd = os.open(f"{LEASE_DIR}/bridge.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def bridge_and_lease() -> Lease:
    """Make sure the bridge exists and lease a host address on it, atomically."""
    with _bridge_lock():
        ensure_bridge()
        return lease_address()


def remove_bridge() -> bool:
    """Delete the bridge unless some host (of any test session) still holds an address lease."""
    with _bridge_lock():
        return _remove_unleased_bridge()


def _remove_unleased_bridge() -> bool:
    if os.path.isdir(LEASE_DIR):
        for entry in os.listdir(LEASE_DIR):
            if not entry.removesuffix(".lock").isdigit():
                continue
            fd = os.open(os.path.join(LEASE_DIR, entry), os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            finally:
                os.close(fd)
    _ip("link", "del", "dev", BRIDGE, check=False)
    return True


@dataclass
class Lease:
    """An address lease: host number `n` (2..254) held while `fd` stays open and locked."""

    n: int
    fd: int

    @property
    def address(self) -> str:
        return f"{PREFIX}.{self.n}"

    @property
    def mac(self) -> str:
        return f"02:00:0a:e7:01:{self.n:02x}"

    @property
    def veth(self) -> str:
        return f"lph{self.n}"

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def lease_address() -> Lease:
    """Lock the first free host number."""
    os.makedirs(LEASE_DIR, exist_ok=True)
    for n in range(2, 255):
        fd = os.open(f"{LEASE_DIR}/{n}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return Lease(n, fd)
    raise RuntimeError("no free test-host address in 10.231.0.2-254")


def plug(init_pid: int, lease: Lease) -> None:
    """Give the host (its init's net namespace) eth0 on the bridge, its address and a route."""
    _ip("link", "del", "dev", lease.veth, check=False)  # a leftover from a killed session
    # eth0's MAC follows from the address: a host that gets an address another host had just
    # given back answers at the MAC every neighbour still has for it (a random one left the
    # machine and the other hosts sending to a MAC that was gone, for up to a minute)
    _ip("link", "add", "name", lease.veth, "type", "veth",
        "peer", "name", "eth0", "address", lease.mac, "netns", str(init_pid))  # fmt: skip
    _ip("neigh", "flush", "to", lease.address, "dev", BRIDGE, check=False)
    _ip("link", "set", "dev", lease.veth, "master", BRIDGE, "up")
    batch = (
        f"link set dev lo up\n"
        f"addr add {lease.address}/24 dev eth0\n"
        f"link set dev eth0 up\n"
        f"route add default via {GATEWAY}\n"
    )
    subprocess.run(
        ["nsenter", "-t", str(init_pid), "-n", "--", "ip", "-batch", "-"],
        input=batch,
        text=True,
        capture_output=True,
        check=True,
    )
