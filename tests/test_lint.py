"""Static checks that catch real bugs: undefined names, unused imports, syntax errors."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_no_undefined_names_or_unused_imports():
    ruff = Path(sys.executable).parent / "ruff"
    res = subprocess.run([str(ruff), "check", "--no-cache", "--select", "F,E9", "--output-format",
                          "concise", "core", "master", "minion", "bench", "scripts", "tests"],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
