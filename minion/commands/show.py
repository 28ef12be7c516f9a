"""`lpminion show lowstate|highstate`: print the compiled plan without running anything.

    lpminion show lowstate --state-tree ./states --grains grains.yaml web
    lpminion show highstate --json --state-tree ./states --pillar-tree ./pillar
    lpminion show lowstate --json     Salt's state.show_lowstate shape (flat args, order)
    lpminion show lowstate --plan     this project's plan: requisite tags, source lines, warnings

Without SLS names, the highstate from top.sls. Exit codes: 0 printed, 2 the tree did
not compile (render or compile errors on stderr, each with its file:line).
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

from core.cli import add_config_arg

EXIT_NOT_COMPILED = 2


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "show", help="print the compiled plan (lowstate or highstate) without running it",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    kinds = parser.add_subparsers(dest="what", metavar="lowstate|highstate")
    kinds.required = True
    for what, text in (("lowstate", "the ordered chunks with their requisite edges"),
                       ("highstate", "the high data after include and extend")):
        sub = kinds.add_parser(what, help=text, description=text)
        sub.add_argument("sls", nargs="*", metavar="SLS", help="SLS names (default: top.sls)")
        sub.add_argument("--json", action="store_true",
                         help=f"print JSON in the shape of Salt's state.show_{what}")
        sub.add_argument("--plan", action="store_true",
                         help="print this project's plan as JSON instead: resolved requisite "
                              "tags, execution position, source file:line, warnings")
        sub.add_argument("--state-tree", default=None, metavar="DIR",
                         help="the state tree (default: ./states)")
        sub.add_argument("--pillar-tree", default=None, metavar="DIR", help="a local pillar tree")
        sub.add_argument("--grains", default=None, metavar="FILE",
                         help="grains as a YAML/JSON mapping (default: this host's grains)")
        sub.add_argument("--id", default=None, metavar="ID",
                         help="the minion id (default: hostname)")
        sub.add_argument("--strict", action="store_true",
                         help="an unknown state argument or a bad value is a compile error "
                              "(default: a warning; minion.yaml: strict_arguments: true)")
        add_config_arg(sub, "minion")
        sub.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.cli import print_json
    from core.errors import CompileError, RenderError, UnsafePathError
    from minion.state import localinputs
    from minion.state.compiler import compile_plan, plan_warnings
    from minion.state.tree import StateTree

    strict = args.strict
    nodegroups: dict[str, Any] = {}
    if getattr(args, "config", None):
        from core.config import load_minion

        cfg = load_minion(args.config)
        strict, nodegroups = strict or cfg.strict_arguments, dict(cfg.nodegroups)
    minion_id = args.id or localinputs.default_minion_id()
    grains = localinputs.load_grains(args.grains, minion_id)
    opts: dict[str, Any] = {"id": minion_id, "strict_arguments": strict, "nodegroups": nodegroups}
    try:
        pillar = localinputs.load_pillar(args.pillar_tree, minion_id, grains, opts)
        tree = StateTree(args.state_tree or localinputs.DEFAULT_STATE_TREE)
        plan = compile_plan(tree, minion_id, grains, pillar, args.sls, opts)
    except (RenderError, CompileError, UnsafePathError) as exc:
        print_errors(exc)
        return EXIT_NOT_COMPILED
    print_warnings(plan_warnings(plan))
    from minion.state.saltshape import salt_highstate, salt_lowstate

    if args.what == "highstate":
        if args.plan:
            print_json(plan.high)
        elif args.json:
            print_json(salt_highstate(plan))
        else:
            sys.stdout.write(_yaml(plan.high))
        return 0
    if args.plan:
        print_json([lowstate_row(chunk) for chunk in plan.chunks])
    elif args.json:
        print_json(salt_lowstate(plan))
    else:
        sys.stdout.write(format_lowstate(plan.chunks))
    return 0


def print_errors(exc: Exception) -> None:
    """One line per error on stderr (CompileError holds several)."""
    errors = getattr(exc, "errors", None) or [str(exc)]
    kind = "compile" if getattr(exc, "errors", None) else "render"
    print(f"lpminion: the state tree did not compile ({len(errors)} {kind} error"
          f"{'s' if len(errors) != 1 else ''}):", file=sys.stderr)
    for line in errors:
        print(f"  {line}", file=sys.stderr)


def print_warnings(warnings: list[str]) -> None:
    """Compile warnings on stderr (stdout stays the plan, for pipes and --json)."""
    if not warnings:
        return
    from core.stateoutput import safe_text

    print(f"lpminion: {len(warnings)} warning{'s' if len(warnings) != 1 else ''} "
          "(--strict makes them errors):", file=sys.stderr)
    for line in warnings:
        print(f"  {safe_text(line)}", file=sys.stderr)


def lowstate_row(chunk: Any) -> dict[str, Any]:
    """A chunk as JSON: Salt's low-state keys, args nested, edges as (kind, target tag)."""
    return {
        "state": chunk.state, "fun": chunk.fun, "__id__": chunk.id, "name": chunk.name,
        "__sls__": chunk.sls, "order": chunk.order, "tag": chunk.tag, "failhard": chunk.failhard,
        "args": dict(chunk.args), "source": chunk.source,
        "requisites": [{"kind": e.kind, "target": e.target} for e in chunk.edges],
        "warnings": list(chunk.warnings),
    }


def format_lowstate(chunks: list[Any]) -> str:
    """The plan as people read it: one block per chunk, in execution order."""
    lines: list[str] = []
    width = len(str(len(chunks)))
    for chunk in chunks:
        title = f"{chunk.order + 1:>{width}}. {chunk.state}.{chunk.fun}  {chunk.name}"
        lines.append(title)
        detail = f"ID {chunk.id}, SLS {chunk.sls}, {chunk.source}"
        lines.append(" " * (width + 2) + detail + ("  [failhard]" if chunk.failhard else ""))
        for edge in chunk.edges:
            state, sid, name, fun = (edge.target.split("_|-") + ["", "", "", ""])[:4]
            target = f"{state}.{fun} {sid}" + (f" ({name})" if name != sid else "")
            lines.append(" " * (width + 4) + f"{edge.kind}: {target}")
        for key, value in chunk.args.items():
            lines.append(" " * (width + 4) + f"- {key}: {_inline(value)}")
        for warning in chunk.warnings:
            lines.append(" " * (width + 4) + f"warning: {warning}")
    return "\n".join(lines) + ("\n" if lines else "")


def _inline(value: Any) -> str:
    import json
    if isinstance(value, str) and "\n" not in value:
        return value
    return json.dumps(value, default=str)


def _yaml(data: Any) -> str:
    import yaml
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True)
