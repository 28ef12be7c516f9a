"""Argument checks shared by the state modules' `parse`.

A bad value raises StateArgError (the compiler turns it into a run-time failure of that state,
or a compile error in strict mode); an unknown argument goes to minion.state.argcheck.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from core.errors import StateArgError
from minion.state.argcheck import report_unknown

# Salt arguments that change nothing here (we accept them so existing SLS keep compiling).
IGNORED = frozenset(
    {
        "saltenv",
        "__env__",
        "output_loglevel",
        "hide_output",
        "reload_modules",
        "show_changes",
        "backup",
        "follow_symlinks",
        "encoding",
        "check_cmd",
        "attrs",
        "win_owner",
        "win_perms",
        "win_deny_perms",
        "win_inheritance",
        "tmp_ext",
        "__keep__",
        "use_vt",
        "quiet",
        "bg",
        "parallel",
        "retry",
        "fire_event",
        "reload_grains",
        "reload_pillar",
        "state_ret",
        "keep_source",
        "check_unless",
        "umask",
    }
)


def check_known(where: str, args: Mapping[str, Any], known: Iterable[str]) -> None:
    """Report every argument `where` (e.g. 'file.managed') does not take, naming what it takes:
    a warning while the compiler collects them, else StateArgError (minion.state.argcheck)."""
    allowed = set(known) | IGNORED
    unknown = sorted(k for k in args if k not in allowed)
    if unknown:
        report_unknown(where, unknown, ", ".join(sorted(set(known))))


def as_list(where: str, key: str, value: Any) -> tuple[str, ...]:
    """A string or a list of strings, as a tuple (Salt takes both for creates/unless/...)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float)) for v in value):
        return tuple(str(v) for v in value)
    raise StateArgError(f"{where}: {key} must be a string or a list of strings, not {value!r}")


def as_bool(where: str, key: str, value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in (
        "true",
        "yes",
        "on",
        "1",
        "false",
        "no",
        "off",
        "0",
    ):
        return value.lower() in ("true", "yes", "on", "1")
    raise StateArgError(f"{where}: {key} must be true or false, not {value!r}")


def as_str(where: str, key: str, value: Any, default: str | None = None) -> str | None:
    if value is None:
        return default
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    raise StateArgError(f"{where}: {key} must be a string, not {value!r}")


def one_line(key: str, value: Any) -> str:
    """`value` as text that cannot break out of its line (no newline, carriage return or NUL)."""
    text = str(value)
    if any(c in text for c in "\n\r\0"):
        raise StateArgError(f"{key} must be one line")
    return text


def as_regex(where: str, key: str, value: Any, *, blank_is_none: bool = False) -> re.Pattern[str] | None:
    """`value` compiled (None: not given; `blank_is_none`: "" counts as not given too)."""
    if value is None or blank_is_none and value == "":
        return None
    try:
        return re.compile(str(value))
    except re.error as exc:
        raise StateArgError(f"{where}: bad {key} {value!r}: {exc}") from None


def as_name_set(key: str, value: Any, kind: str) -> tuple[str, ...] | None:
    """A list of `kind` (user, group) names, sorted without repeats (None: not given)."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise StateArgError(f"{key} must be a list of {kind} names")
    return tuple(sorted(set(value)))
