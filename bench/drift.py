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
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
LPMASTER, LPMINION = str(BIN / "lpmaster"), str(BIN / "lpminion")


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


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
    procs: list[subprocess.Popen] = []
    pub, req, key = free_ports(3)
    cfg = str(root / "master" / "master.yaml")
    subprocess.run([LPMASTER, "init", "--dir", str(root / "master"), "--interface", "127.0.0.1",
                    "--publish-port", str(pub), "--request-port", str(req), "--key-port", str(key)],
                   check=True, capture_output=True)
    states = root / "master" / "states"
    (states / "top.sls").write_text("base:\n  '*':\n    - base\n")
    (states / "base.sls").write_text("".join(
        f"{{{{ grains['outdir'] }}}}/f{i}:\n  file.managed:\n    - contents: line {i}\n    - makedirs: True\n"
        for i in range(20)))
    finger = subprocess.run([LPMASTER, "-c", cfg, "keys", "finger", "--master"], capture_output=True,
                            text=True, check=True).stdout.strip()
    try:
        procs.append(subprocess.Popen([LPMASTER, "-c", cfg, "serve"], stderr=subprocess.DEVNULL))
        ids = [f"m{i:03d}" for i in range(opts.minions)]
        for mid in ids:
            subprocess.run([LPMINION, "init", "--dir", str(root / mid), "--id", mid, "--master",
                            f"127.0.0.1:{req}", "--key-port", str(key), "--master-finger", finger,
                            "--grain", f"outdir={root / 'out' / mid}"], check=True, capture_output=True)
            procs.append(subprocess.Popen([LPMINION, "-c", str(root / mid / "minion.yaml"), "start"],
                                          stderr=subprocess.DEVNULL))

        def pending() -> bool:
            out = subprocess.run([LPMASTER, "-c", cfg, "keys", "list", "--json"], capture_output=True, text=True)
            return out.returncode == 0 and len(json.loads(out.stdout)["pending"]) == len(ids)

        wait_for(pending, 120, "pending keys")
        subprocess.run([LPMASTER, "-c", cfg, "keys", "accept", "*", "--yes"], check=True, capture_output=True)
        wait_for(lambda: all((root / "out" / m / "f19").exists() for m in ids), 300, "boot converges")
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
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
