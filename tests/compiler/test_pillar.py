"""Pillar compile: top.sls, each SLS rendered with grains, merged recursively in order."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import RenderError
from core.pillar import compile_pillar
from tests.compiler.conftest import write_tree

FILES = {
    "top.sls": """
        base:
          '*':
            - common
          'web*':
            - web
          'os:Debian':
            - match: grain
            - debian
    """,
    "common.sls": """
        ntp: pool.ntp.org
        users:
          admin: {shell: /bin/bash, groups: [sudo]}
        ports: [22]
    """,
    "web/init.sls": """
        include:
          - .tls
        users:
          admin: {shell: /bin/zsh}
          deploy: {shell: /bin/sh}
        ports: [80, 443]
        site: {{ grains['id'] }}.example.org
    """,
    "web/tls.sls": """
        tls: {cert: /etc/ssl/{{ grains['id'] }}.pem}
        ntp: from-tls
    """,
    "debian.sls": """
        apt_mirror: deb.debian.org
        ntp: {{ pillar['ntp'] }}-debian
    """,
}


def test_merged_recursively_in_order(tmp_path: Path) -> None:
    write_tree(tmp_path, FILES)
    pillar = compile_pillar(str(tmp_path), "web1", {"id": "web1", "os": "Debian"})
    assert pillar == {
        "ntp": "from-tls-debian",           # later files win; included before includer
        "users": {"admin": {"shell": "/bin/zsh", "groups": ["sudo"]}, "deploy": {"shell": "/bin/sh"}},
        "ports": [80, 443],                 # lists are replaced, not appended
        "tls": {"cert": "/etc/ssl/web1.pem"},
        "site": "web1.example.org",
        "apt_mirror": "deb.debian.org",
    }
    assert list(pillar) == ["ntp", "users", "ports", "tls", "site", "apt_mirror"]


def test_other_minions_get_only_their_part(tmp_path: Path) -> None:
    write_tree(tmp_path, FILES)
    pillar = compile_pillar(str(tmp_path), "db1", {"id": "db1", "os": "Alpine"})
    assert pillar == {"ntp": "pool.ntp.org", "users": {"admin": {"shell": "/bin/bash", "groups": ["sudo"]}},
                      "ports": [22]}


def test_transform_sees_the_merged_pillar(tmp_path: Path) -> None:
    write_tree(tmp_path, FILES)
    seen = []

    def transform(pillar: dict) -> dict:
        seen.append(dict(pillar))
        return {**pillar, "decrypted": True}

    pillar = compile_pillar(str(tmp_path), "db1", {"os": "Alpine"}, transform=transform)
    assert pillar["decrypted"] is True and seen[0]["ntp"] == "pool.ntp.org"


def test_no_top_means_empty_pillar(tmp_path: Path) -> None:
    assert compile_pillar(str(tmp_path), "web1", {}) == {}


@pytest.mark.parametrize("files, location, message", [
    ({"top.sls": "base:\n  '*':\n    - nothere\n"}, "top.sls", "pillar SLS 'nothere' not found"),
    ({"top.sls": "base:\n  '*':\n    - bad\n", "bad.sls": "a: 1\nb: {{ nope }}\n"}, "bad.sls:2", "undefined"),
    ({"top.sls": "base:\n  '*':\n    - bad\n", "bad.sls": "a: 1\na: 2\n"}, "bad.sls:2", "duplicate key"),
    ({"top.sls": "base:\n  '*':\n    - bad\n", "bad.sls": "- a\n"}, "bad.sls:1", "must be a mapping"),
    ({"top.sls": "base:\n  '*':\n    - inc\n", "inc.sls": "include:\n  - gone\n"}, "inc.sls:1", "'gone' not found"),
    ({"top.sls": "base:\n  '*':\n    - inc\n", "inc.sls": "include:\n  - ..up\n"}, "inc.sls:1", "above the top"),
])
def test_errors_name_the_file(tmp_path: Path, files: dict, location: str, message: str) -> None:
    write_tree(tmp_path, files)
    with pytest.raises(RenderError, match=message) as info:
        compile_pillar(str(tmp_path), "web1", {})
    assert str(info.value).startswith(location)


def test_on_the_master_grain_targets_give_plain_data_but_never_secrets(tmp_path: Path) -> None:
    write_tree(tmp_path, FILES)
    DEB = {"id": "web1", "os": "Debian"}
    trusted = compile_pillar(str(tmp_path), "web1", DEB)
    assert compile_pillar(str(tmp_path), "web1", DEB, trust_grains=False) == trusted
    (tmp_path / "debian.sls").write_text("apt:\n  mirror: deb.example\n  token: ENC[v1,abc,xyz]\n")
    with pytest.raises(RenderError, match="only through a grain match") as info:
        compile_pillar(str(tmp_path), "web1", DEB, trust_grains=False)
    assert str(info.value).startswith("debian.sls:1") and "'apt'" in str(info.value)
    # the same file given by minion id is fine: the id comes from the minion's key
    (tmp_path / "top.sls").write_text("base:\n  'web*':\n    - debian\n  'os:Debian':\n"
                                      "    - match: grain\n    - debian\n")
    assert compile_pillar(str(tmp_path), "web1", DEB,
                          trust_grains=False)["apt"]["token"] == "ENC[v1,abc,xyz]"


def test_a_secret_included_from_a_grain_matched_file_is_refused_too(tmp_path: Path) -> None:
    write_tree(tmp_path, {"top.sls": "base:\n  'G@role:db':\n    - db\n",
                          "db.sls": "include:\n  - dbsecret\nport: 27017\n",
                          "dbsecret.sls": "password: ENC[v1,abc,xyz]\n"})
    assert compile_pillar(str(tmp_path), "db1", {"role": "db"})["password"] == "ENC[v1,abc,xyz]"
    with pytest.raises(RenderError, match="dbsecret.sls:1"):
        compile_pillar(str(tmp_path), "db1", {"role": "db"}, trust_grains=False)
