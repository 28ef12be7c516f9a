"""Benchmark: a bare test host to a LinkPeek server answering HTTPS 200 on /healthz (the dev
blueprint, through a real master and minion, converge on boot), by phase, then the no-op
converge of the whole blueprint.

sudo .venv/bin/python bench/blueprint.py [--runs N] [--json]

Phases add up the states' own durations from the converge's return: packages (every
pkg.installed), app (virtualenv, pip, code, config, programs), database (PostgreSQL, role,
database), nginx (certificate, sites, config test, service), base and hardening (the rest).
"wall" is from starting the bare host (its minion's init, start and key acceptance included)
to the first HTTPS 200, as a user provisioning a VPS sees it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.blueprint.lab import Lab, failed_states, https_get, prepare_caches, wait  # noqa: E402
from tests.hostlib import ensure_bridge  # noqa: E402

PHASES = ("packages", "app", "database", "nginx", "base+hardening")


def phase_of(key: str, ret: dict) -> str:
    if key.startswith("pkg_|-"):
        return "packages"
    sls = ret.get("__sls__", "")
    if sls.startswith("linkpeek.app"):
        return "app"
    if sls.startswith("linkpeek.db"):
        return "database"
    if sls.startswith("linkpeek.nginx"):
        return "nginx"
    return "base+hardening"


def one_run(n: int) -> dict:
    lab = Lab(Path(tempfile.mkdtemp(prefix="lp-bench-blueprint-")))
    try:
        t0 = time.perf_counter()
        host = lab.add_host(f"dev{n + 1}", roles=["web", "db"])
        boot = lab.wait_boot_converge(host.name)
        wait(lambda: https_get(host, "/healthz").stdout.endswith("\n200"), "HTTPS 200", timeout=120)
        wall = time.perf_counter() - t0
        if not boot["success"]:
            raise SystemExit(f"the converge failed: {failed_states(boot['ret'])}")
        phases = dict.fromkeys(PHASES, 0.0)
        for key, ret in boot["ret"].items():
            phases[phase_of(key, ret)] += ret.get("duration", 0.0) / 1000
        t1 = time.perf_counter()
        code, data = lab.apply(host.name)
        noop_wall = time.perf_counter() - t1
        noop_states = sum(r.get("duration", 0.0) for r in data[host.name].values()) / 1000
        changed = [k for k, r in data[host.name].items() if r.get("changes")]
        slowest = sorted(((r.get("duration", 0.0) / 1000, k.split("_|-")[0] + " " + k.split("_|-")[1])
                          for k, r in data[host.name].items()), reverse=True)[:5]
        return {"wall": wall, "states": len(boot["ret"]), "phases": phases, "noop_wall": noop_wall,
                "noop_states": noop_states, "noop_changed": changed, "noop_exit": code,
                "noop_slowest": slowest}
    finally:
        lab.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1, help="fresh hosts to converge (default 1)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    ensure_bridge()
    prepare_caches()
    runs = [one_run(n) for n in range(args.runs)]
    if args.json:
        print(json.dumps(runs, indent=2))
        return
    med = lambda values: statistics.median(values)
    print(f"bare host -> HTTPS 200 (wall)   {med([r['wall'] for r in runs]):7.1f} s   "
          f"({runs[0]['states']} states, n={len(runs)})")
    for phase in PHASES:
        print(f"  {phase:28s} {med([r['phases'][phase] for r in runs]):7.1f} s")
    print(f"no-op converge (wall)           {med([r['noop_wall'] for r in runs]):7.1f} s   "
          f"states {med([r['noop_states'] for r in runs]):.1f} s, changed {runs[0]['noop_changed'] or 'nothing'}")
    print("  slowest no-op states: " + ", ".join(f"{name} {sec:.1f} s" for sec, name in runs[0]["noop_slowest"]))
    print(f"no-op / first converge          {med([r['noop_wall'] / r['wall'] for r in runs]):7.2f}")


if __name__ == "__main__":
    main()
