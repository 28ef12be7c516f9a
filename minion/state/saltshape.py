"""A compiled plan in the shapes of Salt's `state.show_lowstate` and `state.show_highstate`.

    salt_lowstate(plan)   -> [{"state": "pkg", "name": "nginx", "__sls__": "web", "__env__":
                              "base", "__id__": "nginx", "version": "1.24", "require": [...],
                              "order": 10000, "fun": "installed"}, ...]   (execution order)
    salt_highstate(plan)  -> {"nginx": {"pkg": [{"version": "1.24"}, "installed",
                              {"order": 10000}], "__sls__": "web", "__env__": "base"}}

Arguments flat in each chunk, requisites as written (with what `_in` forms elsewhere add),
Salt's `order` values; the high data as Salt shows it: before `extend` and `exclude`, which are
listed under `__extend__` and `__exclude__`.
"""
from __future__ import annotations

from typing import Any

from minion.state.contract import LowChunk


def salt_low_chunk(chunk: LowChunk) -> dict[str, Any]:
    low: dict[str, Any] = {"state": chunk.state, "name": chunk.name, "__sls__": chunk.sls,
                           "__env__": "base"}
    if chunk.included_from:
        low["__sls_included_from__"] = list(chunk.included_from)
    low["__id__"] = chunk.id
    low.update(chunk.args)
    low.update(chunk.requisites)
    if chunk.failhard:
        low["failhard"] = True
    low["order"] = chunk.salt_order
    low["fun"] = chunk.fun
    return low


def salt_lowstate(plan: Any) -> list[dict[str, Any]]:
    return [salt_low_chunk(c) for c in plan.chunks]


def salt_highstate(plan: Any) -> dict[str, Any]:
    declared = plan.declared
    out: dict[str, Any] = {}
    if declared.extend_blocks:
        out["__extend__"] = declared.extend_blocks
    if declared.exclude_items:
        out["__exclude__"] = declared.exclude_items
    order = declared.salt_position
    bodies = sorted({**plan.high, **declared.unextended}.items(), key=lambda kv: order.get(kv[0], len(order)))
    for state_id, body in bodies:
        entry: dict[str, Any] = {}
        for state, items in body.items():
            if state.startswith("__"):
                continue
            shaped: list[Any] = list(items)
            if not any(isinstance(a, dict) and "order" in a for a in items) and (
                    (state_id, state) in declared.auto_order):
                shaped.append({"order": declared.auto_order[(state_id, state)]})
            entry[state] = shaped
        entry["__sls__"] = body.get("__sls__", "")
        entry["__env__"] = body.get("__env__", "base")
        if declared.included_from.get(entry["__sls__"]):
            entry["__sls_included_from__"] = list(declared.included_from[entry["__sls__"]])
        out[state_id] = entry
    return out
