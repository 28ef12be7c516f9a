"""Benchmark: how long a test host takes to start (namespaces, overlay, network) and to tear down.

sudo .venv/bin/python bench/hosts.py [N]      prints median and max over N hosts (default 20)
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.hostlib import Host, ensure_bridge, remove_bridge


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    created = ensure_bridge()
    starts, first_cmd, stops = [], [], []
    try:
        for n in range(count):
            t0 = time.perf_counter()
            host = Host.start(f"bench{n}")
            t1 = time.perf_counter()
            host.run(["true"], check=True)
            t2 = time.perf_counter()
            host.stop()
            t3 = time.perf_counter()
            starts.append(t1 - t0)
            first_cmd.append(t2 - t1)
            stops.append(t3 - t2)
    finally:
        if created:
            remove_bridge()
    for label, values in (
        ("start (with network)", starts),
        ("first command (nsenter)", first_cmd),
        ("teardown", stops),
    ):
        print(
            f"{label:26s} median {statistics.median(values) * 1000:7.1f} ms   "
            f"max {max(values) * 1000:7.1f} ms   (n={count})"
        )


if __name__ == "__main__":
    main()
