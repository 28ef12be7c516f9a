"""module.run and module.wait: call execution functions from a state, as Salt 3008 does.

    refresh-facts:
      module.run:
        - grains.items: []
        - cmd.run:
          - cmd: /usr/local/bin/warm-cache
    old-style:
      module.run:
        - name: test.echo
        - text: hello
    on-change:
      module.wait:
        - cmd.run_all:
          - cmd: systemctl daemon-reload
        - watch:
          - file: /etc/systemd/system/app.service

Salt 3008's form: each `function: [args]` item (a value is a positional argument, a mapping
gives keyword arguments); the older `name: function` form passes the other arguments as
keywords. Only the minion's execution functions that need no master can be called here:
test.*, cmd.run, cmd.run_all, grains.*, network.*. A function that fails (or raises) fails
the state; changes are `{function: return}` (`{ret: return}` in the older form). module.wait
runs only when a watched state changed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from core.errors import StateArgError
from minion.state.contract import ExecContext, Pending, StateFailed
from minion.states.specargs import check_known

CALLABLE = ("test.ping", "test.echo", "test.version", "test.sleep", "cmd.run", "cmd.run_all",
            "grains.items", "grains.get", "network.ip_addrs", "network.ip_addrs6")
_RESERVED = ("name", "m_name", "m_args", "m_kwargs")


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class ModuleSpec:
    calls: tuple[Call, ...]
    old_style: bool


def _call(where: str, function: str, raw: Any) -> Call:
    if function not in CALLABLE:
        raise StateArgError(f"{where}: {function} cannot be called from a state here; "
                            f"these can: {', '.join(CALLABLE)}")
    items = raw if isinstance(raw, list) else [] if raw is None else [raw]
    args, kwargs = [], {}
    for item in items:
        if isinstance(item, Mapping):
            kwargs.update({str(k): v for k, v in item.items()})
        else:
            args.append(item)
    return Call(function, tuple(args), tuple(kwargs.items()))


def parse_module(where: str, name: str, args: Mapping[str, Any]) -> ModuleSpec:
    functions = [k for k in args if "." in k]
    if functions:
        check_known(where, {k: v for k, v in args.items() if "." not in k}, ())
        return ModuleSpec(tuple(_call(where, f, args[f]) for f in functions), False)
    function = str(args.get("m_name") or name)
    kwargs = {k: v for k, v in args.items() if k not in _RESERVED}
    kwargs.update(dict(args.get("m_kwargs") or {}))
    positional = list(args.get("m_args") or [])
    call = _call(where, function, [*positional, kwargs] if kwargs else positional)
    return ModuleSpec((call,), True)


@dataclass(frozen=True)
class _StateCallContext:
    """What the callable functions read of a job context: the grains."""
    grains: Mapping[str, Any]
    jid: str = ""


def run_calls(ctx: ExecContext, spec: ModuleSpec) -> tuple[dict[str, Any], str]:
    """Call each function; (changes, comment). StateFailed when one failed."""
    from minion.functions import lookup

    job = _StateCallContext(grains=ctx.grains)
    changes: dict[str, Any] = {}
    done: list[str] = []
    failed: list[str] = []
    for call in spec.calls:
        try:
            value = lookup(call.function)(job, *call.args, **dict(call.kwargs))
        except TypeError as exc:
            failed.append(f"'{call.function}' failed: {exc}")
            continue
        except Exception as exc:  # the function's own error is this state's failure
            failed.append(f"'{call.function}' failed: {type(exc).__name__}: {exc}")
            continue
        ok = getattr(value, "success", True)
        ret = getattr(value, "ret", value)
        if not ok:
            failed.append(f"'{call.function}' failed: {ret}")
            continue
        changes["ret" if spec.old_style else call.function] = ret
        done.append(f"{call.function}: {ret}")
    if spec.old_style and not failed:
        return changes, f"Module function {spec.calls[0].function} executed"
    comment = ", ".join([*failed, *done])
    if failed:
        raise StateFailed(comment, changes)
    return changes, comment


def _would(spec: ModuleSpec) -> Pending:
    names = ", ".join(c.function for c in spec.calls)
    comment = (f"Module function {names} is set to execute" if spec.old_style
               else f"Function {names} to be executed.")
    return Pending(changes={"functions": [c.function for c in spec.calls]}, comment=comment)


class Run:
    """module.run"""

    where = "module.run"

    def parse(self, name: str, args: Mapping[str, Any]) -> ModuleSpec:
        return parse_module(self.where, name, args)

    def check(self, ctx: ExecContext, spec: ModuleSpec) -> Pending:
        return _would(spec)

    def apply(self, ctx: ExecContext, spec: ModuleSpec, pending: Pending) -> dict[str, Any]:
        changes, comment = run_calls(ctx, spec)
        pending.applied_comment = comment
        return changes

    def watch(self, ctx: ExecContext, spec: ModuleSpec) -> dict[str, Any]:
        return run_calls(ctx, spec)[0]

    def check_watch(self, ctx: ExecContext, spec: ModuleSpec) -> Pending:
        return _would(spec)


class Wait(Run):
    """module.wait: module.run when a watched state changed."""

    where = "module.wait"

    def check(self, ctx: ExecContext, spec: ModuleSpec) -> Pending:
        return Pending(comment="Runs only when a watched state changes")


FUNCTIONS = {"run": Run(), "wait": Wait()}
