"""Which minions a target names: Salt's glob, list, grain, pcre and compound matchers.

Pure functions over a minion id and its grains; the master uses them to pick minions for
a job and to read top.sls, the minion uses them to read top.sls in masterless mode.

    >>> matches("web1", {}, "web*")
    True
    >>> matches("db1", {"os": "Debian"}, "G@os:Debian and not web*", "compound")
    True
"""
from __future__ import annotations

import fnmatch
import re
from typing import Any, Mapping

from core.datamerge import traverse as grain_value  # `a:b:c` lookup, as grains.get and pillar.get
from core.errors import LinkpeekError

TARGET_TYPES = ("glob", "list", "grain", "pcre", "grain_pcre", "compound")


class TargetError(LinkpeekError):
    """A target expression that cannot be parsed."""


def matches(minion_id: str, grains: Mapping[str, Any], target: str, tgt_type: str = "glob") -> bool:
    """Whether the minion with this id and these grains is named by `target`."""
    if tgt_type == "glob":
        return fnmatch.fnmatchcase(minion_id, target)
    if tgt_type == "list":
        names = target if isinstance(target, (list, tuple)) else str(target).split(",")
        return minion_id in {n.strip() for n in names if n.strip()}
    if tgt_type == "pcre":
        return _regex_match(target, minion_id)
    if tgt_type == "grain":
        return _grain_match(grains, target, regex=False)
    if tgt_type == "grain_pcre":
        return _grain_match(grains, target, regex=True)
    if tgt_type == "compound":
        return _compound_match(minion_id, grains, target)
    raise TargetError(f"unknown target type {tgt_type!r}; use one of {', '.join(TARGET_TYPES)}")


def uses_grains(target: str, tgt_type: str = "glob") -> bool:
    """Whether matching `target` reads grains (which the minion reports about itself)."""
    if tgt_type == "compound":
        return any(len(tok) > 2 and tok[1] == "@" and _ENGINES.get(tok[0]) in _GRAIN_TYPES
                   for tok in _tokenize(str(target)))
    return tgt_type in _GRAIN_TYPES


def select(minions: Mapping[str, Mapping[str, Any]], target: str, tgt_type: str = "glob") -> list[str]:
    """The ids among `minions` (id -> grains) that `target` names, sorted."""
    return sorted(mid for mid, grains in minions.items() if matches(mid, grains or {}, target, tgt_type))


def _regex_match(pattern: str, value: str) -> bool:
    try:
        return re.match(pattern, value) is not None
    except re.error as exc:
        raise TargetError(f"bad regular expression {pattern!r}: {exc}") from exc


def _grain_match(grains: Mapping[str, Any], expr: str, regex: bool) -> bool:
    """`key:sub:pattern`: the last `:` splits the path from the pattern."""
    if ":" not in expr:
        raise TargetError(f"grain target {expr!r} needs the form key:value")
    path, pattern = expr.rsplit(":", 1)
    value = grain_value(grains, path)
    if value is None:
        return False
    candidates = value if isinstance(value, list) else [value]
    for item in candidates:
        if isinstance(item, (dict, list)):
            continue
        text = str(item)
        if regex and _regex_match(pattern, text):
            return True
        if not regex and fnmatch.fnmatchcase(text.lower(), pattern.lower()):
            return True
    return False


_ENGINES = {"G": "grain", "P": "grain_pcre", "L": "list", "E": "pcre"}
_GRAIN_TYPES = ("grain", "grain_pcre")


def _compound_match(minion_id: str, grains: Mapping[str, Any], expr: str) -> bool:
    tokens = _tokenize(expr)
    if not tokens:
        raise TargetError("empty compound target")
    pos = 0

    def term() -> bool:
        nonlocal pos
        if pos >= len(tokens):
            raise TargetError(f"compound target {expr!r} ends too early")
        tok = tokens[pos]
        pos += 1
        if tok == "not":
            return not term()
        if tok == "(":
            value = disjunction()
            if pos >= len(tokens) or tokens[pos] != ")":
                raise TargetError(f"compound target {expr!r} is missing ')'")
            pos += 1
            return value
        if tok in ("and", "or", ")"):
            raise TargetError(f"compound target {expr!r}: unexpected {tok!r}")
        return _word(minion_id, grains, tok)

    def conjunction() -> bool:
        nonlocal pos
        value = term()
        while pos < len(tokens) and tokens[pos] == "and":
            pos += 1
            rhs = term()
            value = value and rhs
        return value

    def disjunction() -> bool:
        nonlocal pos
        value = conjunction()
        while pos < len(tokens) and tokens[pos] == "or":
            pos += 1
            rhs = conjunction()
            value = value or rhs
        return value

    result = disjunction()
    if pos != len(tokens):
        raise TargetError(f"compound target {expr!r}: unexpected {tokens[pos]!r}")
    return result


def _tokenize(expr: str) -> list[str]:
    out: list[str] = []
    for word in expr.split():
        while word.startswith("(") and len(word) > 1:
            out.append("(")
            word = word[1:]
        tail = 0
        while word.endswith(")") and len(word) > 1:
            word = word[:-1]
            tail += 1
        out.append(word)
        out.extend(")" * tail)
    return out


def _word(minion_id: str, grains: Mapping[str, Any], word: str) -> bool:
    if len(word) > 2 and word[1] == "@" and word[0] in _ENGINES:
        return matches(minion_id, grains, word[2:], _ENGINES[word[0]])
    if len(word) > 2 and word[1] == "@":
        raise TargetError(f"unsupported matcher {word[:2]!r} in compound target; use G@, P@, L@ or E@")
    return fnmatch.fnmatchcase(minion_id, word)
