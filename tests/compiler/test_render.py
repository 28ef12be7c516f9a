"""Rendering: Jinja (Salt's context, filters, imports inside the tree) then YAML."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.errors import RenderError
from core.render import render_sls, render_template, sls_context

GRAINS = {"id": "web1", "os": "Debian", "ip4": ["10.0.0.5"], "deep": {"a": {"b": "grain-deep"}}}
PILLAR = {"web": {"port": 8080, "tls": {"cert": "/etc/ssl/web.pem"}}, "users": ["ann", "bob"]}


def ctx(sls: str = "web.nginx", opts: dict | None = None) -> dict:
    return sls_context("web1", GRAINS, PILLAR, opts or {"cachedir": "/var/cache/lp"}, sls)


CONTEXT_CASES = [
    ("{{ grains['os'] }}", "Debian"),
    ("{{ grains.ip4[0] }}", "10.0.0.5"),
    ("{{ pillar['web']['port'] }}", "8080"),
    ("{{ salt['pillar.get']('web:tls:cert') }}", "/etc/ssl/web.pem"),
    ("{{ salt['pillar.get']('web:missing:x', 'dflt') }}", "dflt"),
    ("[{{ salt['pillar.get']('nope') }}]", "[]"),                 # Salt's default is ''
    ("{{ salt['pillar.get']('users:1') }}", "bob"),
    ("{{ salt['grains.get']('deep:a:b') }}", "grain-deep"),
    ("{{ salt['grains.get']('deep/a/b', delimiter='/') }}", "grain-deep"),
    ("{{ salt['config.get']('cachedir') }}", "/var/cache/lp"),    # opts first
    ("{{ salt['config.get']('os') }}", "Debian"),                 # then grains
    ("{{ salt['config.get']('web:port') }}", "8080"),             # then pillar
    ("{{ opts['id'] }}", "web1"),
    ("{{ sls }} {{ slspath }} {{ slsdotpath }} {{ tpldir }}", "web.nginx web web web"),
    ("{{ salt['match.glob']('web*') }} {{ salt['match.grain']('os:Deb*') }}", "True True"),
    ("{{ salt['slsutil.merge']({'a': {'x': 1}}, {'a': {'y': 2}})|json }}", '{"a": {"x": 1, "y": 2}}'),
    ("{% if pillar.nothere is defined %}yes{% else %}no{% endif %}", "no"),
    ("{% for u in pillar.users %}{% if u == 'ann' %}{% continue %}{% endif %}{{ u }}{% endfor %}", "bob"),
    ("{% set l = [] %}{% do l.append(1) %}{{ l }}", "[1]"),
]


@pytest.mark.parametrize("template, expected", CONTEXT_CASES)
def test_context_matches_salt(template: str, expected: str) -> None:
    assert render_template(template, "t.sls", ctx()) == expected


FILTER_CASES = [
    ("{{ {'b': 1, 'a': [1, 2]}|json }}", '{"a": [1, 2], "b": 1}'),
    ("{{ {'b': 1, 'a': [1, 2]}|yaml }}", "{a: [1, 2], b: 1}"),
    ("{{ {'b': 1}|yaml(False) }}", "b: 1"),
    ("{{ \"it's: x\"|yaml_encode }}", "\"it's: x\""),
    ("{{ 5|yaml_encode }} {{ true|yaml_encode }}", "5 true"),
    ("{{ 'a \"b\"'|yaml_dquote }}", '"a \\"b\\""'),
    ("{{ \"it's\"|yaml_squote }}", "'it''s'"),
    ("{{ 'yes'|to_bool }} {{ 'off'|to_bool }}", "True False"),
    ("{{ 'a b'|quote }}", "'a b'"),
    ("{{ 'v1.24.0'|regex_replace('^v', '') }}", "1.24.0"),
    ("{{ [1, 2, 1]|unique }}", "[1, 2]"),
    ("{{ 'abc'|sha256 }}", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
]


@pytest.mark.parametrize("template, expected", FILTER_CASES)
def test_salt_filters(template: str, expected: str) -> None:
    assert render_template(template, "t.sls", ctx()) == expected


def test_filtered_values_read_back_as_the_same_data() -> None:
    data = {"name": "web: 1", "list": ["a", "yes", "0600"], "n": 3}
    text = "value: {{ data|json }}\ntext: {{ data.name|yaml_encode }}\n"
    out = render_sls(text, "t.sls", {**ctx(), "data": data}, "/nonexistent")
    assert out == {"value": data, "text": "web: 1"}


def test_render_sls_is_jinja_then_yaml() -> None:
    text = """
{% for user in pillar.users %}
user_{{ user }}:
  user.present:
    - name: {{ user }}
{% endfor %}
"""
    assert render_sls(text, "users.sls", ctx(), "/nonexistent") == {
        "user_ann": {"user.present": [{"name": "ann"}]},
        "user_bob": {"user.present": [{"name": "bob"}]},
    }


def test_yaml_renderer_only_skips_jinja() -> None:
    text = "#!yaml\na: '{{ not jinja }}'\n"
    assert render_sls(text, "t.sls", ctx(), "/nonexistent") == {"a": "{{ not jinja }}"}


def test_unknown_renderer_is_refused() -> None:
    with pytest.raises(RenderError, match="not supported"):
        render_sls("#!py\nx\n", "t.sls", ctx(), "/nonexistent")


def test_undefined_variable_is_an_error_like_salt() -> None:
    with pytest.raises(RenderError) as info:
        render_template("line one\n{{ nothere }}\n", "web/nginx.sls", ctx())
    assert info.value.location == "web/nginx.sls:2"
    assert "'nothere' is undefined" in str(info.value)


def test_allow_undefined_option_renders_empty() -> None:
    assert render_template("[{{ nothere }}]", "t.sls", ctx(opts={"allow_undefined": True})) == "[]"


def test_jinja_syntax_error_names_file_and_line() -> None:
    with pytest.raises(RenderError) as info:
        render_sls("a: 1\nb: 2\n{% if %}\n", "web/init.sls", ctx(), "/nonexistent")
    assert info.value.location == "web/init.sls:3"


def test_yaml_error_after_jinja_names_the_file() -> None:
    with pytest.raises(RenderError) as info:
        render_sls("a: {{ 1 }}\na: 2\n", "web/init.sls", ctx(), "/nonexistent")
    assert info.value.location == "web/init.sls:2"


def test_trailing_newline_is_kept() -> None:
    assert render_template("port {{ pillar.web.port }}\n", "nginx.conf", ctx()) == "port 8080\n"


@pytest.mark.parametrize("template", [
    "{{ salt['cmd.run']('id') }}",
    "{{ salt['file.read']('/etc/shadow') }}",
])
def test_functions_that_touch_the_host_are_not_available(template: str) -> None:
    with pytest.raises(RenderError, match="not available in templates"):
        render_template(template, "t.sls", ctx())


def test_sandbox_refuses_python_internals() -> None:
    with pytest.raises(RenderError, match="sandbox"):
        render_template("{{ ''.__class__.__mro__ }}", "t.sls", ctx())


@pytest.fixture
def jinja_tree(tmp_path: Path) -> Path:
    root = tmp_path / "states"
    (root / "web").mkdir(parents=True)
    (root / "web" / "map.jinja").write_text(
        "{% set web = {'pkg': 'nginx-' ~ grains['os']|lower, 'port': salt['pillar.get']('web:port')} %}\n"
        "{% macro listen(p) %}listen {{ p }}{% endmacro %}\n")
    (root / "web" / "broken.jinja").write_text("{% set x = 1 %}\n\n{{ nothere }}\n")
    (root / "lib.jinja").write_text("{% set shared = 'from-root' %}\n")
    (tmp_path / "outside.jinja").write_text("{% set secret = 'leaked' %}\n")
    os.symlink(tmp_path / "outside.jinja", root / "web" / "link.jinja")
    return root


IMPORT_CASES = [
    ("{% from 'web/map.jinja' import web %}{{ web.pkg }} {{ web.port }}", "nginx-debian 8080"),
    ("{% from './map.jinja' import web %}{{ web.pkg }}", "nginx-debian"),
    ("{% from '../lib.jinja' import shared %}{{ shared }}", "from-root"),
    ("{% import 'web/map.jinja' as m %}{{ m.listen(80) }}", "listen 80"),
    ("{% from 'web/map.jinja' import web with context %}{{ web.port }}", "8080"),
    ("{% include 'lib.jinja' %}{{ sls }}", "web.nginx"),  # Salt 3008.5: the include's newline goes
]


@pytest.mark.parametrize("template, expected", IMPORT_CASES)
def test_imports_resolve_inside_the_tree(jinja_tree: Path, template: str, expected: str) -> None:
    assert render_template(template, "web/nginx.sls", ctx(), str(jinja_tree)) == expected


@pytest.mark.parametrize("template", [
    "{% from '../outside.jinja' import secret %}{{ secret }}",
    "{% from '../../outside.jinja' import secret %}{{ secret }}",
    "{% from '/etc/passwd' import x %}",
    "{% from 'web/link.jinja' import secret %}{{ secret }}",   # a symlink leaving the tree
    "{% include 'web/nothere.jinja' %}",
])
def test_imports_cannot_leave_the_tree(jinja_tree: Path, template: str) -> None:
    with pytest.raises(RenderError) as info:
        render_template(template, "web/nginx.sls", ctx(), str(jinja_tree))
    assert "not found in the tree" in str(info.value)
    assert "leaked" not in str(info.value)


def test_error_inside_an_imported_file_names_that_file(jinja_tree: Path) -> None:
    with pytest.raises(RenderError) as info:
        render_template("a\n{% from 'web/broken.jinja' import x %}", "web/nginx.sls", ctx(), str(jinja_tree))
    assert info.value.location == "web/broken.jinja:3"


@pytest.mark.parametrize("template, expected", [
    ("{{ salt['grains.filter_by']({'Debian': {'pkg': 'nginx'}, 'RedHat': {'pkg': 'nginx1'}})|json }}",
     '{"pkg": "nginx"}'),
    ("{{ salt['grains.filter_by']({'Deb*': {'pkg': 'nginx', 'port': 80}}, grain='os', "
     "merge={'port': 81})|json }}", '{"pkg": "nginx", "port": 81}'),
    ("{{ salt['grains.filter_by']({'Arch': 1, 'default': 2}) }}", "2"),
    ("{{ salt['grains.filter_by']({'10.0.0.5': 'mine', 'common': 'c'}, grain='ip4') }}", "mine"),
    ("{{ salt['grains.filter_by']({'x': {'a': 1}, 'common': {'b': 2}}, grain='os', base='common')|json }}",
     '{"b": 2}'),
])
def test_grains_filter_by_like_salt(template: str, expected: str) -> None:
    grains = {**GRAINS, "os_family": "Debian"}
    context = sls_context("web1", grains, PILLAR, {}, "web")
    assert render_template(template, "t.sls", context) == expected


def test_serializer_tags_import_and_load(tmp_path: Path) -> None:
    (tmp_path / "nginx").mkdir()
    (tmp_path / "nginx" / "defaults.yaml").write_text("port: {{ pillar.web.port }}\nmode: 0644\n")
    (tmp_path / "nginx" / "ports.json").write_text('{"extra": [81, 82]}')
    template = (
        "{% import_yaml 'nginx/defaults.yaml' as defaults %}"
        "{% import_json './ports.json' as ports %}"
        "{% import_text './ports.json' as raw %}"
        "{% load_yaml as more %}\nnext: {{ defaults.port + 1 }}\n{% endload %}"
        "{{ defaults.port }} {{ defaults.mode }} {{ ports.extra }} {{ more.next }} {{ raw[:9] }}")
    assert render_template(template, "nginx/init.sls", ctx(), str(tmp_path)) == \
        '8080 644 [81, 82] 8081 {"extra":'


def test_serializer_tags_stay_in_the_tree_and_refuse_bad_yaml(tmp_path: Path) -> None:
    (tmp_path / "states").mkdir()
    (tmp_path / "secret.yaml").write_text("k: v\n")
    with pytest.raises(RenderError, match="not found in the tree"):
        render_template("{% import_yaml '../secret.yaml' as s %}", "a.sls", ctx(), str(tmp_path / "states"))
    with pytest.raises(RenderError, match="not allowed"):
        render_template("{% load_yaml as x %}\na: !!python/name:os.system\n{% endload %}", "a.sls", ctx())
