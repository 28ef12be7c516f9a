"""Debian version comparison (deb-version(7)) and Salt's version specs for pkg.installed.

    compare("1:2.0-1", "2.5")            -> 1   (the epoch wins)
    compare("1.0~rc1", "1.0")            -> -1  (~ sorts before anything)
    matches("1.6.2-1", "1.6*")           -> True   (a glob, as Salt takes it)
    matches("2.36-9", ">=2.30")          -> True   (<, <=, >, >=, ==, = then a version)
    best(["1.6-1", "1.7-2"], "<1.7")     -> "1.6-1" (the highest version that matches)
"""
from __future__ import annotations

import fnmatch
import re
from typing import Iterable

SPEC = re.compile(r"^(<=|>=|<|>|==|=)?\s*([0-9][A-Za-z0-9.+~:*-]*)$")


def _order(char: str) -> int:
    if char == "~":
        return -1
    if char.isalpha():
        return ord(char)
    return ord(char) + 256


def _compare_part(a: str, b: str) -> int:
    while a or b:
        non_a = re.match(r"^[^0-9]*", a).group(0)  # type: ignore[union-attr]
        non_b = re.match(r"^[^0-9]*", b).group(0)  # type: ignore[union-attr]
        for i in range(max(len(non_a), len(non_b))):
            ca = _order(non_a[i]) if i < len(non_a) else 0
            cb = _order(non_b[i]) if i < len(non_b) else 0
            if ca != cb:
                return -1 if ca < cb else 1
        a, b = a[len(non_a):], b[len(non_b):]
        num_a = re.match(r"^[0-9]*", a).group(0)  # type: ignore[union-attr]
        num_b = re.match(r"^[0-9]*", b).group(0)  # type: ignore[union-attr]
        if int(num_a or 0) != int(num_b or 0):
            return -1 if int(num_a or 0) < int(num_b or 0) else 1
        a, b = a[len(num_a):], b[len(num_b):]
    return 0


def _split(version: str) -> tuple[int, str, str]:
    epoch, colon, rest = version.partition(":")
    if not colon:
        epoch, rest = "0", version
    upstream, dash, revision = rest.rpartition("-")
    if not dash:
        upstream, revision = rest, ""
    return int(epoch) if epoch.isdigit() else 0, upstream, revision


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as dpkg --compare-versions orders `a` and `b`."""
    ea, ua, ra = _split(a)
    eb, ub, rb = _split(b)
    if ea != eb:
        return -1 if ea < eb else 1
    return _compare_part(ua, ub) or _compare_part(ra, rb)


def is_spec(value: str) -> bool:
    """Whether a pkg.installed version is a spec (glob or comparison), not one exact version."""
    found = SPEC.match(value.strip())
    return bool(found and (found.group(1) or "*" in found.group(2)))


def matches(version: str, spec: str) -> bool:
    found = SPEC.match(spec.strip())
    if not found:
        return False
    op, wanted = found.group(1) or "", found.group(2)
    if "*" in wanted:
        return fnmatch.fnmatchcase(version, wanted) or fnmatch.fnmatchcase(
            _split(version)[1], wanted)
    if op in ("", "=", "=="):
        return compare(version, wanted) == 0 or (
            "-" not in wanted and ":" not in wanted and _split(version)[1] == wanted)
    result = compare(version, wanted)
    return {"<": result < 0, "<=": result <= 0, ">": result > 0, ">=": result >= 0}[op]


def best(versions: Iterable[str], spec: str) -> str | None:
    """The highest of `versions` that `spec` matches, or None."""
    chosen: str | None = None
    for version in versions:
        if matches(version, spec) and (chosen is None or compare(version, chosen) > 0):
            chosen = version
    return chosen
