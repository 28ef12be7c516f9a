"""The on-disk cache of compiled Jinja code (opts['cachedir']): private, reused, never trusted
when others could write to it."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from core.render import render_template, sls_context

SCRIPT = """
import sys
from core.render import render_template, sls_context
ctx = sls_context("web1", {"os": "Debian"}, {"port": 8080}, {"cachedir": sys.argv[1]}, "web")
print(render_template("listen {{ pillar.port }} on {{ grains.os }}\\n", "web/site.conf", ctx), end="")
"""


def render_in_new_process(cachedir: Path) -> str:
    repo = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(cachedir)], capture_output=True,
                          text=True, cwd=repo, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_compiled_code_is_kept_private_and_reused(tmp_path: Path) -> None:
    cachedir = tmp_path / "cache"
    cachedir.mkdir()
    assert render_in_new_process(cachedir) == "listen 8080 on Debian\n"
    code_dir = cachedir / "jinja-code"
    assert stat.S_IMODE(code_dir.stat().st_mode) == 0o700
    files = list(code_dir.iterdir())
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    mtime = files[0].stat().st_mtime_ns
    assert render_in_new_process(cachedir) == "listen 8080 on Debian\n"
    assert [f.stat().st_mtime_ns for f in code_dir.iterdir()] == [mtime]


def test_a_cache_others_can_write_is_ignored(tmp_path: Path) -> None:
    cachedir = tmp_path / "cache"
    (cachedir / "jinja-code").mkdir(parents=True)
    os.chmod(cachedir / "jinja-code", 0o777)
    ctx = sls_context("web1", {}, {}, {"cachedir": str(cachedir)}, "")
    assert render_template("{{ 6 * 7 }}", "t", ctx) == "42"
    assert list((cachedir / "jinja-code").iterdir()) == []


def test_a_corrupt_cache_entry_is_recompiled(tmp_path: Path) -> None:
    cachedir = tmp_path / "cache"
    cachedir.mkdir()
    render_in_new_process(cachedir)
    entry = next((cachedir / "jinja-code").iterdir())
    entry.write_bytes(b"garbage")
    assert render_in_new_process(cachedir) == "listen 8080 on Debian\n"


def test_the_code_cache_keeps_only_the_newest_entries(tmp_path: Path, monkeypatch) -> None:
    import core.render

    monkeypatch.setattr(core.render, "CODE_CACHE_KEEP", 3)
    cachedir = tmp_path / "cache"
    cachedir.mkdir()
    ctx = sls_context("web1", {}, {}, {"cachedir": str(cachedir)}, "")
    made: dict[str, int] = {}
    for n in range(6):
        assert render_template(f"{{{{ {n} * 2 }}}} #{n}", f"t{n}", ctx) == f"{n * 2} #{n}"
        for entry in (cachedir / "jinja-code").iterdir():
            if entry.name not in made:  # older entries get older mtimes, in order
                made[entry.name] = n
                os.utime(entry, ns=((n + 1) * 10**9, (n + 1) * 10**9))
    left = sorted(made[e.name] for e in (cachedir / "jinja-code").iterdir())
    assert left == [3, 4, 5]
