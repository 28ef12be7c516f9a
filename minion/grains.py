"""Grains: facts about this host, read from /proc, /etc/os-release and the kernel (no subprocess).

    id, hostname, fqdn, os, os_family, osrelease, oscodename, kernel, kernelrelease,
    cpuarch, num_cpus, mem_total (MiB), ipv4, ipv6, ip_interfaces, init (systemd or unknown)

plus the `grains:` map from minion.yaml (custom grains win over detected ones).
"""
from __future__ import annotations

import os
import platform
import socket
import struct
from typing import Any, Mapping

_OS_FAMILY = {
    "debian": "Debian", "ubuntu": "Debian", "raspbian": "Debian", "linuxmint": "Debian",
    "rhel": "RedHat", "centos": "RedHat", "fedora": "RedHat", "rocky": "RedHat", "almalinux": "RedHat",
    "amzn": "RedHat", "arch": "Arch", "alpine": "Alpine", "opensuse": "Suse", "sles": "Suse",
}
_OS_NAME = {"debian": "Debian", "ubuntu": "Ubuntu", "rhel": "RedHat", "centos": "CentOS",
            "fedora": "Fedora", "rocky": "Rocky", "almalinux": "AlmaLinux", "arch": "Arch",
            "alpine": "Alpine", "amzn": "Amazon"}


def os_release(path: str = "/etc/os-release") -> dict[str, str]:
    """Parse os-release (KEY=value lines, optionally quoted)."""
    out: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, sep, value = line.strip().partition("=")
                if sep and key and not key.startswith("#"):
                    out[key] = value.strip().strip('"').strip("'")
    except OSError:
        pass
    return out


def mem_total_mib(path: str = "/proc/meminfo") -> int:
    try:
        with open(path, encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _ipv4_of(ifname: str) -> str | None:
    import fcntl

    siocgifaddr = 0x8915
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            packed = fcntl.ioctl(sock.fileno(), siocgifaddr, struct.pack("256s", ifname[:15].encode()))
        except OSError:
            return None
    return socket.inet_ntoa(packed[20:24])


def _ipv6_by_interface(path: str = "/proc/net/if_inet6") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    try:
        with open(path, encoding="ascii") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) >= 6:
                    addr = socket.inet_ntop(socket.AF_INET6, bytes.fromhex(parts[0]))
                    out.setdefault(parts[5], []).append(addr)
    except (OSError, ValueError):
        pass
    return out


def ip_interfaces() -> dict[str, list[str]]:
    """interface -> addresses (IPv4 first, then IPv6)."""
    v6 = _ipv6_by_interface()
    out: dict[str, list[str]] = {}
    try:
        names = [name for _, name in socket.if_nameindex()]
    except OSError:
        names = []
    for name in names:
        addrs = []
        v4 = _ipv4_of(name)
        if v4:
            addrs.append(v4)
        addrs.extend(v6.get(name, []))
        out[name] = addrs
    return out


def collect(minion_id: str, custom: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """All grains for this host; `custom` (from minion.yaml) overrides detected values."""
    rel = os_release()
    os_id = rel.get("ID", "").lower()
    uname = os.uname()
    interfaces = ip_interfaces()
    ipv4 = sorted({a for addrs in interfaces.values() for a in addrs if ":" not in a})
    ipv6 = sorted({a for addrs in interfaces.values() for a in addrs if ":" in a})
    hostname = socket.gethostname()
    grains: dict[str, Any] = {
        "id": minion_id,
        "hostname": hostname.split(".")[0],
        "fqdn": hostname,
        "os": _OS_NAME.get(os_id, rel.get("NAME", platform.system())),
        "os_family": _OS_FAMILY.get(os_id) or _OS_FAMILY.get(rel.get("ID_LIKE", "").split(" ")[0], "")
        or platform.system(),
        "osrelease": rel.get("VERSION_ID", ""),
        "oscodename": rel.get("VERSION_CODENAME", ""),
        "kernel": uname.sysname,
        "kernelrelease": uname.release,
        "cpuarch": uname.machine,
        "num_cpus": os.cpu_count() or 1,
        "mem_total": mem_total_mib(),
        "ipv4": ipv4,
        "ipv6": ipv6,
        "ip_interfaces": interfaces,
        "init": "systemd" if os.path.isdir("/run/systemd/system") else "unknown",
    }
    grains.update(dict(custom or {}))
    grains["id"] = minion_id
    return grains
