"""state.apply / state.highstate / state.sls: converge this minion from the master's tree.

    lpmaster run 'web*' state.apply web.nginx test=True
    lpmaster apply 'web*' web.nginx --test          (the same job, with highstate output)
    lpmaster run web1 state.show_sls web.nginx      the compiled high data, nothing runs
    lpmaster run web1 state.show_lowstate           the highstate's chunks in execution order

The run itself is minion.remote_apply.apply_remote: pillar from the master (this minion's
only), the tree synced into the cache, compiled, run, secrets masked before returning.
"""
from __future__ import annotations

from typing import Any

from core.errors import StateArgError
from minion.functions.signature import flag


def apply(ctx: Any, *mods: Any, test: Any = False, strict: Any = False, **kwargs: Any) -> Any:
    """Salt's state.apply: the named SLS (comma-separated or several args), else the highstate.
    strict=True: unknown state arguments and bad values are compile errors.
    An argument it does not take is ignored with a warning in the return, as Salt ignores it."""
    warning = _unknown_warning("state.apply", kwargs, "*mods, test, strict")
    return _run(ctx, "state.apply", _sls_names(mods), test, strict, warning)


def sls(ctx: Any, *mods: Any, test: Any = False, strict: Any = False, **kwargs: Any) -> Any:
    """Salt's state.sls: the named SLS (at least one)."""
    warning = _unknown_warning("state.sls", kwargs, "*mods, test, strict")
    names = _sls_names(mods)
    if not names:
        raise StateArgError("state.sls needs at least one SLS name")
    return _run(ctx, "state.sls", names, test, strict, warning)


def highstate(ctx: Any, test: Any = False, strict: Any = False, **kwargs: Any) -> Any:
    """Salt's state.highstate: what top.sls gives this minion."""
    warning = _unknown_warning("state.highstate", kwargs, "test, strict")
    return _run(ctx, "state.highstate", None, test, strict, warning)


def show_sls(ctx: Any, *mods: Any) -> Any:
    """Salt's state.show_sls: the high data the named SLS compile to for this minion (nothing runs)."""
    from minion.state.saltshape import salt_highstate

    names = _sls_names(mods)
    if not names:
        raise StateArgError("state.show_sls needs at least one SLS name, e.g. state.show_sls web")
    return _show(ctx, names, salt_highstate)


def show_highstate(ctx: Any) -> Any:
    """Salt's state.show_highstate: the high data of what top.sls gives this minion."""
    from minion.state.saltshape import salt_highstate

    return _show(ctx, None, salt_highstate)


def show_lowstate(ctx: Any) -> Any:
    """Salt's state.show_lowstate: the highstate's chunks, in execution order."""
    from minion.state.saltshape import salt_lowstate

    return _show(ctx, None, salt_lowstate)


def _show(ctx: Any, names: list[str] | None, shape: Any) -> Any:
    """Compile from the master's tree and this minion's pillar; secrets masked. Salt returns a
    list of error strings when the tree does not compile."""
    from core.errors import LinkpeekError
    from core.masking import Masker
    from minion.functions import FunctionResult
    from minion.remote_apply import prepare_remote

    masker = Masker()
    try:
        prepared = prepare_remote(ctx.request, ctx.minion_id, dict(ctx.grains), ctx.config.cache_dir, names,
                                  masker=masker)
    except LinkpeekError as exc:
        return FunctionResult([masker.mask(line) for line in str(exc).splitlines() or [str(exc)]],
                              success=False, retcode=1)
    return masker.mask_data(shape(prepared.plan))


def _run(ctx: Any, fun: str, names: list[str] | None, test: Any, strict: Any,
         warning: str | None = None) -> Any:
    from minion.remote_apply import apply_remote

    test, strict = flag(fun, "test", test), flag(fun, "strict", strict)
    config = ctx.config
    strict = strict or bool(getattr(config, "strict_arguments", False))
    if warning and strict:
        raise StateArgError(warning.replace(" (ignored)", ""))
    outcome = apply_remote(ctx.request, config.id, dict(ctx.grains), config.cache_dir, names,
                           test=test, opts={"strict_arguments": True} if strict else None)
    if warning:
        _add_warning(outcome.ret, warning)
    return outcome


def _add_warning(ret: Any, warning: str) -> None:
    """A job-wide warning in Salt's state return: on the first state's `warnings` (the
    highstate output shows it there and counts it once); a list of errors gets it as a line."""
    if isinstance(ret, list):
        ret.append(warning)
    elif isinstance(ret, dict) and ret:
        first = min(ret.values(), key=lambda r: r.get("__run_num__", 0) if isinstance(r, dict) else 0)
        if isinstance(first, dict):
            first["warnings"] = [warning, *(first.get("warnings") or [])]


def _sls_names(mods: tuple[Any, ...]) -> list[str] | None:
    names: list[str] = []
    for mod in mods:
        if isinstance(mod, (list, tuple)):
            names.extend(str(m).strip() for m in mod)
        else:
            names.extend(part.strip() for part in str(mod).split(","))
    names = [n for n in names if n]
    return names or None


# Salt arguments that change what runs: ignoring them would run something else than asked.
_REFUSED = {
    # Job arguments travel on the PUB socket, and secrets must never ride there
    # (DESIGN.md, Wire and trust).
    "pillar": "pillar= overrides are not taken (job arguments are published to every "
              "minion's subscription; secrets must not ride there): put the value in the pillar",
    "exclude": "exclude= is not supported: name the SLS to run instead",
    "saltenv": "saltenv= is not supported: there is one environment, base",
    "pillarenv": "pillarenv= is not supported: there is one pillar environment, base",
}


def _unknown_warning(fun: str, kwargs: dict[str, Any], takes: str) -> str | None:
    """The warning for arguments `fun` does not take (Salt ignores them too); StateArgError,
    failing the job before anything runs, for one that would change what runs."""
    unknown = sorted(k for k in kwargs if not k.startswith("__"))
    for key in unknown:
        if key in _REFUSED and not (key.endswith("env") and str(kwargs[key]) == "base"):
            raise StateArgError(f"{fun}: {_REFUSED[key]}")
    unknown = [k for k in unknown if k not in _REFUSED]
    if not unknown:
        return None
    return f"{fun} does not take {', '.join(map(repr, unknown))} (ignored); it takes: {takes}"
