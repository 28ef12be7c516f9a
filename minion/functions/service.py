"""service.*: a service's state and restarts, through the same providers as the service states.

    lpmaster run 'web*' service.status nginx         True when running
    lpmaster run 'web*' service.restart nginx        True once restarted (the job fails otherwise)
    lpmaster run 'web*' service.reload nginx
    lpmaster run web1 service.start linkpeek-web provider=supervisord

The provider is `provider=` when given, else the `init` grain (systemd or supervisord), else
systemd when it is PID 1 and supervisord (its default config) otherwise.
"""
from __future__ import annotations

from typing import Any, Callable

from minion.functions import FunctionResult
from minion.functions.signature import FunctionArgError

PROVIDERS = ("systemd", "supervisord")


def status(ctx: Any, name: str, provider: str | None = None) -> FunctionResult:
    """True when `name` is running (False when stopped or unknown)."""
    def running(kind: str, backend: Any) -> bool:
        if kind == "systemd":
            return bool(backend.facts(name).active)
        from minion.states.service import RUNNING_STATES

        info = backend.info(name)
        return bool(info) and info.get("statename") in RUNNING_STATES

    return _ask(ctx, "service.status", name, provider, running)


def available(ctx: Any, name: str, provider: str | None = None) -> FunctionResult:
    """True when this host knows a service `name`."""
    return _ask(ctx, "service.available", name, provider, lambda kind, backend: bool(
        backend.facts(name).loaded) if kind == "systemd" else backend.info(name) is not None)


def start(ctx: Any, name: str, provider: str | None = None) -> FunctionResult:
    """Start `name`; True once it runs."""
    return _act(ctx, "service.start", name, provider, lambda b: b.start(name))


def stop(ctx: Any, name: str, provider: str | None = None) -> FunctionResult:
    """Stop `name`; True once it stopped."""
    return _act(ctx, "service.stop", name, provider, lambda b: b.stop(name))


def restart(ctx: Any, name: str, provider: str | None = None) -> FunctionResult:
    """Restart `name` (starting it when stopped); True once it runs again."""
    return _act(ctx, "service.restart", name, provider, lambda b: b.restart(name))


def reload(ctx: Any, name: str, provider: str | None = None) -> FunctionResult:
    """Ask `name` to reload its configuration (systemctl reload; SIGHUP under supervisord)."""
    return _act(ctx, "service.reload", name, provider, lambda b: b.reload(name))


def _act(ctx: Any, where: str, name: str, provider: str | None, act: Callable[[Any], Any]) -> FunctionResult:
    def run(kind: str, backend: Any) -> Any:
        if kind == "systemd" and not backend.facts(name).loaded:
            return FunctionResult(f"Error: no service {name!r} on this host", success=False, retcode=1)
        if kind == "supervisord" and backend.info(name) is None:
            return FunctionResult(f"Error: supervisord has no program {name!r}", success=False, retcode=1)
        act(backend)
        return True

    return _ask(ctx, where, name, provider, run)


def _ask(ctx: Any, where: str, name: str, provider: str | None, query: Callable[[str, Any], Any]) -> FunctionResult:
    """`query(kind, backend)` as the function's return; a provider failure fails the job, saying why."""
    from minion.state.contract import StateFailed

    try:
        kind, backend = _backend(ctx, where, name, provider)
        value = query(kind, backend)
    except StateFailed as exc:
        return FunctionResult(f"Error: {exc}", success=False, retcode=1)
    return value if isinstance(value, FunctionResult) else FunctionResult(value)


def _backend(ctx: Any, where: str, name: Any, provider: str | None) -> tuple[str, Any]:
    from minion.providers import systemd
    from minion.states.service import SERVICE_NAME

    if not isinstance(name, str) or not SERVICE_NAME.match(name):
        raise FunctionArgError(f"{where}: {str(name)[:80]!r} is not a service name")
    if provider is not None and provider not in PROVIDERS:
        raise FunctionArgError(f"{where}: provider= must be one of {', '.join(PROVIDERS)}")
    init = (ctx.grains or {}).get("init") if ctx is not None else None
    kind = provider or (init if init in PROVIDERS else None) or (
        "systemd" if systemd.is_systemd_host() else "supervisord")
    if kind == "systemd":
        return kind, systemd.Systemd()
    from minion.providers.supervisord import Supervisord

    return kind, Supervisord()
