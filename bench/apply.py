"""Benchmark: `lpmaster apply '*'` across N real minion processes, as whole CLI processes.

Scenarios (issue 5):
  one-file   a one-file state (file.managed with contents) on N = 10 and 50 minions
  converge   bench/converge.py's tree (200 templated files, 20 dirs, 50 symlinks, 10 cmd.run)
             on N = 10 minions, each under its own prefix
For each: the first apply, a second (no-op) apply and a test-mode apply, each timed as a
whole `lpmaster apply` process; and the same tree applied locally by one
`lpminion apply --local` process, to show the per-minion overhead of going remote.

    .venv/bin/python bench/apply.py                 # all scenarios
    .venv/bin/python bench/apply.py --only one-file --minions 10

Reference (issue 5): Salt 3008 one-file state 0.94 s (N=1), 2.9 s (N=10), 13.7 s (N=50).
Goal: N=50 in under 2 s.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
LPMASTER, LPMINION = str(BIN / "lpmaster"), str(BIN / "lpminion")
sys.path.insert(0, str(Path(__file__).resolve().parent))

ONE_FILE_SLS = ("{{ grains['outdir'] }}/motd:\n  file.managed:\n"
                "    - contents: managed by linkpeek-ops on {{ grains['id'] }}\n"
                "    - makedirs: True\n")


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def lp(cfg: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([LPMASTER, "-c", cfg, *args], capture_output=True, text=True, timeout=timeout)


def timed(argv: list[str]) -> tuple[float, int, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    return time.perf_counter() - t0, proc.returncode, proc.stdout + proc.stderr


def write_trees(base: Path, scenario: str) -> tuple[Path, Path]:
    states, pillar = base / "states", base / "pillar"
    if scenario == "one-file":
        states.mkdir(parents=True)
        pillar.mkdir(parents=True)
        (states / "top.sls").write_text("base:\n  '*':\n    - motd\n")
        (states / "motd.sls").write_text(ONE_FILE_SLS)
    else:
        from converge import make_tree  # bench/converge.py's tree, shared on purpose
        make_tree(base, Path("/nonexistent"))
        # each minion converges under its own prefix: the pillar takes it from a grain
        text = (pillar / "bench.sls").read_text().replace("prefix: /nonexistent",
                                                          "prefix: {{ grains['outdir'] }}")
        (pillar / "bench.sls").write_text(text)
    return states, pillar


class Fleet:
    """A master and N minions in a temp dir; stopped and removed on exit."""

    def __init__(self, base: Path, n: int) -> None:
        self.base, self.n = base, n
        self.procs: list[subprocess.Popen] = []
        pub, req, key = free_ports(3)
        self.req_port, self.key_port = req, key
        subprocess.run([LPMASTER, "init", "--dir", str(base / "master"), "--interface", "127.0.0.1",
                        "--publish-port", str(pub), "--request-port", str(req), "--key-port", str(key),
                        "--states", str(base / "states"), "--pillar", str(base / "pillar")],
                       check=True, capture_output=True)
        self.cfg = str(base / "master" / "master.yaml")
        (base / "out").mkdir()

    def start(self) -> float:
        """Start everything; return seconds until all N minions answered a ping."""
        t0 = time.perf_counter()
        logs = self.base / "logs"
        logs.mkdir()
        self.procs.append(subprocess.Popen([LPMASTER, "-c", self.cfg, "serve"], stdout=subprocess.DEVNULL,
                                           stderr=open(logs / "master.log", "w")))
        finger = lp(self.cfg, "keys", "finger", "--master").stdout.strip()
        ids = [f"m{i:03d}" for i in range(self.n)]
        for mid in ids:
            mdir = self.base / "minions" / mid
            subprocess.run([LPMINION, "init", "--dir", str(mdir), "--id", mid, "--master",
                            f"127.0.0.1:{self.req_port}", "--key-port", str(self.key_port),
                            "--master-finger", finger, "--grain", f"outdir={self.base / 'out' / mid}",
                            "--startup-states", "none"], check=True, capture_output=True)
            with open(mdir / "minion.yaml", "a") as fh:
                fh.write("drift:\n  enabled: false\n")
            self.procs.append(subprocess.Popen([LPMINION, "-c", str(mdir / "minion.yaml"), "start"],
                                               stdout=subprocess.DEVNULL,
                                               stderr=open(logs / f"{mid}.log", "w")))
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            keys = json.loads(lp(self.cfg, "keys", "list", "--json").stdout or "{}")
            if len(keys.get("pending", [])) + len(keys.get("accepted", [])) >= self.n:
                break
            time.sleep(0.2)
        lp(self.cfg, "keys", "accept", "*", "--yes")
        while time.monotonic() < deadline:
            out = lp(self.cfg, "run", "*", "test.ping", "--json", "--timeout", "5")
            if out.returncode == 0 and len(json.loads(out.stdout)) == self.n:
                return time.perf_counter() - t0
            time.sleep(0.3)
        raise SystemExit("minions did not all answer within 300 s")

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def local_apply(base: Path, states: Path, pillar: Path, *extra: str) -> float:
    grains = base / "local-grains.yaml"
    grains.write_text(f"id: local1\noutdir: {base / 'out' / 'local1'}\n")
    argv = [LPMINION, "apply", "--local", "--state-tree", str(states), "--pillar-tree", str(pillar),
            "--id", "local1", "--grains", str(grains), "--cachedir", str(base / "local-cache"), *extra]
    seconds, code, out = timed(argv)
    if code != 0:
        raise SystemExit(f"local apply exited {code}: {out[-2000:]}")
    return seconds


def scenario(name: str, n: int) -> None:
    base = Path(tempfile.mkdtemp(prefix="lp-bench-apply-"))
    fleet = Fleet(base, n)
    try:
        states, pillar = write_trees(base, name)
        local_first = local_apply(base, states, pillar)
        local_noop = local_apply(base, states, pillar)
        up = fleet.start()
        rows = []
        for label, extra in (("first", []), ("no-op", []), ("test", ["--test"])):
            seconds, code, out = timed([LPMASTER, "-c", fleet.cfg, "apply", "*", "--timeout", "300",
                                        *extra])
            if code != 0:
                raise SystemExit(f"apply ({label}) exited {code}: {out[-3000:]}")
            rows.append((label, seconds))
        print(f"\n{name}: N={n} minions (all answering a ping {up:.1f} s after start)")
        print(f"  local apply (1 process): first {local_first:.3f} s, no-op {local_noop:.3f} s")
        print(f"  {'lpmaster apply *':<18}{'seconds':>9}{'per minion':>12}{'over local, per minion':>25}")
        for label, seconds in rows:
            local = local_first if label == "first" else local_noop
            print(f"  {label:<18}{seconds:>9.3f}{seconds / n:>12.3f}{(seconds - local) / n:>25.3f}")
    finally:
        fleet.stop()
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["one-file", "converge"], default=None)
    parser.add_argument("--minions", type=int, action="append", default=None,
                        help="N (repeatable); default 10 and 50 for one-file, 10 for converge")
    args = parser.parse_args()
    plans = []
    if args.only in (None, "one-file"):
        plans += [("one-file", n) for n in (args.minions or [10, 50])]
    if args.only in (None, "converge"):
        plans += [("converge", n) for n in (args.minions or [10])]
    for name, n in plans:
        scenario(name, n)
    print("\nSalt 3008, one-file state: 0.94 s (N=1), 2.9 s (N=10), 13.7 s (N=50); goal N=50 < 2 s")


if __name__ == "__main__":
    main()
