"""Benchmark: the .deb's build time, size and start-up, against Debian's python3-* packages.

sudo .venv/bin/python bench/package.py [--runs N] [--debian-debs DIR]

Builds dist/ with packaging/build-deb (xz, as released), installs it on a test host and prints
the build time, the .deb's size, its Installed-Size and the size on disk after postinst's
byte-compiling, then the median start-up of `lpminion --help`, a tiny `lpminion apply --local
--test`, and the import of each dependency. With --debian-debs DIR (the .debs of the other
choice, fetched once with
  apt-get install --download-only -o Dir::Cache::archives=DIR/ python3-zmq python3-msgpack \\
      python3-yaml python3-jinja2 python3-cryptography python3-croniter python3-packaging
) the same code also runs on Debian's python3 with those packages, side by side.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.hostlib import Host  # noqa: E402

SITE = "/usr/lib/linkpeek-ops/lib/python3.11/site-packages"
FROM_SOURCE = "import sys; sys.path.insert(0, '/opt/lpsrc'); from minion.cli import main; sys.exit(main())"
IMPORTS = ["zmq", "msgpack", "yaml", "jinja2", "croniter", "packaging.version",
           "cryptography.hazmat.primitives.ciphers.aead"]


def median_ms(host: Host, argv: list[str], runs: int) -> float:
    host.run(argv, check=True)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        host.run(argv)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--debian-debs", metavar="DIR", default=None)
    args = ap.parse_args()

    t0 = time.perf_counter()
    out = subprocess.run([str(REPO / "packaging" / "build-deb")], capture_output=True, text=True,
                         check=True).stdout.strip().splitlines()[-1]
    build = time.perf_counter() - t0
    deb = Path(out)
    size = subprocess.run(["dpkg-deb", "-f", str(deb), "Installed-Size"], capture_output=True,
                          text=True, check=True).stdout.strip()
    print(f"build (cached dependencies): {build:.1f} s; {deb.name}: {deb.stat().st_size / 1e6:.1f} MB; "
          f"Installed-Size {int(size) / 1000:.1f} MB")

    with Host.start("benchpkg", network_on=False) as host:
        shutil.copyfile(deb, host.path(f"/tmp/{deb.name}"))
        t0 = time.perf_counter()
        host.run(["apt-get", "install", "-y", "-q", f"/tmp/{deb.name}"], check=True)
        print(f"apt-get install: {time.perf_counter() - t0:.1f} s")
        disk = host.run(["du", "-sk", "/usr/lib/linkpeek-ops"], check=True).stdout.split()[0]
        print(f"on disk after byte-compiling: {int(disk) / 1000:.1f} MB")
        host.run(["sh", "-ec", f"mkdir -p /opt/lpsrc /srv/t; cp -a {SITE}/core {SITE}/master "
                  f"{SITE}/minion /opt/lpsrc/; printf 'hello:\\n  test.succeed_without_changes: []\\n' > /srv/t/x.sls"],
                 check=True)
        pythons = {"bundled": "/usr/lib/linkpeek-ops/bin/python3"}
        if args.debian_debs:
            debs = glob.glob(os.path.join(args.debian_debs, "*.deb"))
            for path in debs:
                shutil.copyfile(path, host.path(f"/tmp/{Path(path).name}"))
            host.run(["apt-get", "install", "-y", "-q", "--no-install-recommends",
                      *[f"/tmp/{Path(p).name}" for p in debs]], check=True)
            pythons["debian"] = "/usr/bin/python3"
        apply = ["apply", "--local", "--state-tree", "/srv/t", "--test", "x"]
        rows: list[tuple[str, dict[str, float]]] = []
        rows.append(("lpminion --help", {k: median_ms(host, [py, "-I", "-c", FROM_SOURCE, "--help"], args.runs)
                                         for k, py in pythons.items()}))
        rows.append(("lpminion apply --local --test", {
            k: median_ms(host, [py, "-I", "-c", FROM_SOURCE, *apply], args.runs) for k, py in pythons.items()}))
        for mod in ["(nothing)", *IMPORTS]:
            code = "pass" if mod == "(nothing)" else f"import {mod}"
            rows.append((f"import {mod}", {k: median_ms(host, [py, "-I", "-c", code], args.runs)
                                           for k, py in pythons.items()}))
        print(f"{'median start-up, ms':45s}" + "".join(f"{k:>10s}" for k in pythons))
        for label, values in rows:
            print(f"{label:45s}" + "".join(f"{values[k]:10.0f}" for k in pythons))


if __name__ == "__main__":
    main()
