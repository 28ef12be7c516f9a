"""Salt's common Jinja filters: yaml, json, yaml_encode, yaml_dquote, to_bool, regex_*, ...

Pure functions of their arguments; none touches the host. Registered by core.render.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import shlex
from typing import Any, Callable, Iterable, Mapping

import yaml

from core.datamerge import traverse


def _dump_yaml(value: Any, **kwargs: Any) -> str:
    options: dict[str, Any] = {"sort_keys": False, "width": 1_000_000, **kwargs}
    text = yaml.safe_dump(value, allow_unicode=True, **options).strip()
    if text.endswith("\n..."):
        text = text[:-4].rstrip()
    elif text == "...":
        text = ""
    return text


def format_yaml(value: Any, flow_style: bool = True) -> str:
    """`{{ data|yaml }}`: YAML text, flow style by default (`|yaml(False)` for block style);
    as Salt's: keys sorted, lines folded at PyYAML's default width."""
    return _dump_yaml(value, default_flow_style=flow_style, sort_keys=True, width=None)


def tojson(value: Any, indent: int | None = None, **options: Any) -> str:
    """`{{ data|tojson }}` as Salt's: keys in their own order, ASCII, HTML-safe escapes."""
    options.setdefault("ensure_ascii", True)
    text = json.dumps(value, indent=indent, default=str, **options)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")):
        text = text.replace(char, escape)
    return text


def format_json(value: Any, sort_keys: bool = True, indent: int | None = None) -> str:
    """`{{ data|json }}`: JSON text, keys sorted as Salt does."""
    return json.dumps(value, sort_keys=sort_keys, indent=indent, default=str).strip()


def yaml_dquote(text: Any) -> str:
    """A double-quoted YAML scalar holding `text` (a JSON string is one, and fast to make)."""
    return json.dumps(str(text), ensure_ascii=False)


def yaml_squote(text: Any) -> str:
    """A single-quoted YAML scalar holding `text`."""
    value = str(text)
    if "\n" in value or "\r" in value:
        return _dump_yaml(value, default_style="'")
    return "'" + value.replace("'", "''") + "'"


def yaml_encode(value: Any) -> str:
    """A YAML scalar for `value`: strings double-quoted, numbers, booleans, null as YAML has them."""
    if isinstance(value, str):
        return yaml_dquote(value)
    if value is None or isinstance(value, (bool, int, float)):
        return _dump_yaml(value)
    raise TypeError(f"yaml_encode only works with scalars, not {type(value).__name__}")


def to_bool(value: Any) -> bool:
    """Salt's to_bool: 'yes', 'true', '1', 'on' (any case) and non-zero numbers are True."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value > 0
    if isinstance(value, str):
        return value.strip().lower() in ("yes", "true", "1", "on", "y")
    if isinstance(value, (list, tuple, dict, set)):
        return len(value) > 0
    return bool(value)


def regex_search(text: str, pattern: str, ignorecase: bool = False, multiline: bool = False) -> Any:
    flags = (re.I if ignorecase else 0) | (re.M if multiline else 0)
    found = re.search(pattern, str(text), flags)
    return found.groups() if found else None


def regex_match(text: str, pattern: str, ignorecase: bool = False, multiline: bool = False) -> Any:
    flags = (re.I if ignorecase else 0) | (re.M if multiline else 0)
    found = re.match(pattern, str(text), flags)
    return found.groups() if found else None


def regex_replace(text: str, pattern: str, repl: str, ignorecase: bool = False,
                  multiline: bool = False) -> str:
    flags = (re.I if ignorecase else 0) | (re.M if multiline else 0)
    return re.sub(pattern, repl, str(text), flags=flags)


def unique(values: Iterable[Any]) -> list[Any]:
    """The items of `values` without repeats, first occurrence order kept."""
    out: list[Any] = []
    for item in values:
        if item not in out:
            out.append(item)
    return out


def sequence(value: Any) -> list[Any]:
    """A list as-is, anything else wrapped in a one-item list."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


def load_yaml_text(text: str) -> Any:
    from core.yamlload import load_yaml
    return load_yaml(str(text), "<load_yaml filter>")


def load_json_text(text: str) -> Any:
    return json.loads(str(text))


def _hash(algorithm: str) -> Callable[[Any], str]:
    def digest(value: Any) -> str:
        data = value.encode() if isinstance(value, str) else bytes(value)
        return hashlib.new(algorithm, data).hexdigest()
    digest.__name__ = algorithm
    return digest


def base64_encode(value: Any) -> str:
    data = value.encode() if isinstance(value, str) else bytes(value)
    return base64.b64encode(data).decode()


def base64_decode(value: str) -> str:
    return base64.b64decode(str(value)).decode()


def is_list(value: Any) -> bool:
    return isinstance(value, (list, tuple))


def dict_to_sls_yaml_params(value: Mapping[str, Any], flow_style: bool = False) -> str:
    """`{'a': 1}` -> "- a: 1": a dict as a list of one-key dicts, the SLS argument form."""
    return _dump_yaml([{k: v} for k, v in value.items()], default_flow_style=flow_style)


FILTERS: dict[str, Callable[..., Any]] = {
    "yaml": format_yaml,
    "json": format_json,
    "json_encode": format_json,
    "tojson": tojson,
    "yaml_encode": yaml_encode,
    "yaml_dquote": yaml_dquote,
    "yaml_squote": yaml_squote,
    "to_bool": to_bool,
    "quote": shlex.quote,
    "regex_search": regex_search,
    "regex_match": regex_match,
    "regex_replace": regex_replace,
    "unique": unique,
    "sequence": sequence,
    "traverse": traverse,
    "load_yaml": load_yaml_text,
    "load_json": load_json_text,
    "md5": _hash("md5"),
    "sha1": _hash("sha1"),
    "sha256": _hash("sha256"),
    "sha512": _hash("sha512"),
    "base64_encode": base64_encode,
    "base64_decode": base64_decode,
    "is_list": is_list,
    "dict_to_sls_yaml_params": dict_to_sls_yaml_params,
}

TESTS: dict[str, Callable[..., Any]] = {
    "list": is_list,
    "match": lambda value, pattern, ignorecase=False: bool(
        re.match(pattern, str(value), re.I if ignorecase else 0)),
}
