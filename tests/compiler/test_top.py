"""top.sls: which SLS names a minion gets, in first-match order, each once."""
from __future__ import annotations

import pytest

from core.errors import RenderError
from core.top import render_top, top_sls_names

TOP = """
base:
  '*':
    - common
  'web*':
    - web
    - common
  'os:Debian':
    - match: grain
    - debian
  'db1,db2':
    - match: list
    - db
  '^cache[0-9]+$':
    - match: pcre
    - cache
  'G@os:Debian and not web2':
    - match: compound
    - monitored
  'role:edge':
    - match: pillar
    - edge
  'web1 or db1':
    - primary
dev:
  '*':
    - devtools
"""

DEBIAN = {"os": "Debian"}
ALPINE = {"os": "Alpine"}


@pytest.mark.parametrize("minion_id, grains, pillar, expected", [
    ("web1", DEBIAN, {}, ["common", "web", "debian", "monitored", "primary"]),
    ("web2", DEBIAN, {}, ["common", "web", "debian"]),
    ("web2", ALPINE, {}, ["common", "web"]),
    ("db2", ALPINE, {}, ["common", "db"]),
    ("db1", ALPINE, {}, ["common", "db", "primary"]),
    ("cache12", ALPINE, {}, ["common", "cache"]),
    ("cache", ALPINE, {"role": "edge"}, ["common", "edge"]),
])
def test_matches_in_first_match_order(minion_id: str, grains: dict, pillar: dict,
                                      expected: list[str]) -> None:
    assert render_top(TOP, "top.sls", minion_id, grains, pillar) == expected


def test_top_is_rendered_with_jinja() -> None:
    text = """
base:
  '*':
{% if grains['os'] == 'Debian' %}
    - apt
{% endif %}
    - {{ pillar.get('role', 'plain') }}
"""
    assert render_top(text, "top.sls", "x", DEBIAN, {"role": "web"}) == ["apt", "web"]
    assert render_top(text, "top.sls", "x", ALPINE, {}) == ["plain"]


def test_no_base_means_nothing() -> None:
    assert top_sls_names({"dev": {"*": ["x"]}}, "top.sls", "web1", {}) == []
    assert top_sls_names(None, "top.sls", "web1", {}) == []


@pytest.mark.parametrize("top, message", [
    ({"base": {"*": [{"match": "nosuch"}, "x"]}}, "unknown match type"),
    ({"base": {"*": "x", "a": 5}}, "must list SLS names"),
    ({"base": ["x"]}, "must map targets"),
    ({"base": {"G@os:Debian and (": ["x"]}}, "target"),
])
def test_malformed_top_is_an_error(top: dict, message: str) -> None:
    with pytest.raises(RenderError, match=message) as info:
        top_sls_names(top, "top.sls", "web1", DEBIAN)
    assert str(info.value).startswith("top.sls")


@pytest.mark.parametrize("target, match", [
    ("os:Debian", "grain"), ("os:Deb.*", "grain_pcre"), ("G@os:Debian", "compound"),
    ("(G@os:Debian)", "compound"), ("db9 or (P@os:Deb.*)", "compound"),
    ("web1 and not (G@os:Alpine)", "compound"),
])
def test_grain_matching_can_be_refused(target: str, match: str) -> None:
    top = {"base": {target: [{"match": match}, "secrets"]}}
    with pytest.raises(RenderError, match="grain matching is refused"):
        top_sls_names(top, "top.sls", "web1", DEBIAN, trust_grains=False)
    assert top_sls_names({"base": {"web*": ["ok"]}}, "top.sls", "web1", DEBIAN,
                         trust_grains=False) == ["ok"]


@pytest.mark.parametrize("target", ["(G@os:Debian)", "db9 or (P@os:Deb.*)", "((G@os:Debian))"])
def test_a_grain_match_inside_parentheses_is_still_a_grain_match(target: str) -> None:
    grain_only: set[str] = set()
    top = {"base": {target: [{"match": "compound"}, "secrets"], "web*": ["plain"]}}
    assert top_sls_names(top, "top.sls", "web1", DEBIAN, trust_grains=False,
                         grain_only=grain_only) == ["secrets", "plain"]
    assert grain_only == {"secrets"}
