"""YAML loading: Salt's scalar quirks, declaration order, refused duplicates and tags."""
from __future__ import annotations

import datetime

import pytest

from core.errors import RenderError
from core.yamlload import load_yaml, load_yaml_located

SCALARS = [
    ("mode: 0600", 600),            # Salt: leading zeros dropped, file states read it as octal
    ("mode: 0755", 755),
    ("mode: 644", 644),
    ("mode: '0600'", "0600"),
    ("mode: 00", 0),
    ("mode: 0", 0),
    ("version: 1.24.0", "1.24.0"),
    ("version: 1.24", 1.24),
    ("hex: 0x1f", 31),
    ("v: yes", True),
    ("v: no", False),
    ("v: on", True),
    ("v: Off", False),
    ("v: 'yes'", "yes"),
    ("v: true", True),
    ("v: ~", None),
    ("v: 2014-01-20", "2014-01-20"),                    # timestamps stay strings, as in Salt
    ("v: 2014-01-20 14:23:23", "2014-01-20 14:23:23"),
    ("v: 2013_05_10", 20130510),
]


@pytest.mark.parametrize("text, expected", SCALARS)
def test_scalars_read_as_salt_reads_them(text: str, expected: object) -> None:
    value = load_yaml(text + "\n", "t.sls")["mode" if text.startswith("mode") else text.split(":")[0]]
    assert value == expected and type(value) is type(expected)
    assert not isinstance(value, (datetime.date, datetime.datetime))


def test_declaration_order_is_kept() -> None:
    keys = [f"id{n:03d}" for n in range(200, 0, -3)]
    data = load_yaml("".join(f"{k}: {{}}\n" for k in keys), "t.sls")
    assert list(data) == keys


def test_top_level_key_lines() -> None:
    _, lines = load_yaml_located("a: 1\n\n# c\nb:\n  c: 2\n", "t.sls")
    assert lines == {"a": 1, "b": 4}


@pytest.mark.parametrize("text, line", [
    ("nginx:\n  pkg.installed: []\nnginx:\n  service.running: []\n", 3),
    ("a:\n  x: 1\n  y: 2\n  x: 3\n", 4),
])
def test_duplicate_keys_are_refused_with_their_line(text: str, line: int) -> None:
    with pytest.raises(RenderError) as info:
        load_yaml(text, "web/init.sls")
    assert info.value.location == f"web/init.sls:{line}"
    assert "duplicate key" in str(info.value) and "first defined at line" in str(info.value)


@pytest.mark.parametrize("text", [
    "a: !!python/object/apply:os.system ['id']\n",
    "a: !!python/name:os.system\n",
    "a: !!python/unicode x\n",
    "a: !custom x\n",
    "a: !!binary aGk=\n",
    "a: !!set {x, y}\n",
])
def test_language_specific_and_custom_tags_are_refused(text: str) -> None:
    with pytest.raises(RenderError) as info:
        load_yaml(text, "t.sls")
    assert info.value.location == "t.sls:1"
    assert "not allowed" in str(info.value)


@pytest.mark.parametrize("text, line", [
    ("a:\n  - b\n c: d\n", 3),
    ("a: [1\n", 2),
    ("a:\n\tb: 1\n", 2),
    ("ok: 1\nbad: 'unterminated\n", 3),
])
def test_syntax_errors_name_file_and_line(text: str, line: int) -> None:
    with pytest.raises(RenderError) as info:
        load_yaml(text, "web/nginx.sls")
    assert str(info.value).startswith(f"web/nginx.sls:{line}: ")


def test_tabs_get_a_hint() -> None:
    with pytest.raises(RenderError, match="tabs"):
        load_yaml("a:\n\tb: 1\n", "t.sls")


def test_empty_document_is_none() -> None:
    assert load_yaml("# nothing\n", "t.sls") is None
