"""Arguments every state takes, as in Salt: `onlyif`, `unless`, `creates` and `retry`.

    install-sudo:
      pkg.installed:
        - name: sudo
        - unless: test -x /usr/bin/sudo
    fetch-index:
      cmd.run:
        - name: curl -fsS http://127.0.0.1/health
        - retry: {attempts: 5, interval: 2, until: True}

A guard is a shell command, or Salt's function form `- fun: file.file_exists` with `args:` or
keyword arguments (any read-only template helper: its truth value decides).
The runner takes them out of a state's arguments before the module parses them (a module that
runs its own guards, such as cmd.run, keeps onlyif/unless/creates unless one uses the function
form) and evaluates them itself:
a guard that says "done" is result True with no changes and no watch action, in test mode
too (guards only look); `retry` runs the state again, outside test mode, until its result is
`until` or the attempts are used up.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import StateArgError

__all__ = ["GUARDS", "UNIVERSAL", "GuardCall", "Retry", "Universal", "split", "guard_comment"]

GUARDS = ("onlyif", "unless", "creates")
UNIVERSAL = GUARDS + ("retry",)


@dataclass(frozen=True)
class Retry:
    """Salt's retry: at most `attempts` runs in all, `interval` (+ up to `splay`) seconds apart."""
    attempts: int = 2
    until: bool = True
    interval: float = 30.0
    splay: float = 0.0

    def delay(self) -> float:
        if not self.splay:
            return float(self.interval)
        import random  # only a retry with splay needs it; this module loads on every apply

        return self.interval + random.uniform(0, self.splay)


@dataclass(frozen=True)
class GuardCall:
    """`- fun: file.file_exists` with its arguments."""
    fun: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Universal:
    onlyif: tuple[Any, ...] = ()   # str commands and GuardCall
    unless: tuple[Any, ...] = ()
    creates: tuple[str, ...] = ()
    retry: Retry | None = None


NONE = Universal()


def split(fun: Any, where: str, args: Mapping[str, Any]) -> tuple[Mapping[str, Any], Universal]:
    """(the arguments for the module's parse, the universal ones); StateArgError on bad values."""
    own_guards = bool(getattr(fun, "own_guards", False)) and not any(
        isinstance(item, Mapping) for k in ("onlyif", "unless")
        for item in (args.get(k) if isinstance(args.get(k), list) else [args.get(k)]))
    taken = ("retry",) if own_guards else UNIVERSAL
    if not any(k in args for k in taken):
        return args, NONE
    from minion.states.specargs import as_list

    rest = {k: v for k, v in args.items() if k not in taken}
    guards: dict[str, Any] = {}
    if not own_guards:
        guards = {"onlyif": _guards(where, "onlyif", args.get("onlyif")),
                  "unless": _guards(where, "unless", args.get("unless")),
                  "creates": as_list(where, "creates", args.get("creates"))}
    return rest, Universal(**guards, retry=_retry(where, args.get("retry")))


def _guards(where: str, key: str, value: Any) -> tuple[Any, ...]:
    items = value if isinstance(value, list) else [] if value is None else [value]
    out: list[Any] = []
    for item in items:
        if isinstance(item, (str, int, float)) and not isinstance(item, bool):
            out.append(str(item))
        elif isinstance(item, Mapping) and isinstance(item.get("fun"), str):
            args = item.get("args") or []
            out.append(GuardCall(item["fun"], tuple(args if isinstance(args, list) else [args]),
                                 tuple((str(k), v) for k, v in item.items()
                                       if k not in ("fun", "args", "get_return"))))
        else:
            raise StateArgError(f"{where}: each {key} item must be a command or "
                                f"`- fun: module.function` with its arguments, not {item!r}")
    return tuple(out)


def _retry(where: str, value: Any) -> Retry | None:
    if value is None or value is False:
        return None
    if value is True:
        return Retry()
    if not isinstance(value, Mapping):
        raise StateArgError(f"{where}: retry must be true or a mapping of attempts, until, "
                            f"interval, splay, not {value!r}")
    unknown = sorted(set(value) - {"attempts", "until", "interval", "splay"})
    if unknown:
        raise StateArgError(f"{where}: retry does not take {', '.join(map(repr, unknown))}; "
                            "it takes: attempts, interval, splay, until")
    out: dict[str, Any] = {}
    for key, kind in (("attempts", int), ("interval", float), ("splay", float)):
        if key in value:
            raw = value[key]
            if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw < 0:
                raise StateArgError(f"{where}: retry {key} must be a number >= 0, not {raw!r}")
            out[key] = kind(raw)
    if "until" in value:
        from minion.states.specargs import as_bool

        out["until"] = as_bool(where, "retry until", value["until"])
    return Retry(**out)


def guard_comment(universal: Universal, ctx: Any = None) -> str | None:
    """Why the state must not run (Salt's comments), or None when it may; runs the commands
    (and calls the helpers of the function form, with `ctx`'s grains and pillar)."""
    if universal.creates and all(os.path.exists(p) for p in universal.creates):
        if len(universal.creates) == 1:
            return f"{universal.creates[0]} exists"
        return f"All files in creates exist: {', '.join(universal.creates)}"
    if universal.onlyif or universal.unless:
        for check in universal.onlyif:
            if not _holds(check, ctx):
                return "onlyif condition is false"
        if universal.unless and all(_holds(c, ctx) for c in universal.unless):
            return "unless condition is true"
    return None


def _holds(check: Any, ctx: Any) -> bool:
    if isinstance(check, GuardCall):
        from core.errors import RenderError
        from core.templatecontext import TemplateFunctions
        from minion.state.contract import StateFailed

        grains = getattr(ctx, "grains", {}) or {}
        helpers = TemplateFunctions(str(grains.get("id", "")), grains,
                                    getattr(ctx, "pillar", {}) or {}, getattr(ctx, "opts", {}) or {})
        if check.fun not in helpers:
            raise StateFailed(f"{check.fun} cannot be a guard here; a guard may call the "
                              f"read-only helpers: {', '.join(sorted(helpers))}")
        try:
            return bool(helpers[check.fun](*check.args, **dict(check.kwargs)))
        except (TypeError, RenderError) as exc:
            raise StateFailed(f"guard {check.fun} failed: {exc}") from None
    from minion.states.cmd import CmdSpec, run_shell

    return run_shell(CmdSpec(name="guard"), check).retcode == 0
