"""sys.*: what this minion can run, and how (Salt's sys module).

    lpmaster run web1 sys.list_functions            every function
    lpmaster run web1 sys.list_functions pkg 'cmd.run*'
    lpmaster run web1 sys.doc pkg.install           {name: its documentation}
    lpmaster run web1 sys.argspec service.restart   {name: {args, defaults, varargs, kwargs}}
"""
from __future__ import annotations

import fnmatch
import inspect
from typing import Any


def list_functions(ctx: Any, *names: str) -> list[str]:
    """Every function's name (of the modules or globs given: `pkg`, `pkg.*`, `cmd.run*`), sorted."""
    return _select(names)


def list_modules(ctx: Any, *names: str) -> list[str]:
    """The module names (`pkg`, `service`, ...), or those matching the globs given."""
    from minion.functions import FUNCTIONS

    modules = sorted({name.partition(".")[0] for name in FUNCTIONS})
    return [m for m in modules if not names or any(fnmatch.fnmatchcase(m, str(p)) for p in names)]


def doc(ctx: Any, *names: str) -> dict[str, str]:
    """{function: its documentation and the arguments it takes}, for the functions, modules or
    globs given (all of them without)."""
    from minion.functions import raw
    from minion.functions.signature import takes

    out = {}
    for name in _select(names):
        fn = raw(name)
        args = takes(fn)
        out[name] = (inspect.getdoc(fn) or "") + f"\n\nArguments: {args or '(none)'}"
    return out


def argspec(ctx: Any, *names: str) -> dict[str, dict[str, Any]]:
    """{function: {args, defaults, varargs, kwargs}} as Salt's sys.argspec gives them
    (varargs/kwargs: true when the function takes *args / **kwargs, else null)."""
    from minion.functions import raw

    out = {}
    for name in _select(names):
        params = list(inspect.signature(raw(name)).parameters.values())[1:]
        plain = [p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        defaults = [p.default for p in plain if p.default is not p.empty]
        out[name] = {
            "args": [p.name for p in plain] or None,
            "defaults": defaults or None,
            "varargs": True if any(p.kind is p.VAR_POSITIONAL for p in params) else None,
            "kwargs": True if any(p.kind is p.VAR_KEYWORD for p in params) else None,
        }
    return out


def _select(patterns: tuple[str, ...]) -> list[str]:
    from minion.functions import FUNCTIONS

    if not patterns:
        return sorted(FUNCTIONS)
    found = set()
    for raw_pattern in patterns:
        pattern = str(raw_pattern)
        for name in FUNCTIONS:
            module = name.partition(".")[0]
            if name == pattern or module == pattern or fnmatch.fnmatchcase(name, pattern) or (
                    "." not in pattern and fnmatch.fnmatchcase(module, pattern)):
                found.add(name)
    return sorted(found)
