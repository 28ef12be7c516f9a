"""`lpminion show` as users run it: a real process over a real tree."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.compiler.conftest import write_tree

FILES = {
    "top.sls": "base:\n  'web*': [web]\n  'os:Debian': [{match: grain}, motd]\n",
    "web/init.sls": """
        include: [.conf]
        site:
          file.managed:
            - name: /etc/site
            - contents: {{ pillar['greeting'] }}
            - require:
              - file: /etc/web.conf
    """,
    "web/conf.sls": "/etc/web.conf:\n  file.managed:\n    - contents: x\n",
    "motd.sls": "motd:\n  test.nop:\n    - order: first\n",
}


def run(lpminion_bin: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([lpminion_bin, "show", *args], capture_output=True, text=True, timeout=60)


def test_lowstate_plan_is_the_compiled_plan(lpminion_bin: str, tmp_path: Path) -> None:
    write_tree(tmp_path / "states", FILES)
    write_tree(tmp_path / "pillar", {"top.sls": "base:\n  '*': [p]\n", "p.sls": "greeting: hello\n"})
    (tmp_path / "grains.yaml").write_text("os: Debian\n")
    proc = run(lpminion_bin, "lowstate", "--plan", "--state-tree", str(tmp_path / "states"),
               "--pillar-tree", str(tmp_path / "pillar"), "--grains", str(tmp_path / "grains.yaml"),
               "--id", "web1")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [(r["__id__"], r["order"]) for r in rows] == [("motd", 0), ("/etc/web.conf", 1), ("site", 2)]
    site = rows[2]
    assert site["args"] == {"contents": "hello"} and site["name"] == "/etc/site"
    assert site["requisites"] == [{"kind": "require",
                                   "target": "file_|-/etc/web.conf_|-/etc/web.conf_|-managed"}]
    assert site["source"] == "web/init.sls:2"


def test_text_output_and_named_sls(lpminion_bin: str, tmp_path: Path) -> None:
    write_tree(tmp_path, FILES)
    proc = run(lpminion_bin, "lowstate", "--state-tree", str(tmp_path), "--id", "db1", "web.conf")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "1. file.managed  /etc/web.conf"
    proc = run(lpminion_bin, "highstate", "--json", "--state-tree", str(tmp_path), "motd")
    assert json.loads(proc.stdout) == {"motd": {"test": [{"order": "first"}, "nop"],
                                                "__sls__": "motd", "__env__": "base"}}


def test_errors_exit_2_with_file_and_line(lpminion_bin: str, tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.sls": "x:\n  test.nop:\n    - require: [ghost]\n",
                          "b.sls": "ok: test.nop\n{{ undefined_thing }}\n"})
    proc = run(lpminion_bin, "lowstate", "--state-tree", str(tmp_path), "a")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "a.sls:1: test.nop 'x' has `require: ghost`" in proc.stderr
    proc = run(lpminion_bin, "highstate", "--state-tree", str(tmp_path), "b")
    assert proc.returncode == 2
    assert "b.sls:2: Jinja variable 'undefined_thing' is undefined" in proc.stderr
