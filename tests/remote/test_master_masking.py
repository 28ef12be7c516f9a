"""The master's second net: returns are masked before the job store, even after a restart."""
from __future__ import annotations

from core.config import MasterConfig
from core.secrets import encrypt, load_public_key, write_keypair
from core.wire import Return
from master.converge import ConvergeServices

CANARY = "canary-master-net-31"


def _config(tmp_path):
    _, public_path = write_keypair(str(tmp_path / "pki" / "secrets"))
    token = encrypt(load_public_key(public_path), "db:password", CANARY.encode())
    (tmp_path / "pillar").mkdir()
    (tmp_path / "states").mkdir()
    (tmp_path / "pillar" / "top.sls").write_text("base:\n  'db*':\n    - db\n")
    (tmp_path / "pillar" / "db.sls").write_text(f"db:\n  password: {token}\n")
    return MasterConfig(root=str(tmp_path), state_tree=str(tmp_path / "states"),
                        pillar_tree=str(tmp_path / "pillar"))


def test_a_state_return_is_masked_before_any_pillar_was_compiled(tmp_path):
    converge = ConvergeServices(_config(tmp_path), {"db1": {"id": "db1"}})
    ret = Return(jid="2" * 20 + "abcdef", fun="state.apply", success=True,
                 ret={"file_|-x_|-x_|-managed": {"result": True, "comment": f"wrote {CANARY}",
                                                  "changes": {"diff": f"+password={CANARY}\n"}}})
    masked = converge.mask_wire_return("db1", ret)
    state = masked.ret["file_|-x_|-x_|-managed"]
    assert state["comment"] == "wrote ***"
    assert CANARY not in state["changes"]["diff"]
    assert masked.jid == ret.jid and masked.success


def test_other_returns_pass_untouched_when_no_secret_is_known(tmp_path):
    converge = ConvergeServices(_config(tmp_path), {})
    ret = Return(jid="2" * 20 + "abcdef", fun="test.ping", success=True, ret=True)
    assert converge.mask_wire_return("web1", ret) is ret


def test_the_master_refuses_an_exposed_secrets_key(tmp_path, lpmaster_bin):
    import os
    import subprocess

    import pytest

    from core.errors import ConfigError

    config = _config(tmp_path)
    os.chmod(tmp_path / "pki" / "secrets" / "secrets.key", 0o644)
    with pytest.raises(ConfigError, match="0600"):
        ConvergeServices(config, {})
    root = tmp_path / "m"
    subprocess.run([lpmaster_bin, "init", "--dir", str(root)], check=True, capture_output=True)
    subprocess.run([lpmaster_bin, "-c", str(root / "master.yaml"), "secret", "keygen"], check=True,
                   capture_output=True)
    os.chmod(root / "pki" / "secrets" / "secrets.key", 0o640)
    proc = subprocess.run([lpmaster_bin, "-c", str(root / "master.yaml"), "serve"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "secrets.key" in proc.stderr and "0600" in proc.stderr
