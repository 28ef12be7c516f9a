"""Key files and the key store, without sockets."""
from __future__ import annotations

import os
import stat

import pytest

from core import keys
from core.errors import KeyStoreError
from master.keystore import KeyStore


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_generated_keys_are_private_and_load(tmp_path):
    d = tmp_path / "pki"
    pair = keys.generate_keypair(str(d), "minion")
    assert _mode(d) == 0o700
    assert _mode(d / "minion.key") == 0o600
    assert keys.load_keypair(str(d), "minion") == pair
    with pytest.raises(KeyStoreError, match="already exists"):
        keys.generate_keypair(str(d), "minion")


def test_loading_refuses_a_readable_secret_key(tmp_path):
    d = tmp_path / "pki"
    keys.generate_keypair(str(d), "minion")
    os.chmod(d / "minion.key", 0o644)
    with pytest.raises(KeyStoreError, match="readable by others"):
        keys.load_keypair(str(d), "minion")
    os.chmod(d / "minion.key", 0o600)
    os.chmod(d, 0o755)
    with pytest.raises(KeyStoreError, match="open to others"):
        keys.load_keypair(str(d), "minion")


def test_fingerprints_are_stable_and_normalised(tmp_path):
    pair = keys.generate_keypair(str(tmp_path / "k"), "m")
    fp = keys.fingerprint(pair.public)
    assert len(fp) == 95 and fp.count(":") == 31
    assert keys.normalize_fingerprint(fp.replace(":", "").upper()) == fp
    with pytest.raises(KeyStoreError):
        keys.normalize_fingerprint("abc")
    assert not keys.is_public_key("~" * 40) and not keys.is_public_key("x" * 39)


def _key(tmp_path, name):
    return keys.generate_keypair(str(tmp_path / "keys" / name), name).public


def test_key_states_follow_salt(tmp_path):
    store = KeyStore(str(tmp_path / "pki"))
    store.ensure_dirs()
    k1, k2, k3 = _key(tmp_path, "a"), _key(tmp_path, "b"), _key(tmp_path, "c")
    assert store.register("web1", k1) == "pending"
    assert store.register("web1", k1) == "pending"
    assert store.list_ids()["pending"] == ["web1"]
    store.accept("web1")
    assert store.accepted_id(k1) == "web1"
    # a second key for an accepted id is denied and never replaces the first
    assert store.register("web1", k2) == "denied"
    assert store.accepted_id(k1) == "web1" and store.accepted_id(k2) is None
    assert store.list_ids() == {"accepted": ["web1"], "pending": [], "rejected": [], "denied": ["web1"]}
    store.reject("web1")
    assert store.accepted_id(k1) is None
    assert store.register("web1", k1) == "rejected"
    store.delete("web1")
    assert store.list_ids() == {"accepted": [], "pending": [], "rejected": [], "denied": []}
    assert store.register("db1", k3) == "pending"
    assert [e.minion_id for e in store.match("d*", ("pending",))] == ["db1"]


def test_pending_keys_are_capped(tmp_path):
    store = KeyStore(str(tmp_path / "pki"))
    store.ensure_dirs()
    store.register("a", _key(tmp_path, "a"), max_pending=1)
    with pytest.raises(KeyStoreError, match="too many pending"):
        store.register("b", _key(tmp_path, "b"), max_pending=1)


def test_a_second_store_sees_changes_made_by_another(tmp_path):
    """The daemon's store notices what the CLI's store wrote (revocation takes effect)."""
    daemon_view, cli_view = KeyStore(str(tmp_path / "pki")), KeyStore(str(tmp_path / "pki"))
    daemon_view.ensure_dirs()
    k = _key(tmp_path, "a")
    daemon_view.register("web1", k)
    cli_view.accept("web1")
    assert daemon_view.accepted_id(k) == "web1"
    assert daemon_view.accepted_key("web1") == k == daemon_view.accepted()["web1"]
    cli_view.reject("web1")
    assert daemon_view.accepted_id(k) is None
    assert daemon_view.accepted_key("web1") is None
