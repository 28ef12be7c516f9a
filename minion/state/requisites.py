"""From high data to ordered low chunks: names, requisites (and their _in forms), use, order.

A requisite item names its target as Salt allows:
    - pkg: nginx          a state module and an ID or a name (a glob if it has * ? [)
    - nginx               any state module, by ID or name
    - sls: web.nginx      every state declared in that SLS
    - id: nginx           any state module, by ID only
A target that is an ID with `names` covers every name. `X_in` on A naming B is `X` on B
naming A. `use` copies the used state's arguments (never its name or requisites) at
compile time and adds no edge; `listen` adds an edge but no ordering; `require_any`
(and watch_, onchanges_, onfail_any) are edges of that kind, their targets ordered first. Ordering is
Salt 3008's own (minion.state.saltorder): automatic orders 10000+ in declaration order mixed
with numbered ones, first / last, requisites and prereq check points in one topological sort.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from collections.abc import Iterable, Mapping
from typing import Any

from minion.state.contract import REQUISITES, REQUISITES_ANY, REQUISITES_IN, Edge, LowChunk
from minion.state.highdata import Where

# Edge kinds whose target runs before the holder, and those whose holder runs first.
ORDERING_BEFORE_HOLDER = ("require", "watch", "onchanges", "onfail") + REQUISITES_ANY
ORDERING_AFTER_HOLDER = ("prereq",)
CONTROL_ARGS = frozenset(("name", "names", "order", "failhard", "fun", "state", "__id__",
                          "__sls__", "__env__") + REQUISITES + REQUISITES_IN + REQUISITES_ANY)
_ORDER_FIRST, _ORDER_NUMBERED, _ORDER_DEFAULT, _ORDER_LAST = 0, 0, 1, 2


@dataclass
class Draft:
    """A low chunk under construction (mutable until the compiler freezes it)."""
    state: str
    fun: str
    id: str
    name: str
    sls: str
    args: dict[str, Any]
    where: Where
    decl: int
    order_key: tuple[int, float]
    failhard: bool
    requisites: list[tuple[str, Any]] = field(default_factory=list)   # (kind, raw value)
    edges: list[Edge] = field(default_factory=list)
    uses: list["Draft"] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    salt_order: Any = None    # `order` as written, else Salt's automatic one (10000, 10001, ...)
    given_by_in: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # X_in naming this
    included_from: tuple[str, ...] = ()   # the SLS that include this one's SLS (sls: requisites)
    cap_key: tuple[int, int] = (0, 0)     # where Salt meets this chunk when it computes its cap
    name_order: int = 0       # 1, 2, ... for the entries of `names`

    @property
    def tag(self) -> str:
        return f"{self.state}_|-{self.id}_|-{self.name}_|-{self.fun}"

    @property
    def label(self) -> str:
        named = f" (name {self.name!r})" if self.name != self.id else ""
        return f"{self.state}.{self.fun} {self.id!r}{named}"


def drafts_from_high(high: Mapping[str, Mapping[str, Any]], where: Mapping[str, Where],
                     opts: Mapping[str, Any], errors: list[str],
                     included_from: Mapping[str, list[str]] | None = None,
                     auto_order: Mapping[tuple[str, str], int] | None = None,
                     salt_position: Mapping[str, int] | None = None) -> list[Draft]:
    """One Draft per (ID, state module, name), in declaration order. `auto_order` and
    `salt_position` are Salt's automatic orders and high data positions (minion.state.highdata);
    without them, automatic orders follow declaration order."""
    from minion.state.saltorder import AUTO_ORDER_START

    drafts: list[Draft] = []
    global_failhard = bool(opts.get("failhard", False))
    auto = AUTO_ORDER_START
    for state_id, body in high.items():
        loc = where[state_id]
        for state, items in body.items():
            if state.startswith("__"):
                continue
            fun = next((i for i in items if isinstance(i, str)), None)
            if fun is None:
                errors.append(f"{loc}: ID {state_id!r}: state {state!r} names no function")
                continue
            merged: dict[str, Any] = {}
            for item in items:
                if isinstance(item, dict):
                    merged.update(item)
            order_key = _order_key(merged.get("order"), state_id, loc, errors)
            salt_order = merged.get("order")
            if salt_order is None and auto_order is not None:
                salt_order = auto_order.get((state_id, state))
            elif salt_order is None:
                salt_order, auto = auto, auto + 1
            position = (salt_position or {}).get(state_id, len(drafts))
            requisites = [(k, merged[k]) for k in merged if k in REQUISITES or k in REQUISITES_IN
                          or k in REQUISITES_ANY]
            failhard = bool(merged.get("failhard", global_failhard))
            base_args = {k: v for k, v in merged.items() if k not in CONTROL_ARGS}
            named = "names" in merged
            for pos, (name, extra) in enumerate(_names(state_id, merged, loc, errors), 1):
                args = {**base_args, **{k: v for k, v in extra.items() if k not in CONTROL_ARGS}}
                own = [(k, v) for k, v in extra.items() if k in REQUISITES or k in REQUISITES_IN
                       or k in REQUISITES_ANY]
                drafts.append(Draft(state, fun, state_id, name, loc.sls, args, loc, len(drafts),
                                    order_key, failhard, requisites + own,
                                    salt_order=salt_order,
                                    name_order=pos if named else 0,
                                    cap_key=(position, len(drafts)),
                                    included_from=tuple((included_from or {}).get(loc.sls, ()))))
    seen: dict[str, Draft] = {}
    for draft in drafts:
        if draft.tag in seen:
            errors.append(f"{draft.where}: {draft.label} is declared twice "
                          "(same state, ID and name)")
        seen[draft.tag] = draft
    return drafts


def _names(state_id: str, args: Mapping[str, Any], loc: Where,
           errors: list[str]) -> list[tuple[str, dict[str, Any]]]:
    names = args.get("names")
    if names is None:
        return [(_as_name(args.get("name", state_id)), {})]
    if not isinstance(names, list) or not names:
        errors.append(f"{loc}: ID {state_id!r}: `names` must be a non-empty list")
        return []
    out: list[tuple[str, dict[str, Any]]] = []
    for item in names:
        if isinstance(item, Mapping) and len(item) == 1:
            name, extra = next(iter(item.items()))
            if isinstance(extra, list):
                merged: dict[str, Any] = {}
                for piece in extra:
                    if isinstance(piece, Mapping):
                        merged.update(piece)
                extra = merged
            if extra is not None and not isinstance(extra, Mapping):
                errors.append(f"{loc}: ID {state_id!r}: arguments of name {name!r} must be "
                              "`- arg: value` items")
                continue
            out.append((_as_name(name), dict(extra or {})))
        elif isinstance(item, (str, int, float)):
            out.append((_as_name(item), {}))
        else:
            errors.append(f"{loc}: ID {state_id!r}: `names` item {item!r} is not a name")
    return out


def _as_name(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _order_key(value: Any, state_id: str, loc: Where, errors: list[str]) -> tuple[int, float]:
    if value is None:
        return (_ORDER_DEFAULT, 0)
    if value == "first":
        return (_ORDER_FIRST, float("-inf"))
    if value == "last":
        return (_ORDER_LAST, 0)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (_ORDER_NUMBERED, float(value))
    errors.append(f"{loc}: ID {state_id!r}: `order` must be first, last or a number, not {value!r}")
    return (_ORDER_DEFAULT, 0)


class _Index:
    """Find the drafts a requisite item names."""

    def __init__(self, drafts: list[Draft]) -> None:
        self.drafts = drafts
        self.by_key: dict[tuple[str, str], list[Draft]] = {}
        self.by_sls: dict[str, list[Draft]] = {}
        self.by_id: dict[str, list[Draft]] = {}
        for d in drafts:
            for key in {(d.state, d.id), (d.state, d.name), ("*", d.id), ("*", d.name)}:
                self.by_key.setdefault(key, []).append(d)
            for sls in (d.sls, *d.included_from):
                self.by_sls.setdefault(sls, []).append(d)
            self.by_id.setdefault(d.id, []).append(d)

    def find(self, kind: str, target: str) -> list[Draft]:
        glob = any(c in target for c in "*?[")
        if kind == "sls":
            if glob:
                return [d for d in self.drafts
                        if any(fnmatch.fnmatchcase(s, target) for s in (d.sls, *d.included_from))]
            return list(self.by_sls.get(target, ()))
        if kind == "id":
            if glob:
                return [d for d in self.drafts if fnmatch.fnmatchcase(d.id, target)]
            return list(self.by_id.get(target, ()))
        if glob:
            return [d for d in self.drafts if (kind == "*" or d.state == kind)
                    and (fnmatch.fnmatchcase(d.id, target) or fnmatch.fnmatchcase(d.name, target))]
        return list(self.by_key.get((kind, target), ()))


def resolve_requisites(drafts: list[Draft], errors: list[str]) -> None:
    """Turn every requisite into edges (and `use` into copied arguments); collect errors."""
    index = _Index(drafts)
    for holder in drafts:
        for key, raw in holder.requisites:
            reverse = key.endswith("_in")
            kind = key[:-3] if reverse else key
            for item_kind, target in _requisite_items(raw, holder, key, errors):
                found = [d for d in index.find(item_kind, target) if d is not holder]
                if not found:
                    shown = target if item_kind == "*" else f"{item_kind}: {target}"
                    errors.append(f"{holder.where}: {holder.label} has `{key}: {shown}`, "
                                  f"but no state in this run matches it")
                    continue
                for other in found:
                    src, dst = (other, holder) if reverse else (holder, other)
                    if reverse:
                        other.given_by_in.append((kind, {holder.state: holder.id}))
                    if kind == "use":
                        src.uses.append(dst)
                    else:
                        src.edges.append(Edge(kind, dst.tag))
    originals = {id(d): dict(d.args) for d in drafts}
    for draft in drafts:
        for used in draft.uses:
            for arg, value in originals[id(used)].items():
                draft.args.setdefault(arg, value)
        draft.edges = list(dict.fromkeys(draft.edges))


def _requisite_items(raw: Any, holder: Draft, key: str,
                     errors: list[str]) -> Iterable[tuple[str, str]]:
    items = raw if isinstance(raw, list) else [] if raw is None else [raw]
    for item in items:
        if isinstance(item, (str, int)) and not isinstance(item, bool):
            yield "*", str(item)
        elif isinstance(item, Mapping):
            for kind, target in item.items():
                if isinstance(target, (str, int)) and not isinstance(target, bool):
                    yield str(kind), str(target)
                else:
                    errors.append(f"{holder.where}: {holder.label}: `{key}` item {item!r} "
                                  "must name one target (- module: id)")
        else:
            errors.append(f"{holder.where}: {holder.label}: `{key}` item {item!r} is not "
                          "`- module: id`, `- id` or `- sls: name`")


def order_drafts(drafts: list[Draft], errors: list[str]) -> list[Draft]:
    """Execution order exactly as Salt 3008 computes it (minion.state.saltorder); a cycle is
    reported as an error naming its states (and nothing is returned)."""
    from minion.state.saltorder import SaltOrder

    chunks = [{"tag": d.tag, "order": d.salt_order, "name_order": d.name_order,
               "label": f"{d.state}{d.name}{d.fun}", "cap_key": d.cap_key,
               "reqs": [(e.kind, e.target) for e in d.edges]} for d in drafts]
    tags = SaltOrder(chunks).sorted_tags()
    if tags is None:
        return _order_depth_first(drafts, errors)
    by_tag = {d.tag: d for d in drafts}
    for chunk in chunks:
        by_tag[chunk["tag"]].salt_order = chunk["order"]
    return [by_tag[t] for t in tags]


def _order_depth_first(drafts: list[Draft], errors: list[str]) -> list[Draft]:
    """States by (order key, declaration), each one's prerequisites pulled in just before it
    (depth first); used to name the states of a cycle."""
    by_tag = {d.tag: i for i, d in enumerate(drafts)}
    before: list[list[int]] = [[] for _ in drafts]   # before[i]: nodes that must run before i
    for i, d in enumerate(drafts):
        for edge in d.edges:
            j = by_tag[edge.target]
            if edge.kind in ORDERING_BEFORE_HOLDER:
                before[i].append(j)
            elif edge.kind in ORDERING_AFTER_HOLDER:
                before[j].append(i)

    def key(i: int) -> tuple[tuple[int, float], int]:
        return drafts[i].order_key, drafts[i].decl

    for preds in before:
        preds.sort(key=key)
    placed = [False] * len(drafts)
    on_stack = [False] * len(drafts)
    out: list[Draft] = []
    for root in sorted(range(len(drafts)), key=key):
        if placed[root]:
            continue
        stack: list[tuple[int, int]] = [(root, 0)]
        on_stack[root] = True
        while stack:
            node, pos = stack[-1]
            preds = before[node]
            while pos < len(preds) and placed[preds[pos]]:
                pos += 1
            if pos == len(preds):
                stack.pop()
                on_stack[node] = False
                placed[node] = True
                out.append(drafts[node])
                continue
            stack[-1] = (node, pos + 1)
            nxt = preds[pos]
            if on_stack[nxt]:
                path = [n for n, _ in stack]
                cycle = path[path.index(nxt):]
                errors.append(_describe_cycle(drafts, cycle))
                return []
            on_stack[nxt] = True
            stack.append((nxt, 0))
    return out


def _describe_cycle(drafts: list[Draft], waits_for: list[int]) -> str:
    """Name the states of a cycle, given as a chain where each waits for the next."""
    cycle = list(reversed(waits_for))
    cycle.append(cycle[0])
    steps = " -> ".join(f"{drafts[i].label} ({drafts[i].where})" for i in cycle)
    return f"requisite cycle (each must run before the next): {steps}"


def _as_written(draft: Draft) -> tuple[tuple[str, Any], ...]:
    written: dict[str, Any] = {}
    for key, raw in draft.requisites:
        written[key] = raw
    for kind, item in draft.given_by_in:
        if kind == "listen":  # Salt's listen_in stays on its holder only
            continue
        current = written.get(kind)
        items = list(current) if isinstance(current, list) else [] if current is None else [current]
        written[kind] = [*items, item]
    return tuple(written.items())


def freeze(ordered: list[Draft]) -> list[LowChunk]:
    """The LowChunks, in execution order, `order` set to each one's position."""
    return [LowChunk(state=d.state, fun=d.fun, id=d.id, name=d.name, sls=d.sls, args=d.args,
                     edges=tuple(d.edges), order=pos, failhard=d.failhard, source=str(d.where),
                     warnings=tuple(d.warnings), salt_order=d.salt_order,
                     requisites=_as_written(d), included_from=d.included_from)
            for pos, d in enumerate(ordered)]
