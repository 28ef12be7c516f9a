"""network.*: this host's addresses, as Salt's network module returns them (also mine functions).

    lpmaster run 'db*' network.ip_addrs interface=eth0
"""
from __future__ import annotations

import ipaddress
from typing import Any

from minion.grains import ip_interfaces


def _addrs(version: int, interface: str | None, cidr: str | None, include_loopback: bool,
           kind: str | None = None) -> list[str]:
    if kind not in (None, "public", "private"):
        raise ValueError(f"type= must be public or private, not {kind!r}")
    network = ipaddress.ip_network(cidr, strict=False) if cidr else None
    found: set[str] = set()
    for name, addrs in ip_interfaces().items():
        if interface and name != interface:
            continue
        for text in addrs:
            addr = ipaddress.ip_address(text.split("%")[0])
            if addr.version != version or (addr.is_loopback and not include_loopback):
                continue
            if version == 6 and addr.is_link_local:
                continue
            if network is not None and addr not in network:
                continue
            if kind is not None and addr.is_private != (kind == "private"):
                continue
            found.add(str(addr))
    return sorted(found, key=ipaddress.ip_address)


def ip_addrs(ctx: Any = None, interface: str | None = None, include_loopback: Any = False,
             cidr: str | None = None, type: str | None = None) -> list[str]:
    """IPv4 addresses of this host (of `interface`, within `cidr`, `type=public|private`), loopback left out."""
    return _addrs(4, interface, cidr, str(include_loopback).lower() in ("true", "1", "yes"), type)


def ip_addrs6(ctx: Any = None, interface: str | None = None, include_loopback: Any = False,
              cidr: str | None = None, type: str | None = None) -> list[str]:
    """Global IPv6 addresses of this host (link-local and loopback left out)."""
    return _addrs(6, interface, cidr, str(include_loopback).lower() in ("true", "1", "yes"), type)
