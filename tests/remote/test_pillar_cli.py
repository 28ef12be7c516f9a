"""`lpmaster pillar show` and the secret workflow, as an operator runs them (real processes)."""
from __future__ import annotations

import json
import subprocess

import pytest

CANARY = "canary-pillar-5512"


def _run(lpmaster_bin, *args, stdin=None):
    return subprocess.run([lpmaster_bin, *args], input=stdin, capture_output=True, text=True,
                          timeout=60)


@pytest.fixture(scope="module")
def master(tmp_path_factory, lpmaster_bin):
    root = tmp_path_factory.mktemp("m")
    assert _run(lpmaster_bin, "init", "--dir", str(root)).returncode == 0
    cfg = str(root / "master.yaml")
    assert _run(lpmaster_bin, "-c", cfg, "secret", "keygen").returncode == 0
    token = _run(lpmaster_bin, "-c", cfg, "secret", "encrypt", "--key", "linkpeek:db:password",
                 stdin=CANARY).stdout.strip()
    pillar = root / "pillar"
    pillar.mkdir(exist_ok=True)
    (pillar / "top.sls").write_text("base:\n  'db*':\n    - db\n  '*':\n    - common\n")
    (pillar / "db.sls").write_text(f"linkpeek:\n  db:\n    password: {token}\n    user: lp\n")
    (pillar / "common.sls").write_text("linkpeek:\n  site: example.org\n")
    return root, cfg


def test_pillar_show_masks_secrets_in_text_and_json(lpmaster_bin, master):
    _, cfg = master
    text = _run(lpmaster_bin, "-c", cfg, "pillar", "show", "db1")
    assert text.returncode == 0, text.stderr
    assert CANARY not in text.stdout + text.stderr
    assert "password: '***'" in text.stdout and "user: lp" in text.stdout
    data = _run(lpmaster_bin, "-c", cfg, "pillar", "show", "db1", "--json")
    assert json.loads(data.stdout) == {"linkpeek": {"db": {"password": "***", "user": "lp"},
                                                    "site": "example.org"}}


def test_another_minion_does_not_get_the_db_pillar(lpmaster_bin, master):
    _, cfg = master
    data = _run(lpmaster_bin, "-c", cfg, "pillar", "show", "web1", "--json")
    assert json.loads(data.stdout) == {"linkpeek": {"site": "example.org"}}


def test_a_tampered_token_is_a_one_line_error_naming_the_file(lpmaster_bin, master, tmp_path):
    root, cfg = master
    db = root / "pillar" / "db.sls"
    original = db.read_text()
    i = original.index("ENC[") + 40
    db.write_text(original[:i] + ("x" if original[i] != "x" else "y") + original[i + 1:])
    try:
        proc = _run(lpmaster_bin, "-c", cfg, "pillar", "show", "db1")
    finally:
        db.write_text(original)
    assert proc.returncode == 1
    assert "db.sls" in proc.stderr and "linkpeek:db:password" in proc.stderr
    assert "Traceback" not in proc.stderr
