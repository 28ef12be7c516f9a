"""Benchmark: fan-out of `test.ping` to many minions over CurveZMQ.

Two modes (both on loopback, with a real `lpmaster serve`):

  real  N real `lpminion start` processes (default N = 10, 50, 100)
  sim   one process hosting N simulated minions, each with its own keys and sockets
        (the real MinionDaemon class on a shared zmq Context; default N = 100, 1000; their
        directories in /dev/shm, as N machines would not share one disk's fsyncs).
        `--sim-procs K` spreads them over K such processes (N/K each; the output says K):
        N machines run their minions in parallel, one process runs them one after another

Keys are accepted ahead of time (as after a restart), so "start to all answering" is the
time from starting the minions until one `lpmaster run '*' test.ping` gets all N returns.
Then the ping round trip is timed as a whole `lpmaster run` process (Python start-up
included): median and p95 over --rounds runs. RSS from /proc (VmRSS).

    .venv/bin/python bench/fanout.py                 # both modes, default sizes
    .venv/bin/python bench/fanout.py --mode real --n 10,50
    .venv/bin/python bench/fanout.py --mode sim --n 1000 --rounds 20
    .venv/bin/python bench/fanout.py --salt /work/saltvenv --salt-n 10,30   # against Salt 3008
    .venv/bin/python bench/fanout.py --mode sim --n 1000 --profile-master /tmp/master.prof
    .venv/bin/python bench/fanout.py --mode sim --n 1000 --sim-procs 2   # minions in 2 processes

With --salt VENV, a salt-master and N salt-minions (keys auto-accepted, all under one temp
root on loopback) run beside N real minions of ours; the pings alternate between the two
(whole `lpmaster run` / `salt` processes), and the table shows both and the ratio. Salt's
RSS counts its whole process tree.

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
import signal
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

    def __init__(self, n: int, heartbeat: float, minions_on_tmpfs: bool = False) -> None:
        """`minions_on_tmpfs`: the minions' directories in /dev/shm. The simulated host stands
        for N machines with a disk each; through one shared disk their per-job fsyncs (the
        replay guard, the in-progress record) would queue behind each other, which no fleet does."""
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
        self.shm = Path(tempfile.mkdtemp(prefix="lp-fanout-", dir="/dev/shm")) if minions_on_tmpfs else None
        for mid in self.ids:  # in this process: pre-accepted, as after a restart
            home = self.shm / mid if self.shm else self.cluster.minion_dir(mid)
            mcfg = init_minion(str(home), mid, f"127.0.0.1:{self.cluster.req_port}",
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

    def start_master(self, profile: str | None) -> None:
        """`lpmaster serve`, under cProfile (written when it stops) when `profile` names a file."""
        self.cluster.start_master([sys.executable, "-m", "cProfile", "-o", profile] if profile else [])

    def wait_all_answer(self, t0: float, limit: float = 120.0) -> float:
        last = -1
        while time.monotonic() - t0 < limit:
            took, answered = self.ping(timeout=5.0)
            if answered == self.n:
                return time.monotonic() - t0
            if answered != last:
                print(f"  ({answered}/{self.n} answered at {time.monotonic() - t0:.1f}s, ping {took:.2f}s)",
                      flush=True)
                last = answered
        raise SystemExit(f"not all {self.n} minions answered within {limit:.0f}s")

    def round_trips(self, rounds: int) -> tuple[float, float]:
        times = []
        for _ in range(rounds):
            took, answered = self.ping()
            if answered != self.n:
                print(f"  (a ping got {answered}/{self.n})")
            times.append(took)
        return median_p95(times)

    def close(self) -> None:
        self.cluster.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self.shm:
            shutil.rmtree(self.shm, ignore_errors=True)


def run_real(n: int, rounds: int, profile: str | None = None) -> None:
    bench = Bench(n, heartbeat=5.0)
    try:
        bench.start_master(profile)
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


def median_p95(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used (from /proc)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and all its descendants (Salt's master is a tree of processes)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += rss_mb(current)
        todo.extend(children.get(current, []))
    return total


def run_versus_salt(n: int, rounds: int, venv: Path) -> None:
    """N real minions of ours and N Salt minions, both fleets up, pings interleaved."""
    sys.path.insert(0, str(REPO / "bench"))
    from saltfleet import SaltFleet

    bench, fleet = Bench(n, heartbeat=5.0), SaltFleet(venv, n)
    try:
        bench.start_master(None)
        t0 = time.monotonic()
        procs = [bench.cluster.start_minion(mid) for mid in bench.ids]
        ours_up = bench.wait_all_answer(t0)
        salt_up = fleet.start()
        times: dict[str, list[float]] = {"ours": [], "salt": []}
        short = {"ours": 0, "salt": 0}   # pings some minion did not answer: left out of the figures
        for _ in range(rounds):
            for tool, ping in (("ours", bench.ping), ("salt", fleet.ping)):
                took, answered = ping()
                if answered == n:
                    times[tool].append(took)
                else:
                    short[tool] += 1
        if not times["ours"] or not times["salt"]:
            raise SystemExit(f"no ping got all {n} answers (short pings: {short})")
        master = bench.cluster.master_proc
        assert master is not None
        salt_master, salt_minions = fleet.pids()
        rows = {
            "ours": (ours_up, times["ours"], rss_mb(master.pid), [rss_mb(p.pid) for p in procs]),
            "salt": (salt_up, times["salt"], tree_rss_mb(salt_master), [tree_rss_mb(p) for p in salt_minions]),
        }
        print(f"versus Salt, N={n} real minions each, {rounds} pings interleaved (whole processes)")
        print(f"  {'tool':<6}{'all up s':>10}{'ping median s':>15}{'p95 s':>8}{'master MB':>11}{'minion MB':>11}"
              f"{'short pings':>13}")
        for tool, (up, ts, mrss, minions) in rows.items():
            med, p95 = median_p95(ts)
            print(f"  {tool:<6}{up:>10.2f}{med:>15.3f}{p95:>8.3f}{mrss:>11.1f}"
                  f"{statistics.median(minions):>11.1f}{short[tool]:>13d}")
        ours, salt = rows["ours"], rows["salt"]
        print(f"  salt/ours: all up {salt[0] / ours[0]:.1f}x, ping median "
              f"{statistics.median(salt[1]) / statistics.median(ours[1]):.1f}x, master RSS "
              f"{salt[2] / ours[2]:.1f}x, minion RSS {statistics.median(salt[3]) / statistics.median(ours[3]):.1f}x",
              flush=True)
    finally:
        fleet.close()
        bench.close()


def run_sim(n: int, rounds: int, profile: str | None = None, profile_host: str | None = None,
            procs: int = 1) -> None:
    bench = Bench(n, heartbeat=10.0, minions_on_tmpfs=True)
    try:
        bench.start_master(profile)
        listings = []
        for i in range(procs):   # minion i goes to process i % procs
            listings.append(bench.tmp / f"minions-{i}.txt")
            listings[-1].write_text("\n".join(bench.minion_yamls[i::procs]))
        t0 = time.monotonic()
        hosts = []
        for i, listing in enumerate(listings):
            profiler = ["-m", "cProfile", "-o", f"{profile_host}.{i}" if procs > 1 else profile_host] \
                if profile_host else []
            hosts.append(bench.cluster.start_process(
                f"sim{i}", [sys.executable, *profiler, __file__, "--host-sim", str(listing)]))
        all_in = bench.wait_all_answer(t0, limit=300)
        master = bench.cluster.master_proc
        assert master is not None
        pids = [master.pid] + [h.pid for h in hosts]
        cpu0 = [cpu_s(p) for p in pids]
        med, p95 = bench.round_trips(rounds)
        master_cpu, *host_cpus = ((cpu_s(p) - c) / rounds for p, c in zip(pids, cpu0))
        host_rss = sum(rss_mb(h.pid) for h in hosts)
        where = "one process for all N" if procs == 1 else f"{procs} processes, N/{procs} minions each"
        print(f"sim  N={n:5d} in {procs} process(es): all answering {all_in:6.2f}s after start | ping "
              f"(whole process) median {med:.3f}s p95 {p95:.3f}s | master RSS {rss_mb(master.pid):6.1f} MB | "
              f"host RSS {host_rss:6.1f} MB ({host_rss / n * 1024:.0f} KB a minion)\n"
              f"           CPU per ping: master {master_cpu:.3f}s, simulated minions "
              f"{' + '.join(f'{c:.3f}' for c in host_cpus)}s "
              f"({where}: N machines would do this in parallel)", flush=True)
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
        for sig in (signal.SIGTERM, signal.SIGINT):  # stop cleanly (a profile is then written)
            asyncio.get_running_loop().add_signal_handler(sig, lambda: [d.stop() for d in daemons])
        await asyncio.gather(*(d.run(install_signals=False) for d in daemons))

    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["real", "sim", "both"], default="both")
    parser.add_argument("--n", default=None, help="comma-separated sizes")
    parser.add_argument("--rounds", type=int, default=20, help="pings timed per size")
    parser.add_argument("--profile-master", default=None, metavar="FILE",
                        help="run the master under cProfile, stats to FILE (the last size run)")
    parser.add_argument("--salt", type=Path, default=None, metavar="VENV",
                        help="also run Salt 3008 from this venv: N real minions of each, pings interleaved")
    parser.add_argument("--salt-n", default="20", help="comma-separated fleet sizes for --salt (keep small)")
    parser.add_argument("--profile-host", default=None, metavar="FILE",
                        help="sim mode: run the simulated minions' process under cProfile, stats to FILE")
    parser.add_argument("--sim-procs", type=int, default=1, metavar="K",
                        help="sim mode: host the simulated minions in K processes (N/K each), not one")
    parser.add_argument("--host-sim", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.host_sim:
        host_simulated(args.host_sim)
        return
    if args.salt:
        for n in (int(x) for x in args.salt_n.split(",")):
            run_versus_salt(n, args.rounds, args.salt)
        return
    modes = ["real", "sim"] if args.mode == "both" else [args.mode]
    for mode in modes:
        sizes = [int(x) for x in (args.n or ("10,50,100" if mode == "real" else "100,1000")).split(",")]
        for n in sizes:
            if mode == "real":
                run_real(n, args.rounds, args.profile_master)
            else:
                run_sim(n, args.rounds, args.profile_master, args.profile_host, args.sim_procs)


if __name__ == "__main__":
    main()
