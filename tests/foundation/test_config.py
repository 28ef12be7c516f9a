"""Config files and init: defaults, validation with one-line reasons, the master address."""
from __future__ import annotations

import os
import stat

import pytest

from core.config import load_master, load_minion
from core.errors import ConfigError
from master.api import init_master
from minion.enroll import init_minion, parse_master


def test_master_init_writes_config_keys_and_trees(tmp_path):
    cfg = init_master(str(tmp_path / "m"), publish_port=1, request_port=2, key_port=3,
                      state_tree=str(tmp_path / "st"))
    loaded = load_master(str(tmp_path / "m" / "master.yaml"))
    assert loaded == cfg
    assert (loaded.publish_port, loaded.request_port, loaded.key_port) == (1, 2, 3)
    assert loaded.state_tree == str(tmp_path / "st")
    assert loaded.pillar_tree == str(tmp_path / "m" / "pillar") and os.path.isdir(loaded.pillar_tree)
    assert loaded.db_path.startswith(loaded.root) and loaded.control_socket.startswith(loaded.root)
    assert stat.S_IMODE(os.stat(tmp_path / "m" / "pki" / "master.key").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "m" / "master.yaml").st_mode) == 0o640
    with pytest.raises(ConfigError, match="already exists"):
        init_master(str(tmp_path / "m"))


def test_minion_init_needs_an_explicit_trust_choice(tmp_path):
    with pytest.raises(ConfigError, match="trust-first-use"):
        init_minion(str(tmp_path / "a"), "web1", "lp.example.org")
    with pytest.raises(ConfigError, match="fingerprint"):
        init_minion(str(tmp_path / "b"), "web1", "lp.example.org", master_finger="12:34")
    with pytest.raises(ConfigError, match="invalid minion id"):
        init_minion(str(tmp_path / "c"), "../etc", "lp.example.org", trust_first_use=True)
    cfg = init_minion(str(tmp_path / "d"), "web1", "lp.example.org:9999", master_finger="AB" * 32,
                      grains={"role": "web"})
    loaded = load_minion(str(tmp_path / "d" / "minion.yaml"))
    assert (loaded.master, loaded.master_port, loaded.grains) == ("lp.example.org", 9999, {"role": "web"})
    assert loaded.master_finger == cfg.master_finger == ":".join(["ab"] * 32)


@pytest.mark.parametrize("text, expected", [
    ("lp.example.org", ("lp.example.org", None)),
    ("10.0.0.1:4606", ("10.0.0.1", 4606)),
    ("[::1]:4606", ("::1", 4606)),
    ("::1", ("::1", None)),
])
def test_master_addresses(text, expected):
    assert parse_master(text) == expected


@pytest.mark.parametrize("text", ["", "host:0", "host:99999", "host:x"])
def test_bad_master_addresses(text):
    with pytest.raises(ConfigError):
        parse_master(text)


@pytest.mark.parametrize("body, reason", [
    ("- a list\n", "expected a map"),
    ("root: /x\npublish_port: many\n", "wrong type"),
    ("root: /x\nno_such_setting: 1\n", "unknown setting"),
    ("root: /x\npublish_port: 70000\n", "out of range"),
])
def test_bad_master_configs_say_why(tmp_path, body, reason):
    path = tmp_path / "master.yaml"
    path.write_text(body)
    with pytest.raises(ConfigError, match=reason):
        load_master(str(path))


def test_startup_states_may_be_a_yaml_list(tmp_path):
    from core.config import load_minion
    from minion.enroll import init_minion

    cfg = init_minion(str(tmp_path / "m"), "web1", "127.0.0.1", trust_first_use=True)
    path = tmp_path / "m" / "minion.yaml"
    path.write_text(path.read_text().replace("startup_states: highstate",
                                             "startup_states:\n- web\n- db.mongo"))
    assert load_minion(str(path)).startup_states == "web,db.mongo"
    assert cfg.startup_states == "highstate"


def test_a_minion_port_out_of_range_is_refused(tmp_path):
    init_minion(str(tmp_path / "m"), "web1", "127.0.0.1", trust_first_use=True)
    path = tmp_path / "m" / "minion.yaml"
    text = path.read_text()
    assert "master_key_port: 4607\n" in text
    path.write_text(text.replace("master_key_port: 4607\n", "master_key_port: 70000\n"))
    with pytest.raises(ConfigError, match="port 70000 out of range"):
        load_minion(str(path))
