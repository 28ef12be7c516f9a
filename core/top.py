"""Read a top.sls: which SLS names apply to one minion (used for states and for pillar).

    base:
      '*':                 # compound by default, so a plain glob works
        - common
      'os:Debian':
        - match: grain
        - debian
      'web1,web2':
        - match: list
        - web

Only the `base` environment is read. The result is the SLS names matched, in
first-match order (targets in file order, names in list order), each once.
"""
from __future__ import annotations

from typing import Any, Mapping

from core.errors import RenderError
from core.targeting import TARGET_TYPES, TargetError, matches, uses_grains

MATCHERS = TARGET_TYPES


def render_top(text: str, source: str, minion_id: str, grains: Mapping[str, Any],
               pillar: Mapping[str, Any], opts: Mapping[str, Any] | None = None,
               tree_root: str | None = None, *, trust_grains: bool = True,
               grain_only: set[str] | None = None) -> list[str]:
    """Render a top.sls (Jinja, YAML) and return the SLS names it gives this minion."""
    from core.render import render_sls_located, sls_context

    context = sls_context(minion_id, grains, pillar, opts, "")
    data, lines = render_sls_located(text, source, context, tree_root)
    return top_sls_names(data, source, minion_id, grains, pillar=pillar, lines=lines,
                         trust_grains=trust_grains, grain_only=grain_only,
                         nodegroups=(opts or {}).get("nodegroups") or {})


def top_sls_names(top: Any, source: str, minion_id: str, grains: Mapping[str, Any], *,
                  pillar: Mapping[str, Any] | None = None, lines: Mapping[Any, int] | None = None,
                  trust_grains: bool = True, grain_only: set[str] | None = None,
                  nodegroups: Mapping[str, Any] | None = None) -> list[str]:
    """The SLS names that the top data gives the minion `minion_id` with `grains`. Targets may
    be any of core.targeting's (I@/J@ read `pillar`, N@ the master's `nodegroups`).

    With `trust_grains=False` (the master compiling pillar: grains are minion-supplied and
    must never decide who gets which secret) a grain match is refused as an error, unless the
    caller passes a `grain_only` set: it then receives the names that only a grain match gave,
    so that the caller can refuse secrets in those.
    """
    where = f"{source}:{(lines or {}).get('base', 1)}"
    if top is None:
        return []
    if not isinstance(top, Mapping):
        raise RenderError("top.sls must be a mapping of environments (base: ...)", location=source)
    base = top.get("base")
    if base is None:
        return []
    if not isinstance(base, Mapping):
        raise RenderError("`base` must map targets to lists of SLS names", location=where)
    result: list[str] = []
    seen: set[str] = set()
    trusted: set[str] = set()
    for target, items in base.items():
        names, matcher = _split_entry(target, items, where)
        try:
            by_grain = uses_grains(str(target), matcher, nodegroups)
        except TargetError as exc:
            raise RenderError(f"target {target!r}: {exc}", location=where) from None
        if not trust_grains and by_grain and grain_only is None:
            raise RenderError(f"target {target!r}: grain matching is refused here (grains are "
                              "reported by the minion and must not decide who gets secrets)",
                              location=where)
        try:
            hit = matches(minion_id, grains, str(target), matcher, pillar=pillar or {},
                          nodegroups=nodegroups)
        except TargetError as exc:
            raise RenderError(f"target {target!r}: {exc}", location=where) from None
        if not hit:
            continue
        if not by_grain:
            trusted.update(names)
        for name in names:
            if name not in seen:
                seen.add(name)
                result.append(name)
    if grain_only is not None:
        grain_only.update(n for n in result if n not in trusted)
    return result


def _split_entry(target: Any, items: Any, where: str) -> tuple[list[str], str]:
    """(SLS names, matcher) of one `target: [- match: x, - sls, ...]` entry."""
    if isinstance(items, str):
        items = [items]
    if not isinstance(items, list):
        raise RenderError(f"target {target!r} must list SLS names", location=where)
    matcher = "compound"
    names: list[str] = []
    for item in items:
        if isinstance(item, Mapping):
            if "match" in item:
                matcher = str(item["match"])
                if matcher not in MATCHERS:
                    raise RenderError(f"target {target!r}: unknown match type {matcher!r}; "
                                      f"use one of {', '.join(MATCHERS)}", location=where)
            continue  # other options (e.g. `- ignore_missing`) are accepted and have no effect
        if not isinstance(item, str) or not item:
            raise RenderError(f"target {target!r}: {item!r} is not an SLS name", location=where)
        names.append(item)
    return names, matcher
