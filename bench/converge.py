"""Benchmark: `lpminion apply --local` as whole processes on a generated tree.

The tree: 200 files rendered from one Jinja template with pillar values, 20 directories,
50 symlinks and 10 `cmd.run` with `creates`, all under a temporary prefix. Times the first
converge, a second (no-op) converge and a test-mode run, each as a whole process (Python
start-up included), and the peak RSS of each process. `--scale 5` makes the tree five times as
large (1,400 states).

With `--salt VENV` (a virtualenv holding Salt 3008.5), Salt's `salt-call --local` runs the same
tree in the same round, interleaved with ours (first, no-op, test of each, alternating), and
the table shows both and the ratio: on a shared machine only a ratio from one run means much.
The regular files both wrote are compared byte for byte.

    .venv/bin/python bench/converge.py [--rounds 3] [--scale 1] [--salt /work/saltvenv]

Goals (issue 16): no-op and test <= 0.15 s, first <= 0.35 s; 1,400 states no-op <= 0.5 s.
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
{% set n = pillar['bench']['scale'] %}
{% for d in range(20 * n) %}
{{ prefix }}/d{{ d }}:
  file.directory:
    - makedirs: True
    - dir_mode: 755
{% endfor %}
{% for f in range(200 * n) %}
{{ prefix }}/d{{ f % (20 * n) }}/file{{ f }}.conf:
  file.managed:
    - source: salt://bench/app.conf.j2
    - template: jinja
    - mode: 644
    - context:
        index: {{ f }}
    - require:
      - file: {{ prefix }}/d{{ f % (20 * n) }}
{% endfor %}
{{ prefix }}/links:
  file.directory: []
{% for s in range(50 * n) %}
{{ prefix }}/links/link{{ s }}:
  file.symlink:
    - target: {{ prefix }}/d{{ s % (20 * n) }}/file{{ s }}.conf
    - require:
      - file: {{ prefix }}/links
{% endfor %}
{% for c in range(10 * n) %}
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


def make_tree(base: Path, prefix: Path, scale: int) -> tuple[Path, Path]:
    states, pillar = base / "states", base / "pillar"
    (states / "bench").mkdir(parents=True)
    (pillar).mkdir(parents=True)
    (states / "top.sls").write_text("base:\n  '*':\n    - bench\n")
    (states / "bench" / "init.sls").write_text(SLS)
    (states / "bench" / "app.conf.j2").write_text(TEMPLATE)
    (pillar / "top.sls").write_text("base:\n  '*':\n    - bench\n")
    (pillar / "bench.sls").write_text(
        f"bench:\n  prefix: {prefix}\n  scale: {scale}\n  port: 8000\n  workers: 4\n"
        "  name: linkpeek\n  upstreams: [10.0.0.1, 10.0.0.2, 10.0.0.3]\n"
    )
    return states, pillar


def timed(argv: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one whole process; exits the benchmark if it failed."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, rusage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if code != 0:
        raise SystemExit(f"{argv[0]} exited {code}: {err[-2000:]}")
    return elapsed, rusage.ru_maxrss / 1024.0


def ours(states: Path, pillar: Path, cache: Path, test: bool) -> list[str]:
    return [
        LPMINION, "apply", "--local", "--state-tree", str(states), "--pillar-tree", str(pillar),
        "--id", "bench1", "--cachedir", str(cache), *(["--test"] if test else []),
    ]  # fmt: skip


def salt_config(base: Path, states: Path, pillar: Path) -> Path:
    """A masterless Salt minion config for the same tree, everything under `base`."""
    conf = base / "salt-etc"
    conf.mkdir()
    (conf / "minion").write_text(
        f"id: bench1\nfile_client: local\nroot_dir: {base / 'salt-root'}\n"
        f"file_roots: {{base: [{states}]}}\npillar_roots: {{base: [{pillar}]}}\n"
        "log_level: quiet\nstate_output: terse\n"
    )
    return conf


def salt(venv: Path, conf: Path, test: bool) -> list[str]:
    return [
        str(venv / "bin" / "salt-call"), "--local", "--retcode-passthrough", "--out=quiet",
        f"--config-dir={conf}", "state.highstate", *(["test=True"] if test else []),
    ]  # fmt: skip


def regular_files(prefix: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(prefix)): p.read_bytes()
        for p in sorted(prefix.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scale", type=int, default=1, help="tree size: 280 states times this")
    parser.add_argument("--salt", type=Path, metavar="VENV", help="also run Salt from this venv")
    args = parser.parse_args()
    kinds = ("first", "noop", "test")
    tools = ("ours", "salt") if args.salt else ("ours",)
    times = {(tool, k): [] for tool in tools for k in kinds}  # type: dict[tuple[str, str], list[float]]
    rss = {(tool, k): [] for tool in tools for k in kinds}  # type: dict[tuple[str, str], list[float]]
    identical = True
    for _ in range(args.rounds):
        base = Path(tempfile.mkdtemp(prefix="lp-bench-"))
        try:
            runs = {}
            for tool in tools:
                tb = base / tool
                tb.mkdir()
                states, pillar = make_tree(tb, tb / "prefix", args.scale)
                if tool == "ours":
                    runs[tool] = lambda test, s=states, p=pillar, c=tb / "cache": ours(
                        s, p, c, test
                    )
                else:
                    conf = salt_config(tb, states, pillar)
                    runs[tool] = lambda test, c=conf: salt(args.salt, c, test)
            for kind in kinds:
                for tool in tools:
                    t, mb = timed(runs[tool](kind == "test"))
                    times[tool, kind].append(t)
                    rss[tool, kind].append(mb)
            mine = regular_files(base / "ours" / "prefix")
            assert len(mine) == 200 * args.scale + 10 * args.scale, len(mine)
            if args.salt:
                identical = identical and mine == regular_files(base / "salt" / "prefix")
        finally:
            shutil.rmtree(base, ignore_errors=True)
    n = 280 * args.scale
    print(f"apply --local: {n} states ({200 * args.scale} files from a template, "
          f"{20 * args.scale} dirs, {50 * args.scale} symlinks, {10 * args.scale} cmd.run); "
          f"{args.rounds} rounds, interleaved")  # fmt: skip
    head = f"{'run':<7}{'tool':<6}{'median s':>10}{'min s':>8}{'max s':>8}{'peak RSS MB':>13}"
    print(head + ("   salt/ours" if args.salt else ""))
    for kind in kinds:
        for tool in tools:
            ts = times[tool, kind]
            line = (f"{kind:<7}{tool:<6}{statistics.median(ts):>10.3f}{min(ts):>8.3f}"
                    f"{max(ts):>8.3f}{max(rss[tool, kind]):>13.1f}")  # fmt: skip
            if tool == "salt":
                ratio = statistics.median(ts) / statistics.median(times["ours", kind])
                line += f"{ratio:>11.1f}x"
            print(line)
    if args.salt:
        print(f"regular files written by both: {'byte-identical' if identical else 'DIFFER'}")
    print("goal (280 states): noop and test <= 0.15 s, first <= 0.35 s; 1,400 states noop <= 0.5 s")


if __name__ == "__main__":
    main()
