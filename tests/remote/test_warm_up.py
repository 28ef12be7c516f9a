"""The minion's warm-up (minion/remote_apply.warm_up, run by the daemon right after it
connects) loads everything a remote apply needs: the first `lpmaster apply` after a fleet
starts then costs what later ones cost instead of every minion importing at once.

Checked in a fresh interpreter: after warm_up(), a highstate through the real file server
(the transport left out, as in test_remote_apply.py) imports no module it had not loaded.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import json, sys
    from master.fileserver import FileServer
    from minion.remote_apply import apply_remote, warm_up

    states, cache, out = sys.argv[1:4]
    server = FileServer(states)

    def request(req):
        if req["type"] == "pillar":
            return {"type": "pillar", "pillar": {"motd": "hello"}, "secrets": []}
        if req["type"] in ("file", "file_stat", "file_list", "file_batch"):
            return getattr(server, req["type"])(req)
        return {"type": "ack"}

    if sys.argv[4] == "warm":
        warm_up()
    before = set(sys.modules)
    outcome = apply_remote(request, "web1", {"id": "web1", "os": "Debian"}, cache)
    print(json.dumps({"success": outcome.success, "ret": outcome.ret,
                      "new": sorted(set(sys.modules) - before)}))
""")


def _apply(tmp_path: Path, mode: str) -> dict:
    states = tmp_path / "states"
    states.mkdir(exist_ok=True)
    (states / "top.sls").write_text("base:\n  'web*':\n    - motd\n")
    (states / "motd.sls").write_text(
        "{% set who = grains['id'] %}\n"
        f"{tmp_path}/out/{{{{ who }}}}/motd:\n  file.managed:\n"
        "    - contents: {{ pillar['motd'] }} from {{ who }}\n    - makedirs: True\n")
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(states), str(tmp_path / f"cache-{mode}"),
                           str(tmp_path / "out"), mode], capture_output=True, text=True, cwd=REPO,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_after_warm_up_the_first_apply_imports_nothing(tmp_path):
    cold = _apply(tmp_path, "cold")
    assert cold["success"], cold["ret"]
    assert "jinja2" in cold["new"]  # the check can see imports at all
    (tmp_path / "out" / "web1" / "motd").unlink()

    warm = _apply(tmp_path, "warm")
    assert warm["success"], warm["ret"]
    assert (tmp_path / "out" / "web1" / "motd").read_text() == "hello from web1\n"
    assert warm["new"] == [], " ".join(warm["new"])
