"""Which minions a target names: Salt's glob, list, grain, pcre, pillar, ipcidr, nodegroup and
compound matchers.

Pure functions over a minion id, its grains, its pillar and the master's nodegroups; the master
uses them to pick minions for a job and to read top.sls, the minion to read top.sls.

    >>> matches("web1", {}, "web*")
    True
    >>> matches("db1", {"os": "Debian"}, "G@os:Debian and not web*", "compound")
    True
    >>> matches("db1", {"ipv4": ["10.0.0.7"]}, "S@10.0.0.0/24 and I@role:db", "compound",
    ...         pillar={"role": "db"})
    True
    >>> matches("web2", {}, "N@web", "compound", nodegroups={"web": "L@web1,web2"})
    True

In compound targets: G@ grain, P@ grain regex, I@ pillar, J@ pillar regex, L@ list, E@ id regex,
S@ subnet or address (the ipv4/ipv6 grains), N@ nodegroup (a compound expression, or a list of
its words, defined in the master's `nodegroups:`).
"""
from __future__ import annotations

import fnmatch
import re
from typing import Any, Mapping

from core.datamerge import traverse as grain_value  # `a:b:c` lookup, as grains.get and pillar.get
from core.errors import LinkpeekError

TARGET_TYPES = ("glob", "list", "grain", "pcre", "grain_pcre", "pillar", "pillar_pcre", "ipcidr",
                "nodegroup", "compound")
_OPERATORS = ("and", "or", "not", "(", ")")


class TargetError(LinkpeekError):
    """A target expression that cannot be parsed."""


def matches(minion_id: str, grains: Mapping[str, Any], target: str, tgt_type: str = "glob", *,
            pillar: Mapping[str, Any] | None = None,
            nodegroups: Mapping[str, Any] | None = None) -> bool:
    """Whether the minion with this id, grains and pillar is named by `target`. A pillar
    target without a pillar (None) is an error: the caller has none to match against."""
    if tgt_type in ("pillar", "pillar_pcre"):
        if pillar is None:
            raise TargetError(f"{tgt_type} targets cannot be used here (no pillar to match)")
        return _grain_match(pillar, target, regex=tgt_type == "pillar_pcre")
    if tgt_type == "ipcidr":
        return _ipcidr_match(grains, target)
    if tgt_type == "nodegroup":
        return _compound_match(minion_id, grains, nodegroup_expression(target, nodegroups),
                               pillar, nodegroups)
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
        return _compound_match(minion_id, grains, target, pillar, nodegroups)
    raise TargetError(f"unknown target type {tgt_type!r}; use one of {', '.join(TARGET_TYPES)}")


def uses_grains(target: str, tgt_type: str = "glob",
                nodegroups: Mapping[str, Any] | None = None) -> bool:
    """Whether matching `target` reads grains (which the minion reports about itself)."""
    return bool(_engines_used(target, tgt_type, nodegroups) & set(_GRAIN_TYPES))


def uses_pillar(target: str, tgt_type: str = "glob",
                nodegroups: Mapping[str, Any] | None = None) -> bool:
    """Whether matching `target` needs each minion's pillar (I@, J@)."""
    return bool(_engines_used(target, tgt_type, nodegroups) & {"pillar", "pillar_pcre"})


def _engines_used(target: str, tgt_type: str, nodegroups: Mapping[str, Any] | None) -> set[str]:
    if tgt_type == "nodegroup":
        target, tgt_type = nodegroup_expression(str(target), nodegroups), "compound"
    if tgt_type != "compound":
        return {tgt_type}
    used: set[str] = set()
    for tok in _tokenize(str(target)):
        if len(tok) > 2 and tok[1] == "@" and tok[0] == "N":
            used |= _engines_used(tok[2:], "nodegroup", nodegroups)
        elif len(tok) > 2 and tok[1] == "@" and tok[0] in _ENGINES:
            used.add(_ENGINES[tok[0]])
    return used


def nodegroup_expression(name: str, nodegroups: Mapping[str, Any] | None,
                         _seen: tuple[str, ...] = ()) -> str:
    """The compound expression a nodegroup stands for, its N@ references expanded."""
    groups = nodegroups or {}
    if name not in groups:
        known = ", ".join(sorted(map(str, groups))) or "none (set nodegroups: in master.yaml)"
        raise TargetError(f"unknown nodegroup {name!r}; known: {known}")
    if name in _seen:
        raise TargetError(f"nodegroup {name!r} refers to itself ({' -> '.join((*_seen, name))})")
    value = groups[name]
    if isinstance(value, (list, tuple)):
        words = [str(w) for w in value]
        value = " ".join(words) if any(w in _OPERATORS for w in words) else "L@" + ",".join(words)
    out: list[str] = []
    for tok in _tokenize(str(value)):
        if len(tok) > 2 and tok.startswith("N@"):
            out.append(f"( {nodegroup_expression(tok[2:], groups, (*_seen, name))} )")
        else:
            out.append(tok)
    return " ".join(out)


def select(minions: Mapping[str, Mapping[str, Any]], target: str, tgt_type: str = "glob", *,
           pillars: Mapping[str, Mapping[str, Any]] | None = None,
           nodegroups: Mapping[str, Any] | None = None) -> list[str]:
    """The ids among `minions` (id -> grains) that `target` names, sorted; `pillars` (id ->
    pillar) for I@ and J@ targets."""
    return sorted(mid for mid, grains in minions.items()
                  if matches(mid, grains or {}, target, tgt_type,
                             pillar=None if pillars is None else pillars.get(mid, {}),
                             nodegroups=nodegroups))


def _ipcidr_match(grains: Mapping[str, Any], target: str) -> bool:
    """S@10.0.0.0/24 or S@10.0.0.5: any of the minion's ipv4/ipv6 addresses in it."""
    import ipaddress  # only S@ targets need it; top.sls is read on every apply

    try:
        network = ipaddress.ip_network(str(target).strip(), strict=False)
    except ValueError:
        raise TargetError(f"{target!r} is not an address or a network (e.g. 10.0.0.0/24)") from None
    key = "ipv4" if network.version == 4 else "ipv6"
    addresses = grains.get(key) or []
    for address in addresses if isinstance(addresses, list) else [addresses]:
        try:
            if ipaddress.ip_address(str(address).split("%")[0]) in network:
                return True
        except ValueError:
            continue
    return False


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


_ENGINES = {"G": "grain", "P": "grain_pcre", "L": "list", "E": "pcre", "I": "pillar",
            "J": "pillar_pcre", "S": "ipcidr", "N": "nodegroup"}
_GRAIN_TYPES = ("grain", "grain_pcre", "ipcidr")


def _compound_match(minion_id: str, grains: Mapping[str, Any], expr: str,
                    pillar: Mapping[str, Any] | None = None,
                    nodegroups: Mapping[str, Any] | None = None) -> bool:
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
        return _word(minion_id, grains, tok, pillar, nodegroups)

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


def _word(minion_id: str, grains: Mapping[str, Any], word: str,
          pillar: Mapping[str, Any] | None, nodegroups: Mapping[str, Any] | None) -> bool:
    if len(word) > 2 and word[1] == "@" and word[0] in _ENGINES:
        return matches(minion_id, grains, word[2:], _ENGINES[word[0]], pillar=pillar,
                       nodegroups=nodegroups)
    if len(word) > 2 and word[1] == "@":
        raise TargetError(f"unsupported matcher {word[:2]!r} in compound target; use G@, P@, "
                          "I@, J@, L@, E@, S@ or N@")
    return fnmatch.fnmatchcase(minion_id, word)
