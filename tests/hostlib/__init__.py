"""Whole test hosts: Linux namespaces with an overlay over `/`, for tests, the demo and drills.

    from tests.hostlib import Host
    with Host.start("web1") as host:
        host.run(["apt-get", "install", "-y", "hello"])
        assert host.path("/usr/bin/hello").exists()

See host.py for the API.
"""

from __future__ import annotations

from tests.hostlib.host import Host, HostError
from tests.hostlib.network import BRIDGE, GATEWAY, ensure_bridge, remove_bridge

__all__ = ["BRIDGE", "GATEWAY", "Host", "HostError", "ensure_bridge", "remove_bridge"]
