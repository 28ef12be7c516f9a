"""Benchmark: accepted minions' heartbeat round trips during a registration flood (issue 14).

A real master with two accepted minions; one accepted key beats continuously while N fresh
CURVE keys register, K connections at a time. Prints the beats' p50/p99/max before and
during the flood, how many beats took longer than a second, and the flood's replies.

    .venv/bin/python bench/register_flood.py              # 1,000 keys, 100 at a time
    .venv/bin/python bench/register_flood.py --n 2000 --at-once 200

Reference (issue 14, before the fix): p99 3.4 s, max 4.5 s for 1,000 keys, 100 at a time.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.cluster import Cluster, wait_for  # noqa: E402  (after the path: benches run as scripts)
from tests.security.flood import Prober, flood  # noqa: E402
from tests.security.rogue import minion_keypair  # noqa: E402


def quantiles(times: list[float | None]) -> str:
    done = sorted(t for t in times if t is not None)
    if not done:
        return "no beats answered"
    def q(p: float) -> float:
        return done[min(len(done) - 1, int(p * len(done)))] * 1000
    lost = len(times) - len(done)
    return (f"{len(times)} beats: p50 {q(0.5):.1f} ms, p99 {q(0.99):.1f} ms, max {done[-1] * 1000:.1f} ms, "
            f"{lost} over the patience")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="fresh keys that register (default 1000)")
    ap.add_argument("--at-once", type=int, default=100, help="connections at a time (default 100)")
    ap.add_argument("--patience", type=float, default=5.0, help="seconds a beat may take before it counts as lost")
    ap.add_argument("--max-pending", type=int, default=1000, help="the master's max_pending_keys")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="lp-flood-"))
    c = Cluster(root, minion_args=["--heartbeat", "1", "--startup-states", "none"],
                minion_config="drift:\n  enabled: false\n", log_level=None)
    try:
        c.add_master_config(f"max_pending_keys: {args.max_pending}\n")
        c.start_master()
        c.add_minions("m1", "m2")
        prober = Prober(c, minion_keypair(c, "m1"), patience=args.patience)
        prober.start()
        wait_for(lambda: len(prober.times) >= 50, what="baseline beats")
        baseline = list(prober.times)
        t0 = time.monotonic()
        counts = flood(c, args.n, args.at_once)
        took = time.monotonic() - t0
        during = prober.times[len(baseline):]
        prober.stop.set()
        prober.join(timeout=10)
        print(f"before the flood: {quantiles(baseline)}")
        print(f"during the flood ({args.n} keys, {args.at_once} at a time, {took:.1f} s): {quantiles(during)}")
        print(f"flood replies: {counts}")
        # the master answers from its index and writes the key files after: wait for the disk
        answered = counts.get("pending", 0)
        t1 = time.monotonic()
        try:
            wait_for(lambda: len(c.keys()["pending"]) >= answered, timeout=60, what="the pending keys on disk")
        except AssertionError:
            pass
        print(f"pending keys on disk: {len(c.keys()['pending'])} of the {answered} answered pending "
              f"({time.monotonic() - t1:.1f} s after the flood)")
    finally:
        c.close()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
