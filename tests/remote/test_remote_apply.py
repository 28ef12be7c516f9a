"""The minion's side of a remote converge, driven through the real file server handlers.

The transport is left out here (tests/remote/test_converge.py runs real processes); the
request callable answers with the master's real FileServer and a fixed pillar reply.
"""
from __future__ import annotations

import json

import pytest

from core.masking import DIFF_HIDDEN
from master.fileserver import FileServer
from minion.remote_apply import RETCODE_NOT_COMPILED, RETCODE_OK, RETCODE_STATE_FAILED, apply_remote

CANARY = "canary-s3cret-4471"


@pytest.fixture
def tree(tmp_path):
    states = tmp_path / "states"
    (states / "web").mkdir(parents=True)
    (states / "top.sls").write_text("base:\n  'web*':\n    - web\n  'db*':\n    - db\n")
    (states / "web" / "init.sls").write_text(
        f"{tmp_path}/out/app.conf:\n  file.managed:\n    - source: salt://web/app.conf.j2\n"
        "    - template: jinja\n    - makedirs: True\n")
    (states / "web" / "app.conf.j2").write_text(
        "user={{ pillar['db']['user'] }}\npassword={{ pillar['db']['password'] }}\n")
    (states / "db.sls").write_text(f"{tmp_path}/out/db.conf:\n  file.managed:\n"
                                   "    - contents: db\n    - makedirs: True\n")
    return tmp_path


def _requester(root, pillar_reply):
    server = FileServer(str(root / "states"))
    sent: list[str] = []

    def request(req):
        sent.append(req["type"])
        if req["type"] == "pillar":
            return pillar_reply
        return getattr(server, req["type"])(req)

    return request, sent


def _pillar(password=CANARY):
    return {"pillar": {"db": {"user": "lp", "password": password}}, "secrets": [password]}


def test_test_mode_then_apply_then_nothing_left_to_do(tree):
    request, _ = _requester(tree, _pillar())
    cache = str(tree / "cache")
    dry = apply_remote(request, "web1", {"id": "web1"}, cache, test=True)
    [state] = dry.ret.values()
    assert state["result"] is None and state["changes"]
    assert not (tree / "out" / "app.conf").exists()

    real = apply_remote(request, "web1", {"id": "web1"}, cache)
    assert (real.success, real.retcode) == (True, RETCODE_OK)
    assert (tree / "out" / "app.conf").read_text() == f"user=lp\npassword={CANARY}\n"
    assert not (tree / "out" / "db.conf").exists()  # top.sls gives web1 only web

    again = apply_remote(request, "web1", {"id": "web1"}, cache)
    assert [s["changes"] for s in again.ret.values()] == [{}]


def test_a_diff_that_would_show_a_secret_is_hidden_and_comments_masked(tree):
    cache = str(tree / "cache")
    request, _ = _requester(tree, _pillar("old-password-1"))
    apply_remote(request, "web1", {"id": "web1"}, cache)
    request, _ = _requester(tree, _pillar())
    out = apply_remote(request, "web1", {"id": "web1"}, cache)
    [state] = out.ret.values()
    assert state["changes"]["diff"] == DIFF_HIDDEN
    assert CANARY not in json.dumps(out.ret)


def test_named_sls_runs_only_those(tree):
    request, _ = _requester(tree, _pillar())
    out = apply_remote(request, "web1", {"id": "web1"}, str(tree / "cache"), sls=["db"])
    assert out.success and (tree / "out" / "db.conf").exists()
    assert not (tree / "out" / "app.conf").exists()


def test_a_pillar_error_aborts_before_any_state(tree):
    request, sent = _requester(tree, {"error": "pillar/db.sls: ENC token does not decrypt"})
    out = apply_remote(request, "web1", {"id": "web1"}, str(tree / "cache"))
    assert (out.success, out.retcode) == (False, RETCODE_NOT_COMPILED)
    assert "Pillar failed to render" in out.ret[0] and "pillar/db.sls" in out.ret[0]
    assert sent == ["pillar"]  # not even the tree was fetched
    assert not (tree / "out").exists()


def test_a_render_error_aborts_before_any_state_and_is_masked(tree):
    (tree / "states" / "db.sls").write_text("{{ pillar['db']['password'] }}: [unclosed\n")
    request, _ = _requester(tree, _pillar())
    out = apply_remote(request, "web1", {"id": "web1"}, str(tree / "cache"), sls=["web", "db"])
    assert out.retcode == RETCODE_NOT_COMPILED and isinstance(out.ret, list)
    assert "db.sls" in " ".join(out.ret)
    assert CANARY not in json.dumps(out.ret)
    assert not (tree / "out").exists()


def test_a_failing_state_gives_retcode_2(tree):
    (tree / "states" / "db.sls").write_text("broken:\n  test.fail_without_changes: []\n")
    request, _ = _requester(tree, _pillar())
    out = apply_remote(request, "db1", {"id": "db1"}, str(tree / "cache"))
    assert (out.success, out.retcode) == (False, RETCODE_STATE_FAILED)
