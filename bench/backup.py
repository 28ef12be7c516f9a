"""Benchmark: a backup through a minion job against plain `restic backup` of the same data.

Makes SIZE MB of mixed files (many small ones, some large ones, random bytes so nothing
compresses away), starts a master and one real `lpminion` on loopback whose pillar declares a
`files` job over that data, and times, in one run:
  - `lpmaster backup run m1 data` (whole process: publish, pillar, restic, report) into a new repository
  - plain `restic backup DATA` into another new repository
  - a second (incremental, nothing changed but 1% of the small files) run of each
  - `lpmaster restore m1 data --to DIR` and plain `restic restore latest --target DIR`
and prints the times and the ratios (goal: the minion job within 10% of plain restic).

    .venv/bin/python bench/backup.py [--size-mb 1024] [--keep DIR]
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
LPMASTER, LPMINION = str(BIN / "lpmaster"), str(BIN / "lpminion")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.cluster import Cluster  # noqa: E402  (after the path: benches run as scripts)

PASSWORD = "bench-password"


def make_data(root: Path, size_mb: int) -> tuple[int, int]:
    """70% of the bytes in a few large files, 30% in small files (4-64 KiB) across directories."""
    rng = random.Random(7)
    total = size_mb * 1024 * 1024
    large = int(total * 0.7)
    n_large = max(1, size_mb // 128)
    files = 0
    for i in range(n_large):
        path = root / "large" / f"blob{i}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            left = large // n_large
            while left > 0:
                chunk = min(left, 4 * 1024 * 1024)
                fh.write(os.urandom(chunk))
                left -= chunk
        files += 1
    small_left = total - large
    while small_left > 0:
        size = min(small_left, rng.randint(4096, 65536))
        path = root / "small" / f"d{files % 200:03d}" / f"f{files}.dat"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(size))
        small_left -= size
        files += 1
    return files, total


def touch_some(root: Path, fraction: float = 0.01) -> int:
    small = sorted((root / "small").rglob("*.dat"))
    changed = small[:: max(1, int(1 / fraction))]
    for path in changed:
        path.write_bytes(os.urandom(path.stat().st_size))
    return len(changed)


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def restic(repo: Path, pwfile: Path, *args: str) -> None:
    env = {**os.environ, "RESTIC_REPOSITORY": str(repo), "RESTIC_PASSWORD_FILE": str(pwfile),
           "RESTIC_CACHE_DIR": str(repo.parent / "plain-cache")}
    subprocess.run(["restic", *args], env=env, check=True, capture_output=True, timeout=7200)


def cli_ok(cluster: Cluster, *args: str) -> None:
    res = cluster.cli(*args, timeout=7200)
    if res.returncode != 0:
        raise SystemExit(f"lpmaster {' '.join(args)} failed:\n{res.stdout}\n{res.stderr}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=1024, help="data size in MB (default 1024)")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (default: a temp dir, removed)")
    args = parser.parse_args()
    root = Path(args.keep or tempfile.mkdtemp(prefix="lp-bench-backup-"))
    root.mkdir(parents=True, exist_ok=True)
    data = root / "data"
    try:
        t0 = time.perf_counter()
        files, total = make_data(data, args.size_mb)
        print(f"data: {files} files, {total / 2**20:.0f} MiB ({time.perf_counter() - t0:.1f}s to make)")
        pwfile = root / "pw"
        pwfile.write_text(PASSWORD)
        pwfile.chmod(0o600)
        cluster = Cluster(root / "cluster", LPMASTER, LPMINION, minion_args=["--startup-states", "none"])
        try:
            cluster.write_pillar({
                "top.sls": "base:\n  'm1':\n    - backup\n",
                "backup.sls": f"backup:\n  repository: {root}/job-repo\n  password: {PASSWORD}\n"
                              f"  jobs:\n    data: {{source: files, paths: ['{data}'], cron: '0 3 * * *'}}\n"})
            cluster.start_master()
            cluster.add_minions("m1")
            job_first = timed(lambda: cli_ok(cluster, "backup", "run", "m1", "data"))
            plain_first = timed(lambda: restic(root / "plain-repo", pwfile, "init") or
                                restic(root / "plain-repo", pwfile, "backup", "--", str(data)))
            changed = touch_some(data)
            job_incr = timed(lambda: cli_ok(cluster, "backup", "run", "m1", "data"))
            plain_incr = timed(lambda: restic(root / "plain-repo", pwfile, "backup", "--", str(data)))
            job_restore = timed(lambda: cli_ok(cluster, "restore", "m1", "data", "--to", str(root / "r-job")))
            plain_restore = timed(lambda: restic(root / "plain-repo", pwfile, "restore", "latest",
                                                 "--target", str(root / "r-plain")))
        finally:
            cluster.close()
        print(f"first backup:       minion job {job_first:7.2f}s   plain restic {plain_first:7.2f}s   "
              f"ratio {job_first / plain_first:.2f}")
        print(f"incremental ({changed} files changed): minion job {job_incr:6.2f}s   plain restic "
              f"{plain_incr:6.2f}s   ratio {job_incr / plain_incr:.2f}")
        print(f"restore:            minion job {job_restore:7.2f}s   plain restic {plain_restore:7.2f}s   "
              f"ratio {job_restore / plain_restore:.2f}")
        print(f"throughput (first): minion job {total / 2**20 / job_first:.0f} MiB/s, "
              f"plain {total / 2**20 / plain_first:.0f} MiB/s")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
