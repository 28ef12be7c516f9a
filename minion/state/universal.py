"""Arguments every state takes, as in Salt: `onlyif`, `unless`, `creates` and `retry`.

    install-sudo:
      pkg.installed:
        - name: sudo
        - unless: test -x /usr/bin/sudo
    fetch-index:
      cmd.run:
        - name: curl -fsS http://127.0.0.1/health
        - retry: {attempts: 5, interval: 2, until: True}

The runner takes them out of a state's arguments before the module parses them (a module that
runs its own guards, such as cmd.run, keeps onlyif/unless/creates) and evaluates them itself:
a guard that says "done" is result True with no changes and no watch action, in test mode
too (guards only look); `retry` runs the state again, outside test mode, until its result is
`until` or the attempts are used up.
"""
from __future__ import annotations

import os
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import StateArgError

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
        return self.interval + (random.uniform(0, self.splay) if self.splay else 0.0)


@dataclass(frozen=True)
class Universal:
    onlyif: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    creates: tuple[str, ...] = ()
    retry: Retry | None = None


NONE = Universal()


def split(fun: Any, where: str, args: Mapping[str, Any]) -> tuple[Mapping[str, Any], Universal]:
    """(the arguments for the module's parse, the universal ones); StateArgError on bad values."""
    own_guards = bool(getattr(fun, "own_guards", False))
    taken = ("retry",) if own_guards else UNIVERSAL
    if not any(k in args for k in taken):
        return args, NONE
    from minion.states.specargs import as_list

    rest = {k: v for k, v in args.items() if k not in taken}
    guards = {} if own_guards else {k: as_list(where, k, args.get(k)) for k in GUARDS}
    return rest, Universal(**guards, retry=_retry(where, args.get("retry")))


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


def guard_comment(universal: Universal) -> str | None:
    """Why the state must not run (Salt's comments), or None when it may; runs the commands."""
    if universal.creates and all(os.path.exists(p) for p in universal.creates):
        if len(universal.creates) == 1:
            return f"{universal.creates[0]} exists"
        return f"All files in creates exist: {', '.join(universal.creates)}"
    if universal.onlyif or universal.unless:
        from minion.states.cmd import CmdSpec, run_shell

        spec = CmdSpec(name="guard")
        for check in universal.onlyif:
            if run_shell(spec, check).retcode != 0:
                return "onlyif condition is false"
        if universal.unless and all(run_shell(spec, c).retcode == 0 for c in universal.unless):
            return "unless condition is true"
    return None
