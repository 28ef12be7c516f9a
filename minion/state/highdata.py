"""From SLS files to high data: render each SLS, follow `include`, apply `extend`.

High data has Salt's shape, one entry per ID, in declaration order:

    {"nginx": {"pkg": ["installed", {"version": "1.24.0"}], "__sls__": "web", "__env__": "base"}}

Rules (Salt's): included SLS come before the file that includes them, each SLS once;
`.x` includes are relative to the including SLS; `exclude` drops IDs or whole SLS
after extend; an include that names no file, two
SLS files declaring the same ID, and an `extend` of an unknown ID are errors, all
collected (a render error stops at once: the file could not be read at all).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any, Callable

from core.slsname import resolve_relative
from minion.state.contract import REQUISITES, REQUISITES_ANY, REQUISITES_IN
from minion.state.tree import SlsNotFound, StateTree

RESERVED_KEYS = ("include", "extend", "exclude")
LIST_ARGS_EXTENDED = frozenset(REQUISITES + REQUISITES_IN + REQUISITES_ANY)


@dataclass(frozen=True)
class Where:
    """Where an ID was declared: its SLS name, file (relative to the tree) and line."""
    sls: str
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class HighData:
    """The result of reading SLS files: high data, where each ID is, and every error found."""
    high: dict[str, dict[str, Any]] = field(default_factory=dict)
    where: dict[str, Where] = field(default_factory=dict)
    sls: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # SLS name -> the SLS that included it on the way to its first rendering, nearest first
    # (Salt's __sls_included_from__: `require: - sls: web` covers what web includes too)
    included_from: dict[str, list[str]] = field(default_factory=dict)
    # Salt's automatic order of each (ID, state module) declared without `order`: 10000, ...
    # in rendering order (an excluded ID used its number too, as in Salt)
    auto_order: dict[tuple[str, str], int] = field(default_factory=dict)
    # Each ID's place in Salt's high data: a file's own IDs, then what it includes
    salt_position: dict[str, int] = field(default_factory=dict)
    # What Salt's show_highstate shows, which is before extend and exclude: the bodies of the
    # IDs those changed, as declared; the extend blocks ({id: {__sls__, __env__, state: [...]}})
    # and the exclude items
    unextended: dict[str, dict[str, Any]] = field(default_factory=dict)
    extend_blocks: list[dict[str, Any]] = field(default_factory=list)
    exclude_items: list[Any] = field(default_factory=list)


ContextFactory = Callable[[str, str], dict]   # (sls name, file relative to the tree) -> context


def read_high(tree: StateTree, sls_names: list[str], context_for: ContextFactory) -> HighData:
    """Render `sls_names` (and what they include) into high data, then apply every extend.

    `context_for(sls, relpath)` gives the Jinja context of one SLS. Raises RenderError at the first
    file that does not render; other problems are collected in `HighData.errors`.
    """
    reader = _Reader(tree, context_for)
    for name in sls_names:
        reader.add(name, requested_by=None)
    reader.apply_extends()
    reader.apply_excludes()
    return reader.result


class _Reader:
    def __init__(self, tree: StateTree, context_for: ContextFactory) -> None:
        self.tree = tree
        self.context_for = context_for
        self.result = HighData()
        self.visited: set[str] = set()
        self.extends: list[tuple[Where, Any]] = []
        self.excludes: list[tuple[Where, Any]] = []
        self.next_order = 10000

    def add(self, name: str, requested_by: str | None, chain: tuple[str, ...] = ()) -> None:
        from core.render import render_sls_located

        if name in self.visited:
            return
        self.visited.add(name)
        if chain:  # as Salt records it: the includers on the way to its first rendering
            self.result.included_from[name] = [s for s in reversed(chain) if s != name]
        try:
            text, relpath = self.tree.read(name)
        except SlsNotFound as exc:
            prefix = f"{requested_by}: include of " if requested_by else ""
            self.result.errors.append(f"{prefix}{exc.errors[0]}")
            return
        data, lines = render_sls_located(text, relpath, self.context_for(name, relpath),
                                         self.tree.root)
        if data is None:
            self.result.sls.append(name)
            return
        if not isinstance(data, Mapping):
            self.result.errors.append(f"{relpath}:1: an SLS must be a mapping of IDs, "
                                      f"not a {type(data).__name__}")
            return

        def where(key: Any) -> Where:
            return Where(name, relpath, lines.get(key) or lines.get(str(key)) or 1)

        for raw_id in data:
            if raw_id not in RESERVED_KEYS:
                self.result.salt_position.setdefault(str(raw_id), len(self.result.salt_position))
        for inc in _as_list(data.get("include")):
            self._include(name, relpath, inc, where("include"), (*chain, name))
        for item in _as_list(data.get("exclude")):
            self.excludes.append((where("exclude"), item))
        if "extend" in data:
            if isinstance(data["extend"], Mapping):
                self.extends.append((where("extend"), data["extend"]))
            else:
                self.result.errors.append(f"{where('extend')}: `extend` must map IDs to states")
        self.result.sls.append(name)
        for raw_id, body in data.items():
            if raw_id in RESERVED_KEYS:
                continue
            self._declare(str(raw_id), body, where(raw_id))

    def _include(self, sls: str, relpath: str, inc: Any, where: Where,
                 chain: tuple[str, ...]) -> None:
        if isinstance(inc, Mapping) and len(inc) == 1:
            inc = next(iter(inc))  # `- web: {defaults: ...}`: the name; options are not supported
        if not isinstance(inc, str) or not inc:
            self.result.errors.append(f"{where}: include item {inc!r} is not an SLS name")
            return
        target = resolve_relative(sls, relpath, inc)
        if target is None:
            self.result.errors.append(f"{where}: include {inc!r} goes above the top of the tree")
            return
        if any(c in target for c in "*?["):
            matched = [n for n in self.tree.glob(target) if n != sls]
            if not matched:
                self.result.errors.append(f"{where}: include {inc!r} matches no SLS")
            for name in matched:
                self.add(name, requested_by=str(where), chain=chain)
            return
        self.add(target, requested_by=str(where), chain=chain)

    def _declare(self, state_id: str, body: Any, where: Where) -> None:
        states, errors = normalise_body(state_id, body, where, need_function=True)
        self.result.errors.extend(errors)
        for state, items in states.items():
            if not any(isinstance(i, Mapping) and "order" in i for i in items):
                self.result.auto_order.setdefault((state_id, state), self.next_order)
                self.next_order += 1
        if state_id in self.result.high:
            first = self.result.where[state_id]
            self.result.errors.append(
                f"conflicting ID {state_id!r}: declared in {first} (SLS {first.sls}) "
                f"and in {where} (SLS {where.sls}); IDs must be unique across SLS files")
            return
        states["__sls__"] = where.sls
        states["__env__"] = "base"
        self.result.high[state_id] = states
        self.result.where[state_id] = where

    def apply_extends(self) -> None:
        import copy

        for where, extend in self.extends:
            block: dict[str, Any] = {}
            for raw_id, body in extend.items():
                state_id = str(raw_id)
                target = self.result.high.get(state_id)
                if target is None:
                    self.result.errors.append(
                        f"{where}: cannot extend ID {state_id!r}: no SLS in this run declares it")
                    continue
                states, errors = normalise_body(state_id, body, where, need_function=False)
                self.result.errors.extend(errors)
                self.result.unextended.setdefault(state_id, copy.deepcopy(target))
                block[state_id] = {"__sls__": where.sls, "__env__": "base",
                                   **copy.deepcopy(states)}
                for state, ext_list in states.items():
                    _extend_state(target, state, ext_list)
            if block:
                self.result.extend_blocks.append(block)

    def apply_excludes(self) -> None:
        """`exclude: [- sls: name, - id: name]` drops those IDs from the run (after extend)."""
        for where, item in self.excludes:
            kind, value = ("sls", item) if isinstance(item, str) else ("", None)
            if isinstance(item, Mapping) and len(item) == 1:
                kind, value = next(iter(item.items()))
            if kind not in ("sls", "id") or not isinstance(value, str):
                self.result.errors.append(
                    f"{where}: exclude item {item!r} is not `- sls: name` or `- id: name`")
                continue
            self.result.exclude_items.append(item)
            for state_id in [i for i, w in self.result.where.items()
                             if (w.sls if kind == "sls" else i) == value]:
                self.result.unextended.setdefault(state_id, self.result.high[state_id])
                del self.result.high[state_id]
                del self.result.where[state_id]


def _extend_state(target: dict[str, Any], state: str, ext_list: list[Any]) -> None:
    """Merge one state's extend list into the target: requisites append, other args overwrite."""
    current = target.get(state)
    if current is None:
        target[state] = list(ext_list)
        return
    for item in ext_list:
        if isinstance(item, str):
            at = next((i for i, old in enumerate(current) if isinstance(old, str)), None)
            if at is None:
                current.append(item)
            else:
                current[at] = item
            continue
        for key, value in item.items():
            existing = next((d for d in current if isinstance(d, dict) and key in d), None)
            if existing is None:
                current.append({key: value})
            elif key in LIST_ARGS_EXTENDED:
                existing[key] = _as_list(existing[key]) + _as_list(value)
            else:
                existing[key] = value


