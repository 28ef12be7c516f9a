"""Argument checks for execution functions, from each function's own signature.

    call = checked("pkg.version", pkg.version)
    call(ctx, "nginx", refresh="yes")   -> refresh=True
    call(ctx, flavour="x")              -> FunctionArgError: pkg.version does not take 'flavour';
                                           it takes: *names, refresh

Arguments from `lpmaster run` arrive as strings (`key=value` words), so a parameter annotated
`bool`, `int` or `float` (optionally `| None`) takes its usual spellings ("True", "no", "30")
and refuses others by name. Keyword arguments Salt's publisher adds (`__pub_*`) are dropped.
A function that takes `**kwargs` checks them itself.
"""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off", ""}


class FunctionArgError(TypeError):
    """An execution function was called with arguments it does not take (or bad values)."""


def takes(fn: Callable[..., Any]) -> str:
    """What `fn` takes, for messages and sys.doc: "name, refresh" or "*names, refresh"."""
    return _takes(_params(fn))


def checked(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn(ctx, *args, **kwargs)` with its arguments checked and coerced first."""
    params = _params(fn)
    all_optional = all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params)

    @functools.wraps(fn)
    def call(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs or not all_optional:   # no arguments where none is required: nothing to check
            args, kwargs = bind(name, params, args, kwargs)
        return fn(ctx, *args, **kwargs)

    return call


def bind(name: str, params: list[inspect.Parameter], args: tuple[Any, ...],
         kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The checked (args, kwargs) to call with; FunctionArgError naming what is wrong."""
    by_name = {p.name: p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return args, kwargs
    kwargs = {k: v for k, v in kwargs.items() if not k.startswith("__")}
    what = f"it takes: {_takes(params)}" if params else "it takes no arguments"
    unknown = sorted(k for k in kwargs if k not in by_name or by_name[k].kind is by_name[k].POSITIONAL_ONLY)
    if unknown:
        raise FunctionArgError(f"{name} does not take {', '.join(map(repr, unknown))}; {what}")
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(args) > len(positional) and not any(p.kind is p.VAR_POSITIONAL for p in params):
        extra = ", ".join(repr(a) for a in args[len(positional):])
        raise FunctionArgError(f"{name} takes {len(positional)} positional argument(s), got {len(args)} "
                               f"(extra: {extra}); {what}")
    given = {p.name for p in positional[:len(args)]}
    twice = sorted(given & set(kwargs))
    if twice:
        raise FunctionArgError(f"{name} got {', '.join(map(repr, twice))} both by position and as key=value")
    missing = [p.name for p in positional[len(args):] if p.default is p.empty and p.name not in kwargs]
    missing += [p.name for p in params if p.kind is p.KEYWORD_ONLY and p.default is p.empty
                and p.name not in kwargs]
    if missing:
        raise FunctionArgError(f"{name} needs {', '.join(map(repr, missing))}; {what} "
                               f"(`sys.doc {name}` explains them)")
    new_args = tuple(_coerce(name, positional[i], a) if i < len(positional) else a
                     for i, a in enumerate(args))
    new_kwargs = {k: _coerce(name, by_name[k], v) for k, v in kwargs.items()}
    return new_args, new_kwargs


def flag(name: str, key: str, value: Any) -> bool:
    """`key=` of function `name` as a bool: True/False, a number, or Salt's spellings ("yes",
    "off", ...); FunctionArgError for anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise FunctionArgError(f"{name}: {key}= must be True or False, got {value!r}")


def _takes(params: list[inspect.Parameter]) -> str:
    words = []
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            words.append(f"*{p.name}")
        elif p.kind is p.VAR_KEYWORD:
            words.append(f"**{p.name}")
        else:
            words.append(p.name)
    return ", ".join(words)


def _params(fn: Callable[..., Any]) -> list[inspect.Parameter]:
    """The parameters after `ctx`."""
    return list(inspect.signature(fn).parameters.values())[1:]


def _coerce(name: str, param: inspect.Parameter, value: Any) -> Any:
    kind = str(param.annotation).replace(" ", "")
    if not isinstance(value, str) or kind.removesuffix("|None") not in ("bool", "int", "float"):
        return value
    base = kind.removesuffix("|None")
    text = value.strip()
    if base != kind and text.lower() in ("none", "null", ""):
        return None
    if base == "bool":
        return flag(name, param.name, value)
    try:
        return int(text) if base == "int" else float(text)
    except ValueError:
        raise FunctionArgError(f"{name}: {param.name}= must be a number, got {value!r}") from None
