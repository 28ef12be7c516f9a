"""Benchmark: `lpminion apply --local` as whole processes on a generated tree.

The tree: 200 files rendered from one Jinja template with pillar values, 20 directories,
50 symlinks and 10 `cmd.run` with `creates`, all under a temporary prefix. Times the first
converge, a second (no-op) converge and a test-mode run, each as a whole process (Python
start-up included), and the peak RSS of each process.

    .venv/bin/python bench/converge.py [--rounds 3]

Reference (issue 3): Salt 3008 `salt-call --local` 4.1 s / 3.6 s / 3.9 s at 108 MB.
Goal: first < 0.8 s, no-op and test < 0.4 s.
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

LPMINION = str(Path(sys.executable).parent / "lpminion")

SLS = """\
{% set prefix = pillar['bench']['prefix'] %}
{% for d in range(20) %}
{{ prefix }}/d{{ d }}:
  file.directory:
    - makedirs: True
    - dir_mode: 755
{% endfor %}
{% for f in range(200) %}
{{ prefix }}/d{{ f % 20 }}/file{{ f }}.conf:
  file.managed:
    - source: salt://bench/app.conf.j2
    - template: jinja
    - mode: 644
    - context:
        index: {{ f }}
    - require:
      - file: {{ prefix }}/d{{ f % 20 }}
{% endfor %}
{{ prefix }}/links:
  file.directory: []
{% for s in range(50) %}
{{ prefix }}/links/link{{ s }}:
  file.symlink:
    - target: {{ prefix }}/d{{ s % 20 }}/file{{ s }}.conf
    - require:
      - file: {{ prefix }}/links
{% endfor %}
{% for c in range(10) %}
bench-cmd-{{ c }}:
  cmd.run:
    - name: touch {{ prefix }}/links/done{{ c }}
    - creates: {{ prefix }}/links/done{{ c }}
    - require:
      - file: {{ prefix }}/links
{% endfor %}
"""

TEMPLATE = """\
# managed by linkpeek-ops, file {{ index }} on {{ grains['id'] }}
[server]
listen = {{ pillar['bench']['port'] + index }}
workers = {{ pillar['bench']['workers'] }}
name = {{ pillar['bench']['name'] | upper }}
{% for host in pillar['bench']['upstreams'] %}
upstream = {{ host }}
{% endfor %}
"""


def make_tree(base: Path, prefix: Path) -> tuple[Path, Path]:
    states, pillar = base / "states", base / "pillar"
    (states / "bench").mkdir(parents=True)
    (pillar).mkdir(parents=True)
    (states / "top.sls").write_text("base:\n  '*':\n    - bench\n")
    (states / "bench" / "init.sls").write_text(SLS)
    (states / "bench" / "app.conf.j2").write_text(TEMPLATE)
    (pillar / "top.sls").write_text("base:\n  '*':\n    - bench\n")
    (pillar / "bench.sls").write_text(
        f"bench:\n  prefix: {prefix}\n  port: 8000\n  workers: 4\n  name: linkpeek\n"
        "  upstreams: [10.0.0.1, 10.0.0.2, 10.0.0.3]\n"
    )
    return states, pillar


def run_once(states: Path, pillar: Path, cache: Path, *extra: str) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, exit code) of one whole `lpminion apply --local` process."""
    argv = [
        LPMINION,
        "apply",
        "--local",
        "--state-tree",
        str(states),
        "--pillar-tree",
        str(pillar),
        "--id",
        "bench1",
        "--cachedir",
        str(cache),
        *extra,
    ]
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, rusage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"lpminion exited {proc.returncode}: {err}")
    return elapsed, rusage.ru_maxrss / 1024.0, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"first": [], "noop": [], "test": []}
    rss: dict[str, list[float]] = {"first": [], "noop": [], "test": []}
    for _ in range(args.rounds):
        base = Path(tempfile.mkdtemp(prefix="lp-bench-"))
        try:
            prefix = base / "prefix"
            states, pillar = make_tree(base, prefix)
            cache = base / "cache"
            for kind, extra in (("first", ()), ("noop", ()), ("test", ("--test",))):
                t, mb, _ = run_once(states, pillar, cache, *extra)
                times[kind].append(t)
                rss[kind].append(mb)
            assert len(list((prefix / "links").iterdir())) == 60  # 50 links + 10 cmd.run marks
            assert len(list(prefix.glob("d*/file*.conf"))) == 200
        finally:
            shutil.rmtree(base, ignore_errors=True)
    print(
        f"apply --local: 200 files, 20 dirs, 50 symlinks, 10 cmd.run; {args.rounds} rounds"
    )
    print(f"{'run':<8}{'median s':>10}{'min s':>8}{'max s':>8}{'peak RSS MB':>13}")
    for kind in times:
        ts = times[kind]
        print(
            f"{kind:<8}{statistics.median(ts):>10.3f}{min(ts):>8.3f}{max(ts):>8.3f}{max(rss[kind]):>13.1f}"
        )
    print("goal: first < 0.8 s, noop and test < 0.4 s (Salt 3008: 4.1 / 3.6 / 3.9 s, 108 MB)")


if __name__ == "__main__":
    main()
