"""Benchmark: `lpmaster drift` as whole processes against a master with N real minions.

Starts a master and N `lpminion` processes on loopback (each converging a small tree on
boot, as by default), then times, as whole processes (Python start-up included):
  - `lpmaster drift`                 the table from stored reports
  - `lpmaster drift --junit FILE`    the same, plus the JUnit file
  - `lpmaster drift --refresh`       every minion checks itself now (highstate in test mode)
  - `lpmaster events`                the event log
and prints the median and worst of each.

    .venv/bin/python bench/drift.py [--minions 10] [--rounds 5]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
LPMASTER, LPMINION = str(BIN / "lpmaster"), str(BIN / "lpminion")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.cluster import Cluster, wait_for  # noqa: E402  (after the path: benches run as scripts)


def timed(argv: list[str], rounds: int) -> tuple[float, float, int]:
    times, code = [], 0
    for _ in range(rounds):
        t0 = time.perf_counter()
        code = subprocess.run(argv, capture_output=True, timeout=300).returncode
        times.append(time.perf_counter() - t0)
    return statistics.median(times), max(times), code


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minions", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=5)
    opts = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="lp-bench-drift-"))
    cluster = Cluster(root, LPMASTER, LPMINION, log_level=None)
    cfg = cluster.master_cfg
    states = cluster.master_dir / "states"
    (states / "top.sls").write_text("base:\n  '*':\n    - base\n")
    (states / "base.sls").write_text("".join(
        f"{{{{ grains['outdir'] }}}}/f{i}:\n  file.managed:\n    - contents: line {i}\n    - makedirs: True\n"
        for i in range(20)))
    try:
        cluster.start_master()
        ids = [f"m{i:03d}" for i in range(opts.minions)]
        for mid in ids:
            cluster.init_minion(mid, "--grain", f"outdir={root / 'out' / mid}")
            cluster.start_minion(mid)
        cluster.wait_pending(*ids, timeout=120)
        cluster.accept_keys("*")
        wait_for(lambda: all((root / "out" / m / "f19").exists() for m in ids), 300, "boot converges",
                 step=0.2)
        base = [LPMASTER, "-c", cfg]
        print(f"{opts.minions} minions, {opts.rounds} rounds, a 20-file highstate each")
        rows = [("drift --refresh", base + ["drift", "--refresh", "--timeout", "120"]),
                ("drift", base + ["drift"]),
                ("drift --junit", base + ["drift", "--junit", str(root / "r.xml")]),
                ("events", base + ["events"])]
        for label, argv in rows:
            median, worst, code = timed(argv, opts.rounds)
            print(f"  {label:<18} median {median * 1000:7.0f} ms   max {worst * 1000:7.0f} ms   exit {code}")
        table = subprocess.run(base + ["drift"], capture_output=True, text=True).stdout
        if "clean" not in table.splitlines()[-1] or "," in table.splitlines()[-1]:
            print(table)     # not every minion clean: show why
    finally:
        cluster.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
