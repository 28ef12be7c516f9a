"""Execution order exactly as Salt 3008 computes it (salt/utils/requisite.py, observed and
re-derived here, not copied):

1. Every (ID, state module) declared without `order` gets an automatic one, 10000, 10001, ...
   in declaration order (an included SLS before the file including it); `names` entries add
   k/10000 (k = 1, 2, ...) to their state's order.
2. `cap` is found by walking the chunks: an integer order >= cap sets cap to order + 100.
   `first` is 0, `last` is cap + 1000000, a negative order n is cap + 1000000 + n.
3. A graph: a requisite target points at its holder; `A prereq B` adds a check node for B
   (which inherits B's other dependencies) pointing at A, and A pointing at B.
4. A node's sort key is (the smaller of its own order and the orders of the nodes it points
   at over its strongest requisite kind, its own order), then "state name fun"; Kahn's
   algorithm takes the ready node with the smallest key each time.

The check nodes are dropped from the result; the runner checks a prereq target when it reaches
the holder (that is where Salt's check node ends up: just before the holder).
"""
from __future__ import annotations

import heapq
from typing import Any, Sequence

# The strength of each requisite kind when a node borrows its dependents' order (Salt's order
# of precedence: the later, the stronger).
WEIGHT = {kind: n for n, kind in enumerate((
    "onfail", "onfail_any", "onfail_all", "require", "require_any", "onchanges",
    "onchanges_any", "watch", "watch_any", "prereq", "prerequired", "listen"))}
# The order in which Salt adds each chunk's requisites to the graph.
KINDS_ADDED = ("require", "require_any", "watch", "watch_any", "prereq", "onfail", "onfail_any",
               "onfail_all", "onchanges", "onchanges_any")
AUTO_ORDER_START = 10000


def compute_cap(orders: Sequence[Any]) -> int:
    cap = 1
    for order in orders:
        if isinstance(order, int) and not isinstance(order, bool) and order > cap - 1 and order > 0:
            cap = order + 100
    return cap


def _normal(order: Any, cap: int) -> float:
    """A raw order as Salt reads a dependent's: first/last/missing mapped, nothing else."""
    if isinstance(order, (int, float)) and not isinstance(order, bool):
        return order
    if order == "last":
        return cap + 1000000
    if order == "first":
        return 0
    return cap


class _Node:
    __slots__ = ("chunk", "out", "indeg", "child_min")

    def __init__(self, chunk: dict[str, Any]) -> None:
        self.chunk = chunk                   # shared by a chunk and its prereq check node
        self.out: dict[str, list[str]] = {}  # target -> requisite kinds, in insertion order
        self.indeg = 0
        self.child_min: float | None = None


class SaltOrder:
    """chunks: dicts with tag, order (raw), name_order, label, and `reqs` [(kind, tag)]."""

    def __init__(self, chunks: list[dict[str, Any]]) -> None:
        in_salts_order = sorted(chunks, key=lambda c: c.get("cap_key", (0, 0)))
        self.cap = compute_cap([c["order"] for c in in_salts_order])
        self.nodes: dict[str, _Node] = {c["tag"]: _Node(c) for c in chunks}
        self.prereq_target: set[str] = set()
        for chunk in chunks:
            for kind in KINDS_ADDED:
                for kind_of, target in chunk["reqs"]:
                    if kind_of == kind and target in self.nodes:
                        self._add(chunk["tag"], kind, target)

    def _edge(self, source: str, target: str, kind: str) -> None:
        kinds = self.nodes[source].out.setdefault(target, [])
        if kind not in kinds:  # a multigraph keyed by kind: the same kind twice is one edge
            kinds.append(kind)
            self.nodes[target].indeg += 1

    def _add(self, holder: str, kind: str, target: str) -> None:
        if kind != "prereq":
            if holder in self.prereq_target:
                self._edge(target, _check(holder), kind)
            self._edge(target, holder, kind)
            return
        check = _check(target)
        if check not in self.nodes:
            self.nodes[check] = _Node(self.nodes[target].chunk)
            for source, node in list(self.nodes.items()):
                for k in list(node.out.get(target, ())):
                    if k != "prereq":
                        self._edge(source, check, k)
        self.prereq_target.add(target)
        self._edge(check, holder, "prereq")
        self._edge(holder, target, "require")
        if _check(holder) in self.nodes:
            self._edge(check, _check(holder), "prereq")

    def _key(self, tag: str) -> tuple[tuple[float, float], str]:
        node = self.nodes[tag]
        chunk = node.chunk
        order = chunk["order"]
        if not isinstance(order, (int, float)) or isinstance(order, bool):
            order = _normal(order, self.cap)
            chunk["order"] = order
        name_order = chunk.pop("name_order", 0)
        if name_order:
            order += name_order / 10000.0
            chunk["order"] = order
        if order < 0:
            order += self.cap + 1000000
            chunk["order"] = order
        if node.child_min is None:
            child_min, strongest = float("inf"), float("-inf")
            for target, kinds in node.out.items():
                for kind in kinds:
                    if strongest <= WEIGHT[kind]:
                        strongest = WEIGHT[kind]
                        child = self.nodes[target].chunk
                        child["order"] = _normal(child.get("order"), self.cap)
                        child_min = min(child_min, child["order"])
            node.child_min = child_min
        return (min(order, node.child_min), chunk["order"]), chunk["label"]

    def sorted_tags(self) -> list[str] | None:
        """Real chunks' tags in execution order; None when there is a cycle."""
        heap = [(self._key(t), t) for t, n in self.nodes.items() if n.indeg == 0]
        heapq.heapify(heap)
        indeg = {t: n.indeg for t, n in self.nodes.items()}
        out: list[str] = []
        seen = 0
        while heap:
            _, tag = heapq.heappop(heap)
            seen += 1
            if not tag.endswith(_CHECK):
                out.append(tag)
            for target, kinds in self.nodes[tag].out.items():
                indeg[target] -= len(kinds)
                if indeg[target] == 0:
                    heapq.heappush(heap, (self._key(target), target))
        return out if seen == len(self.nodes) else None


_CHECK = "_|-__prereq_test__"


def _check(tag: str) -> str:
    return tag + _CHECK
