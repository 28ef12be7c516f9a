"""The state compiler: SLS text + grains + pillar -> an ordered plan of low chunks. Pure.

    tree = StateTree("states")
    plan = compile_highstate(tree, "web1", grains, pillar)      # SLS names from top.sls
    plan = compile_sls(tree, ["web.nginx"], grains, pillar)
    plan = compile_plan(tree, "web1", grains, pillar, sls)      # either, as the commands call it
    for chunk in plan.chunks: ...                               # execution order, edges resolved

Stages: read_high (render, include, extend; minion.state.highdata) -> drafts (names,
requisites, use; minion.state.requisites) -> argument validation through the state
module registry -> topological order. A file that does not render raises RenderError
(`file:line`); every other problem found is collected into one CompileError.

Arguments, as Salt 3008 treats them but better: an argument a function does not take compiles
with a warning naming it and what the function takes (`LowChunk.warnings`, shown in the
state's return); a bad value (Salt checks those when the state runs) compiles too, the state
fails when it runs, and the compile warns. Strict mode (`opts["strict_arguments"]`) makes
both compile errors.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from core.errors import CompileError, StateArgError
from minion.state.contract import LowChunk
from minion.state.highdata import HighData, read_high
from minion.state.requisites import (Draft, drafts_from_high, freeze, order_drafts,
                                     resolve_requisites)
from minion.state.tree import StateTree

# validate(state, fun, name, args) -> an error message, or None when the arguments are good.
Validator = Callable[[str, str, str, Mapping[str, Any]], "str | None"]


class RunTimeProblem(str):
    """A validator's message about a value Salt checks when the state runs: outside strict
    mode the state compiles and fails when it runs, not the whole tree."""


@dataclass(frozen=True)
class Plan:
    """A compiled run: chunks in execution order, the high data, the SLS names compiled."""
    chunks: list[LowChunk]
    high: dict
    sls: list[str]
    declared: HighData  # as read: what show highstate shows (before extend and exclude), includers


class NoStatesError(CompileError):
    """The highstate gives this minion nothing to do (no top.sls, or no target matches it)."""


def compile_highstate(tree: StateTree, minion_id: str, grains: dict, pillar: dict,
                      opts: dict | None = None, *, validate: Validator | None = None) -> Plan:
    """Compile what the tree's top.sls gives `minion_id`."""
    from core.top import render_top

    if not tree.has_file("top.sls"):
        raise NoStatesError([f"no top.sls in {tree.label} (name SLS files to apply)"])
    names = render_top(tree.read_file("top.sls"), "top.sls", minion_id, grains, pillar,
                       opts, tree.root)
    if not names:
        raise NoStatesError([f"top.sls: no target matches minion {minion_id!r}"])
    return _compile(tree, names, minion_id, grains, pillar, opts or {}, validate)


def compile_sls(tree: StateTree, sls_names: list[str], grains: dict, pillar: dict,
                opts: dict | None = None, *, validate: Validator | None = None) -> Plan:
    """Compile the named SLS files (and what they include), in that order."""
    options = opts or {}
    minion_id = str(options.get("id") or grains.get("id") or "localhost")
    return _compile(tree, list(sls_names), minion_id, grains, pillar, options, validate)


def compile_plan(tree: StateTree, minion_id: str, grains: dict, pillar: dict, sls: list[str] | None,
                 opts: dict | None = None) -> Plan:
    """The named SLS files when `sls` names any, else the highstate from top.sls.
    `opts["strict_arguments"]`: unknown arguments and bad values are compile errors."""
    if sls:
        return compile_sls(tree, list(sls), grains, pillar, {"id": minion_id, **(opts or {})})
    return compile_highstate(tree, minion_id, grains, pillar, opts)


def _compile(tree: StateTree, names: list[str], minion_id: str, grains: dict, pillar: dict,
             opts: Mapping[str, Any], validate: Validator | None) -> Plan:
    from core.render import sls_context

    def context_for(sls: str, relpath: str) -> dict:
        return sls_context(minion_id, grains, pillar, opts, sls, relpath,
                           file_list=tree.list_files)

    high = read_high(tree, names, context_for)
    errors = list(high.errors)
    drafts = drafts_from_high(high.high, high.where, opts, errors, high.included_from,
                              high.auto_order, high.salt_position)
    resolve_requisites(drafts, errors)
    _validate_args(drafts, validate or registry_validator(), errors,
                   strict=bool(opts.get("strict_arguments")))
    ordered = order_drafts(drafts, errors)
    if errors:
        raise CompileError(errors)
    return Plan(chunks=freeze(ordered), high=high.high, sls=high.sls, declared=high)


def _validate_args(drafts: list[Draft], validate: Validator, errors: list[str], *,
                   strict: bool) -> None:
    from contextlib import nullcontext

    from minion.state.argcheck import collecting_unknown

    with (nullcontext([]) if strict else collecting_unknown()) as unknown:
        for draft in drafts:
            problem = validate(draft.state, draft.fun, draft.name, draft.args)
            draft.warnings.extend(unknown)
            unknown.clear()
            if problem and isinstance(problem, RunTimeProblem) and not strict:
                draft.warnings.append(f"this state will fail when it runs: {problem}")
            elif problem:
                errors.append(f"{draft.where}: {draft.label}: {problem}")


def plan_warnings(plan: Plan) -> list[str]:
    """Every compile warning of a plan, each as `file:line: state 'id': warning`."""
    return [f"{c.source}: {c.state}.{c.fun} {c.id!r}: {w}" for c in plan.chunks for w in c.warnings]


def registry_validator() -> Validator:
    """Validate through minion.states: an unknown module or function is an error, and the
    function's `parse(name, args)` must accept the arguments. A module that the registry
    lists but whose file does not exist yet is not checked (state modules land one by one)."""
    from minion import states
    from minion.state import universal

    cache: dict[tuple[str, str], Any] = {}

    def validate(state: str, fun: str, name: str, args: Mapping[str, Any]) -> str | None:
        key = (state, fun)
        if key not in cache:
            cache[key] = _lookup(states, state, fun)
        found = cache[key]
        if isinstance(found, str):
            return found
        parse = getattr(found, "parse", None)
        if parse is None:
            return None
        try:
            module_args, _ = universal.split(found, f"{state}.{fun}", args)
            parse(name, module_args)
        except (StateArgError, TypeError, ValueError) as exc:
            return RunTimeProblem(str(exc))
        return None

    return validate


def _lookup(states: Any, state: str, fun: str) -> Any:
    """The state function, an error message, or None (registered module not written yet)."""
    full = states.ALIASES.get(f"{state}.{fun}", f"{state}.{fun}")
    module_key = full.split(".", 1)[0]
    modname = states.MODULES.get(module_key)
    try:
        return states.lookup(state, fun)
    except StateArgError as exc:
        return str(exc)
    except ModuleNotFoundError as exc:
        if modname is not None and exc.name == modname:
            return None
        raise
