"""Unknown state arguments: warnings by default, errors in strict mode.

Salt accepts an argument it does not know for functions that take `**kwargs` and fails the
one state at run time for the others. Here an unknown argument compiles, with a warning that
names it and what the function takes; strict mode (`--strict`, `strict_arguments: true`)
makes it the compile error it always was.

    with collecting_unknown() as warnings:      # lenient: parse ignores unknown arguments
        spec = fun.parse(name, args)
    warnings  -> ["pkg.installed does not take 'fromrepos' (ignored); it takes: ..."]

Outside `collecting_unknown`, `report_unknown` raises StateArgError (strict).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from core.errors import StateArgError

_SINK: ContextVar[list[str] | None] = ContextVar("lp_unknown_state_args", default=None)


def report_unknown(where: str, unknown: list[str], takes: str) -> None:
    """Warn (inside collecting_unknown) or raise StateArgError about `unknown` arguments."""
    names = ", ".join(map(repr, unknown))
    what = f"it takes: {takes}" if takes else "it takes no arguments"
    sink = _SINK.get()
    if sink is None:
        raise StateArgError(f"{where} does not take {names}; {what}")
    sink.append(f"{where} does not take {names} (ignored); {what}")


@contextmanager
def collecting_unknown() -> Iterator[list[str]]:
    """Within: unknown arguments are collected into the yielded list instead of raising."""
    found: list[str] = []
    token = _SINK.set(found)
    try:
        yield found
    finally:
        _SINK.reset(token)
