"""Benchmark: time to recover a LinkPeek host (web and database together) onto a bare test
host whose minion was just accepted, by phase, with 200 MB of database rows and 200 MB of files
in its backups (off-site, restic over SFTP), packages from the local caches.

    sudo .venv/bin/python bench/drill.py [--db-mb 200] [--files-mb 200]

Prints the setup (dev1's first converge, data loading, backups) and then the drill's phases
(converge, restore, verify) and total, against the goal of 2 minutes and the 1.5 hours by hand.
Nothing is asserted; everything it made is removed.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from master.drills.view import BY_HAND_S, format_seconds  # noqa: E402
from tests.drills.story import Story  # noqa: E402

GOAL_S = 120.0
UPLOADS = "/srv/linkpeek/uploads"


def load_data(story: Story, db_mb: int, files_mb: int) -> None:
    host = story.lab.hosts["dev1"]  # type: ignore[union-attr]
    rows = db_mb * 1024 * 1024 // 1000
    sql = ("CREATE TABLE IF NOT EXISTS bench_blob (id bigserial PRIMARY KEY, body text);"
           f"INSERT INTO bench_blob (body) SELECT string_agg(md5(random()::text), '') "
           f"FROM generate_series(1, {rows}) g, generate_series(1, 31) k GROUP BY g;")
    host.run(["runuser", "-u", "postgres", "--", "psql", "-q", "-d", "linkpeek", "-c", sql], check=True, timeout=1800)
    host.run(["mkdir", "-p", UPLOADS], check=True)
    for n in range(files_mb // 4):
        host.run(["dd", "if=/dev/urandom", f"of={UPLOADS}/upload-{n:04d}.bin", "bs=1M", "count=4", "status=none"],
                 check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db-mb", type=int, default=200)
    parser.add_argument("--files-mb", type=int, default=200)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="lp-bench-drill-"))
    story = Story(root, say=lambda text: print(f"-- {text}", flush=True), show=lambda text: None)
    figures: dict[str, float] = {}
    try:
        story.provision()
        figures["setup: dev1 first converge"] = story.timings["dev1 first converge"]
        assert story.lab is not None
        text = (story.lab.pillar_dir / "backup" / "dev.sls").read_text()
        (story.lab.pillar_dir / "backup" / "dev.sls").write_text(
            text + f"    uploads: {{source: files, paths: [{UPLOADS}], cron: '0 4 * * *'}}\n")
        t0 = time.monotonic()
        load_data(story, args.db_mb, args.files_mb)
        figures["setup: loading the data"] = time.monotonic() - t0
        for job in ("db-nightly", "uploads"):
            t0 = time.monotonic()
            proc = story.cli("run", "dev1", "backup.run", job, "--timeout", "1800", "--json", timeout=1900)
            ret = json.loads(proc.stdout)["dev1"]
            if not ret.get("success"):
                raise SystemExit(f"backup {job} failed: {ret}")
            figures[f"setup: backup {job} ({ret.get('total_bytes', 0) / 1e6:.0f} MB)"] = time.monotonic() - t0
        result = story.drill()
    finally:
        story.close()
        if os.environ.get("LP_KEEP_TMP") != "1":
            shutil.rmtree(root, ignore_errors=True)
    for label, seconds in figures.items():
        print(f"{label:<44} {seconds:8.1f} s")
    print(f"drill onto a bare host ({'passed' if result['passed'] else 'FAILED: ' + str(result['reason'])[:200]}):")
    for phase in result["phases"]:
        print(f"  {phase['name']:<10} {phase['duration']:8.1f} s   {phase.get('detail', '')[:100]}")
    total = result["total"]
    print(f"  {'total':<10} {total:8.1f} s   goal {GOAL_S:.0f} s ({total / GOAL_S:.2f}x of it); "
          f"by hand {format_seconds(BY_HAND_S)} ({BY_HAND_S / total:.0f}x faster)")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