def normalise_body(state_id: str, body: Any, where: Where,
                   need_function: bool) -> tuple[dict[str, list[Any]], list[str]]:
    """One ID's body as `{state: [fun, {arg: value}, ...]}`, plus the errors found.

    Accepts Salt's forms: `pkg.installed` (a bare string), `pkg.installed: [args]`,
    `pkg.installed:` (nothing), and `pkg: [installed, {args}]`.
    """
    errors: list[str] = []
    out: dict[str, list[Any]] = {}
    label = f"{where}: ID {state_id!r}"
    if isinstance(body, str):
        body = {body: []}
    if not isinstance(body, Mapping):
        return out, [f"{label} must map state modules to arguments, not a {type(body).__name__}"]
    for key, value in body.items():
        key = str(key)
        if key.startswith("__"):
            continue
        state, _, fun = key.partition(".")
        if value is None:
            value = []
        if not isinstance(value, list):
            errors.append(f"{label}: `{key}` must be a list of arguments (- name: value)")
            continue
        funs = [fun] if fun else []
        items: list[Any] = []  # as written; a function named in the key goes last, as in Salt
        for item in value:
            if isinstance(item, str):
                funs.append(item)
                items.append(item)
            elif isinstance(item, Mapping):
                items.append({str(k): v for k, v in item.items()})
            else:
                errors.append(f"{label}: argument {item!r} of `{key}` is not `- name: value`")
        if state in out:
            errors.append(f"{label}: state module {state!r} is given twice")
            continue
        if len(funs) > 1:
            errors.append(f"{label}: state {state!r} names more than one function "
                          f"({', '.join(funs)})")
            continue
        if not funs and need_function:
            errors.append(f"{label}: state {state!r} names no function (e.g. {state}.managed)")
            continue
        out[state] = items + ([fun] if fun else [])
    if not out and not errors and need_function:
        errors.append(f"{label} declares no state")
    return out, errors


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]
