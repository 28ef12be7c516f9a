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
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
LPMASTER, LPMINION = str(BIN / "lpmaster"), str(BIN / "lpminion")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.cluster import Cluster  # noqa: E402  (after the path: benches run as scripts)

ONE_FILE_SLS = ("{{ grains['outdir'] }}/motd:\n  file.managed:\n"
                "    - contents: managed by linkpeek-ops on {{ grains['id'] }}\n"
                "    - makedirs: True\n")


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


def start_fleet(cluster: Cluster, n: int) -> float:
    """Start the master and N minions; return seconds until all of them answered a ping."""
    t0 = time.perf_counter()
    cluster.start_master()
    ids = [f"m{i:03d}" for i in range(n)]
    for mid in ids:
        cluster.init_minion(mid, "--grain", f"outdir={cluster.root / 'out' / mid}")
        cluster.start_minion(mid)
    cluster.wait_pending(*ids, timeout=300)
    cluster.accept_keys("*")
    cluster.wait_answering(*ids, timeout=300, ping_timeout=5)
    return time.perf_counter() - t0


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
    fleet = Cluster(base, LPMASTER, LPMINION, log_level=None,
                    master_args=["--states", str(base / "states"), "--pillar", str(base / "pillar")],
                    minion_args=["--startup-states", "none"], minion_config="drift:\n  enabled: false\n")
    (base / "out").mkdir()
    try:
        states, pillar = write_trees(base, name)
        local_first = local_apply(base, states, pillar)
        local_noop = local_apply(base, states, pillar)
        up = start_fleet(fleet, n)
        rows = []
        for label, extra in (("first", []), ("no-op", []), ("test", ["--test"])):
            seconds, code, out = timed([LPMASTER, "-c", fleet.master_cfg, "apply", "*", "--timeout", "300",
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
        fleet.close()
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
