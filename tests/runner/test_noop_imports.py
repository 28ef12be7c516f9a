"""Issue 16: a no-op `apply --local` loads only what it uses. Its renders come from the render
cache, its `cmd.run` guards say "done" and nothing changes, so neither the template engine,
YAML, a process launcher, a diff, nor OpenSSL has any work in it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RUN = """
import sys
from minion.cli import main
code = main(sys.argv[1:])
print("MODULES", " ".join(sorted(sys.modules)), file=sys.stderr)
sys.exit(code)
"""
NEVER_IN_A_NOOP = {"jinja2", "yaml", "subprocess", "difflib", "_hashlib", "hashlib", "secrets",
                   "random", "json", "shlex"}


def test_a_noop_apply_imports_no_renderer_launcher_or_openssl(tmp_path: Path) -> None:
    states, out = tmp_path / "states", tmp_path / "out"
    states.mkdir()
    (states / "top.sls").write_text("base:\n  '*':\n    - site\n")
    # no grains in the template: they hold the machine's addresses, which the test bridge of
    # host tests running beside this one changes (a changed input rightly renders again)
    (states / "app.conf.j2").write_text("port {{ pillar.get('port', 80) }} on {{ opts['id'] }}\n")
    (states / "site.sls").write_text(
        f"{out}/app.conf:\n  file.managed:\n    - source: salt://app.conf.j2\n"
        f"    - template: jinja\n    - makedirs: True\n"
        f"made:\n  cmd.run:\n    - name: touch {out}/made\n    - creates: {out}/made\n"
    )
    argv = [sys.executable, "-c", RUN, "apply", "--local", "--state-tree", str(states),
            "--id", "web1", "--cachedir", str(tmp_path / "cache")]
    runs = [subprocess.run(argv, capture_output=True, text=True, timeout=120) for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[-1].stderr
    assert (out / "app.conf").read_text() == "port 80 on web1\n" and (out / "made").exists()

    def modules(run: subprocess.CompletedProcess[str]) -> set[str]:
        line = next(x for x in run.stderr.splitlines() if x.startswith("MODULES "))
        return set(line.split()[1:])

    assert {"jinja2", "subprocess"} <= modules(runs[0])  # the first run renders and runs
    assert "Succeeded: 2\n" in runs[1].stdout and "changed=" not in runs[1].stdout
    assert modules(runs[1]) & NEVER_IN_A_NOOP == set()
