"""Turning what minions returned into terminal text, safely (SECURITY.md rule 10).

Minion-supplied text may carry escape sequences; every control character except
newline and tab is shown escaped, so a return cannot rewrite the operator's terminal.
"""
from __future__ import annotations

import json
import re
from typing import Any

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _yaml(value: Any) -> str:
    import yaml

    try:
        return yaml.safe_dump(value, default_flow_style=False, sort_keys=True, allow_unicode=True).rstrip("\n")
    except yaml.YAMLError:
        return json.dumps(value, indent=2, sort_keys=True, default=repr, ensure_ascii=False)


def escape_controls(text: str) -> str:
    """Replace control characters (but newline and tab) by visible escapes."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def terminal_safe(value: Any, indent: str = "    ") -> str:
    """A return value as indented, escaped text: strings as they are, scalars as Salt shows
    them (True, None, 3), maps and lists as block YAML."""
    if isinstance(value, str):
        text = value
    elif value is None or isinstance(value, (bool, int, float)):
        text = str(value)
    else:
        text = _yaml(value)
    text = escape_controls(text)
    return "\n".join(indent + line for line in text.splitlines() or [""])
