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
    strict=True: unknown state arguments and bad values are compile errors."""
    _refuse_unknown(kwargs)
    return _run(ctx, "state.apply", _sls_names(mods), test, strict)


def sls(ctx: Any, *mods: Any, test: Any = False, strict: Any = False, **kwargs: Any) -> Any:
    """Salt's state.sls: the named SLS (at least one)."""
    _refuse_unknown(kwargs)
    names = _sls_names(mods)
    if not names:
        raise StateArgError("state.sls needs at least one SLS name")
    return _run(ctx, "state.sls", names, test, strict)


def highstate(ctx: Any, test: Any = False, strict: Any = False, **kwargs: Any) -> Any:
    """Salt's state.highstate: what top.sls gives this minion."""
    _refuse_unknown(kwargs)
    return _run(ctx, "state.highstate", None, test, strict)


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


def _run(ctx: Any, fun: str, names: list[str] | None, test: Any, strict: Any) -> Any:
    from minion.remote_apply import apply_remote

    test, strict = flag(fun, "test", test), flag(fun, "strict", strict)
    config = ctx.config
    strict = strict or bool(getattr(config, "strict_arguments", False))
    return apply_remote(ctx.request, config.id, dict(ctx.grains), config.cache_dir, names, test=test,
                        opts={"strict_arguments": True} if strict else None)


def _sls_names(mods: tuple[Any, ...]) -> list[str] | None:
    names: list[str] = []
    for mod in mods:
        if isinstance(mod, (list, tuple)):
            names.extend(str(m).strip() for m in mod)
        else:
            names.extend(part.strip() for part in str(mod).split(","))
    names = [n for n in names if n]
    return names or None


def _refuse_unknown(kwargs: dict[str, Any]) -> None:
    # pillar= overrides are refused on purpose: job arguments travel on the PUB socket,
    # and secrets must never ride there (DESIGN.md, Wire and trust).
    unknown = sorted(k for k in kwargs if not k.startswith("__"))
    if unknown:
        raise StateArgError(f"unsupported argument(s): {', '.join(unknown)} (only test= and strict= are taken)")
