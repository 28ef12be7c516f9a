"""Benchmark: fan-out of `test.ping` to many minions over CurveZMQ.

Two modes (both on loopback, with a real `lpmaster serve`):

  real  N real `lpminion start` processes (default N = 10, 50, 100)
  sim   one process hosting N simulated minions, each with its own keys and sockets
        (the real MinionDaemon class on a shared zmq Context; default N = 100, 1000)

Keys are accepted ahead of time (as after a restart), so "start to all answering" is the
time from starting the minions until one `lpmaster run '*' test.ping` gets all N returns.
Then the ping round trip is timed as a whole `lpmaster run` process (Python start-up
included): median and p95 over --rounds runs. RSS from /proc (VmRSS).

    .venv/bin/python bench/fanout.py                 # both modes, default sizes
    .venv/bin/python bench/fanout.py --mode real --n 10,50
    .venv/bin/python bench/fanout.py --mode sim --n 1000 --rounds 20

Reference (issue 2, Salt 3008 on this machine): `salt '*' test.ping` 1.06 s (N=10), 3.2 s
(N=50), 7.9 s (N=100); 80 s from start until all 100 answer; master ~900 MB RSS, each
minion 115 MB. Goals: 100 real minions pinged in < 1 s, all answering within 10 s of start,
each minion < 40 MB, master < 150 MB; 1,000 simulated minions answered in < 1 s median.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
BIN = Path(sys.executable).parent
LPMASTER, LPMINION = str(BIN / "lpmaster"), str(BIN / "lpminion")

from tests.cluster import Cluster  # noqa: E402  (after the path: benches run as scripts)


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Bench:
    """A master with N pre-accepted minion directories under a temp dir."""

    def __init__(self, n: int, heartbeat: float) -> None:
        from core.keys import load_keypair
        from master import api
        from master.keystore import KeyStore
        from minion.enroll import init_minion

        self.n = n
        self.tmp = Path(tempfile.mkdtemp(prefix="lp-fanout-"))
        self.cluster = Cluster(self.tmp, LPMASTER, LPMINION, log_level=None)
        self.master_yaml = self.cluster.master_cfg
        cfg = api.load_config(self.master_yaml)
        store = KeyStore(cfg.pki_dir)
        self.ids = [f"m{i:04d}" for i in range(n)]
        self.minion_yamls = []
        for mid in self.ids:  # in this process: pre-accepted, as after a restart
            mcfg = init_minion(str(self.cluster.minion_dir(mid)), mid, f"127.0.0.1:{self.cluster.req_port}",
                               master_finger=self.cluster.finger, key_port=self.cluster.key_port,
                               heartbeat_interval=heartbeat, startup_states="none")
            store.register(mid, load_keypair(mcfg.pki_dir, "minion").public, max_pending=n + 1)
            store.accept(mid)
            self.minion_yamls.append(os.path.join(mcfg.root, "minion.yaml"))

    def ping(self, timeout: float = 5.0) -> tuple[float, int]:
        """One whole `lpmaster run '*' test.ping` process: (seconds, how many answered)."""
        t0 = time.perf_counter()
        res = subprocess.run([LPMASTER, "-c", self.master_yaml, "run", "*", "test.ping", "--json",
                              "--timeout", str(timeout)], capture_output=True, text=True)
        took = time.perf_counter() - t0
        try:
            answered = sum(1 for v in json.loads(res.stdout).values() if v is True)
        except ValueError:
            answered = 0
        return took, answered

    def wait_all_answer(self, t0: float, limit: float = 120.0) -> float:
        while time.monotonic() - t0 < limit:
            _, answered = self.ping(timeout=1.0)
            if answered == self.n:
                return time.monotonic() - t0
        raise SystemExit(f"not all {self.n} minions answered within {limit:.0f}s")

    def round_trips(self, rounds: int) -> tuple[float, float]:
        times = []
        for _ in range(rounds):
            took, answered = self.ping()
            if answered != self.n:
                print(f"  (a ping got {answered}/{self.n})")
            times.append(took)
        times.sort()
        return statistics.median(times), times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]

    def close(self) -> None:
        self.cluster.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def run_real(n: int, rounds: int) -> None:
    bench = Bench(n, heartbeat=5.0)
    try:
        bench.cluster.start_master()
        t0 = time.monotonic()
        procs = [bench.cluster.start_minion(mid) for mid in bench.ids]
        all_in = bench.wait_all_answer(t0)
        med, p95 = bench.round_trips(rounds)
        minion_rss = [rss_mb(p.pid) for p in procs]
        master = bench.cluster.master_proc
        assert master is not None
        print(f"real N={n:5d}: all answering {all_in:6.2f}s after start | ping (whole process) "
              f"median {med:.3f}s p95 {p95:.3f}s | master RSS {rss_mb(master.pid):6.1f} MB | "
              f"minion RSS median {statistics.median(minion_rss):5.1f} MB max {max(minion_rss):5.1f} MB",
              flush=True)
    finally:
        bench.close()


def run_sim(n: int, rounds: int) -> None:
    bench = Bench(n, heartbeat=10.0)
    try:
        bench.cluster.start_master()
        listing = bench.tmp / "minions.txt"
        listing.write_text("\n".join(bench.minion_yamls))
        t0 = time.monotonic()
        host = bench.cluster.start_process("sim", [sys.executable, __file__, "--host-sim", str(listing)])
        all_in = bench.wait_all_answer(t0, limit=300)
        med, p95 = bench.round_trips(rounds)
        master = bench.cluster.master_proc
        assert master is not None
        host_rss = rss_mb(host.pid)
        print(f"sim  N={n:5d}: all answering {all_in:6.2f}s after start | ping (whole process) "
              f"median {med:.3f}s p95 {p95:.3f}s | master RSS {rss_mb(master.pid):6.1f} MB | "
              f"host RSS {host_rss:6.1f} MB ({host_rss / n * 1024:.0f} KB a minion)", flush=True)
    finally:
        bench.close()


def host_simulated(listing: str) -> None:
    """Run many MinionDaemons in this one process (own keys and sockets each)."""
    from concurrent.futures import ThreadPoolExecutor

    import zmq
    import zmq.asyncio

    from core.config import load_minion
    from core.keys import load_keypair
    from minion import grains as grains_mod
    from minion.daemon import MinionDaemon

    paths = Path(listing).read_text().split()

    async def main() -> None:
        ctx = zmq.asyncio.Context()
        ctx.set(zmq.MAX_SOCKETS, 4 * len(paths) + 64)
        pool = ThreadPoolExecutor(max_workers=8)
        shared = grains_mod.collect("sim")
        daemons = []
        for path in paths:
            cfg = load_minion(path)
            g = dict(shared, id=cfg.id)
            daemons.append(MinionDaemon(cfg, load_keypair(cfg.pki_dir, "minion"), ctx=ctx, pool=pool, grains=g))
        await asyncio.gather(*(d.run(install_signals=False) for d in daemons))

    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["real", "sim", "both"], default="both")
    parser.add_argument("--n", default=None, help="comma-separated sizes")
    parser.add_argument("--rounds", type=int, default=20, help="pings timed per size")
    parser.add_argument("--host-sim", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.host_sim:
        host_simulated(args.host_sim)
        return
    modes = ["real", "sim"] if args.mode == "both" else [args.mode]
    for mode in modes:
        sizes = [int(x) for x in (args.n or ("10,50,100" if mode == "real" else "100,1000")).split(",")]
        for n in sizes:
            (run_real if mode == "real" else run_sim)(n, args.rounds)


if __name__ == "__main__":
    main()
