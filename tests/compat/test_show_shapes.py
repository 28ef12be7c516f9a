"""Item 7 of issue 13: `lpminion show lowstate|highstate --json` in Salt's shapes.

SALT_LOWSTATE and SALT_HIGHSTATE are what Salt 3008.5's `state.show_lowstate` and
`state.show_highstate` printed (`--out json`) for this tree with `top.sls` giving `shape`
(the high data before extend, with its `__extend__` list). `--plan` keeps this project's
richer plan.
"""
from __future__ import annotations

import json
import subprocess

TREE = {"top.sls": "base:\n  '*':\n    - shape\n", "shape.sls": 'include:\n  - shape2\nweb:\n  pkg.installed:\n    - pkgs: [nginx]\n  service.running:\n    - name: nginx\n    - enable: True\n    - watch:\n      - pkg: web\n      - file: conf\nconf:\n  file.managed:\n    - name: /tmp/salt/out/conf\n    - contents: x\n    - require_in:\n      - service: web\n    - order: 5\nusers:\n  test.nop:\n    - names:\n      - alice\n      - bob:\n        - comment: hi\n', "shape2.sls": "base-pkg:\n  pkg.latest:\n    - name: curl\nextend:\n  conf:\n    file.managed:\n      - mode: '0644'\n"}
SALT_LOWSTATE = json.loads('[{"state": "file", "name": "/tmp/salt/out/conf", "__sls__": "shape", "__env__": "base", "__id__": "conf", "contents": "x", "require_in": [{"service": "web"}], "order": 5, "mode": "0644", "fun": "managed"}, {"state": "pkg", "name": "curl", "__sls__": "shape2", "__env__": "base", "__sls_included_from__": ["shape"], "__id__": "base-pkg", "order": 10000, "fun": "latest"}, {"state": "pkg", "name": "web", "__sls__": "shape", "__env__": "base", "__id__": "web", "pkgs": ["nginx"], "order": 10001, "fun": "installed"}, {"state": "service", "name": "nginx", "__sls__": "shape", "__env__": "base", "__id__": "web", "enable": true, "watch": [{"pkg": "web"}, {"file": "conf"}], "order": 10002, "require": [{"file": "conf"}], "fun": "running"}, {"state": "test", "name": "alice", "__sls__": "shape", "__env__": "base", "__id__": "users", "order": 10003.0001, "fun": "nop"}, {"state": "test", "name": "bob", "__sls__": "shape", "__env__": "base", "__id__": "users", "order": 10003.0002, "comment": "hi", "fun": "nop"}]')
SALT_HIGHSTATE = json.loads('{"__extend__": [{"conf": {"__sls__": "shape2", "__env__": "base", "file": [{"mode": "0644"}, "managed"]}}], "web": {"pkg": [{"pkgs": ["nginx"]}, "installed", {"order": 10001}], "service": [{"name": "nginx"}, {"enable": true}, {"watch": [{"pkg": "web"}, {"file": "conf"}]}, "running", {"order": 10002}], "__sls__": "shape", "__env__": "base"}, "conf": {"file": [{"name": "/tmp/salt/out/conf"}, {"contents": "x"}, {"require_in": [{"service": "web"}]}, {"order": 5}, "managed"], "__sls__": "shape", "__env__": "base"}, "users": {"test": [{"names": ["alice", {"bob": [{"comment": "hi"}]}]}, "nop", {"order": 10003}], "__sls__": "shape", "__env__": "base"}, "base-pkg": {"pkg": [{"name": "curl"}, "latest", {"order": 10000}], "__sls__": "shape2", "__env__": "base", "__sls_included_from__": ["shape"]}}')
TRANSITIVE = {'tr/init.sls': 'include:\n  - tr.b\na1:\n  test.nop: []\n', 'tr/b.sls': 'include:\n  - tr.c\nb1:\n  test.nop: []\n', 'tr/c.sls': 'c1:\n  test.nop: []\n', 'trq.sls': 'include:\n  - tr\nx:\n  test.nop:\n    - order: 1\n    - require:\n      - sls: tr\n'}


def _show(lpminion_bin, tree, *args):
    proc = subprocess.run([lpminion_bin, "show", *args, "--state-tree", str(tree.states), "--id", "m1"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_show_lowstate_json_is_salts_show_lowstate(tree, lpminion_bin):
    tree.write(TREE)
    assert _show(lpminion_bin, tree, "lowstate", "--json") == SALT_LOWSTATE


def test_show_highstate_json_is_salts_show_highstate(tree, lpminion_bin):
    tree.write(TREE)
    assert _show(lpminion_bin, tree, "highstate", "--json") == SALT_HIGHSTATE


def test_plan_flag_keeps_the_richer_plan(tree, lpminion_bin):
    tree.write(TREE)
    rows = _show(lpminion_bin, tree, "lowstate", "--plan")
    service = next(r for r in rows if r["state"] == "service")
    assert service["source"] == "shape.sls:3" and {"kind": "require",
        "target": "file_|-conf_|-/tmp/salt/out/conf_|-managed"} in service["requisites"]


def test_an_sls_requisite_covers_what_that_sls_includes(tree):
    """Salt 3008.5 ran c1, b1, a1, x: `require: - sls: tr` waits for tr.b and tr.c too."""
    plan = tree.compile(TRANSITIVE, ["trq"])
    assert [c.name for c in plan.chunks] == ["c1", "b1", "a1", "x"]
    assert plan.chunks[0].included_from == ("tr.b", "tr", "trq")
