"""The master's pillar service: per-minion pillar, secrets decrypted, errors naming the file."""
from __future__ import annotations

import pytest

from core.errors import RenderError, SecretError
from core.secrets import encrypt, load_public_key, write_keypair
from master.pillar import PillarService


@pytest.fixture
def master_root(tmp_path):
    secret_path, public_path = write_keypair(str(tmp_path / "pki" / "secrets"))
    public = load_public_key(public_path)
    pillar = tmp_path / "pillar"
    pillar.mkdir()
    (pillar / "top.sls").write_text("base:\n  'web*':\n    - web\n  'db*':\n    - db\n  '*':\n    - common\n")
    (pillar / "common.sls").write_text("site: linkpeek\nrole_of_{{ grains['id'] }}: x\n")
    (pillar / "web.sls").write_text(
        f"app:\n  api_key: {encrypt(public, 'app:api_key', b'web-canary-123')}\n  port: 8080\n")
    (pillar / "db.sls").write_text(
        f"db:\n  password: {encrypt(public, 'db:password', b'db-canary-456')}\n")
    return tmp_path, secret_path, public


def test_each_minion_gets_its_own_pillar_with_secrets_decrypted(master_root):
    root, secret_path, _ = master_root
    service = PillarService(str(root / "pillar"), secret_path)
    web, web_secrets = service.compile_for("web1", {"id": "web1"})
    assert web == {"app": {"api_key": "web-canary-123", "port": 8080}, "site": "linkpeek",
                   "role_of_web1": "x"}
    assert web_secrets == {"web-canary-123"}
    db, db_secrets = service.compile_for("db1", {"id": "db1"})
    assert "app" not in db and db["db"] == {"password": "db-canary-456"}
    assert db_secrets == {"db-canary-456"}
    assert service.secrets_of("web1") == {"web-canary-123"}
    assert service.masker.mask("web-canary-123 db-canary-456") == "*** ***"


def test_a_tampered_token_names_the_pillar_file_and_the_key(master_root):
    root, secret_path, _ = master_root
    text = (root / "pillar" / "db.sls").read_text()
    start = text.index("ENC[") + 30
    (root / "pillar" / "db.sls").write_text(text[:start] + ("A" if text[start] != "A" else "B")
                                            + text[start + 1:])
    service = PillarService(str(root / "pillar"), secret_path)
    with pytest.raises(SecretError, match=r"pillar/db\.sls: pillar key 'db:password'"):
        service.compile_for("db1", {"id": "db1"})
    assert service.compile_for("web1", {"id": "web1"})[1] == {"web-canary-123"}


def test_a_token_pasted_under_another_key_does_not_decrypt(master_root):
    root, secret_path, public = master_root
    token = encrypt(public, "db:password", b"moved")
    (root / "pillar" / "web.sls").write_text(f"app:\n  api_key: {token}\n")
    with pytest.raises(SecretError, match=r"web\.sls.*'app:api_key'.*another pillar key"):
        PillarService(str(root / "pillar"), secret_path).compile_for("web1", {"id": "web1"})


def test_grains_do_not_pick_whose_secrets_a_minion_gets(master_root):
    """web1 claims the grain role:db: it may get db's plain data, never db's secret."""
    root, secret_path, _ = master_root
    (root / "pillar" / "top.sls").write_text("base:\n  'role:db':\n    - match: grain\n    - db\n")
    service = PillarService(str(root / "pillar"), secret_path)
    with pytest.raises(RenderError, match="only through a grain match"):
        service.compile_for("web1", {"role": "db"})
    (root / "pillar" / "db.sls").write_text("mongo:\n  port: 27017\n")
    assert service.compile_for("web1", {"role": "db"})[0] == {"mongo": {"port": 27017}}


def test_no_secrets_key_is_fine_until_a_token_needs_it(master_root, tmp_path):
    root, _, _ = master_root
    service = PillarService(str(root / "pillar"), str(tmp_path / "nokey" / "secrets.key"))
    with pytest.raises(SecretError, match="no secrets key"):
        service.compile_for("web1", {"id": "web1"})
    (root / "pillar" / "web.sls").write_text("app: {port: 1}\n")
    assert service.compile_for("web1", {"id": "web1"})[0]["app"] == {"port": 1}


def test_a_render_error_names_the_file(master_root):
    root, secret_path, _ = master_root
    (root / "pillar" / "web.sls").write_text("app: {{ grains['nope'] | int + }}\n")
    with pytest.raises(RenderError, match="web.sls"):
        PillarService(str(root / "pillar"), secret_path).compile_for("web1", {"id": "web1"})


def test_an_edited_pillar_is_read_fresh(master_root):
    root, secret_path, _ = master_root
    service = PillarService(str(root / "pillar"), secret_path)
    service.compile_for("web1", {"id": "web1"})
    (root / "pillar" / "common.sls").write_text("site: renamed\n")
    assert service.compile_for("web1", {"id": "web1"})[0]["site"] == "renamed"
