"""Execution functions a job can name: an explicit table (no getattr dispatch).

A function is called as `fn(ctx, *args, **kwargs)` in a worker thread, where `ctx` is a
`JobContext` (minion/functions/context.py): the minion's config, its grains, the job id,
and `ctx.request(message) -> reply` to ask the master over the authenticated DEALER
(e.g. `ctx.request({"type": "pillar"})`). It returns a plain value (success, retcode 0)
or an object with `ret`, `success` and `retcode` attributes (e.g. `FunctionResult`, or
remote_apply's ApplyOutcome); raising fails the job with the error as its return.

Adding a function (e.g. `state.apply`) is one entry in FUNCTIONS mapping the Salt-style
name to a `"module:function"` path; modules are imported only when a job needs them,
which keeps the minion's import set (and its RSS) small.
"""
from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from typing import Any, Callable

# name -> "module:function"
FUNCTIONS: dict[str, str] = {
    "test.ping": "minion.functions.test:ping",
    "test.echo": "minion.functions.test:echo",
    "test.sleep": "minion.functions.test:sleep",
    "test.exception": "minion.functions.test:exception",
    "test.version": "minion.functions.test:version",
    "cmd.run": "minion.functions.cmd:run",
    "cmd.run_all": "minion.functions.cmd:run_all",
    "cmd.run_stdout": "minion.functions.cmd:run_stdout",
    "cmd.retcode": "minion.functions.cmd:retcode",
    "grains.items": "minion.functions.grains:items",
    "grains.get": "minion.functions.grains:get",
    "grains.item": "minion.functions.grains:item",
    "grains.ls": "minion.functions.grains:ls",
    "pillar.items": "minion.functions.pillar:items",
    "pillar.get": "minion.functions.pillar:get",
    "pillar.item": "minion.functions.pillar:item",
    "pillar.ls": "minion.functions.pillar:ls",
    "sys.list_functions": "minion.functions.sysmod:list_functions",
    "sys.list_modules": "minion.functions.sysmod:list_modules",
    "sys.doc": "minion.functions.sysmod:doc",
    "sys.argspec": "minion.functions.sysmod:argspec",
    "pkg.list_pkgs": "minion.functions.pkg:list_pkgs",
    "pkg.version": "minion.functions.pkg:version",
    "pkg.latest_version": "minion.functions.pkg:latest_version",
    "pkg.install": "minion.functions.pkg:install",
    "pkg.remove": "minion.functions.pkg:remove",
    "pkg.purge": "minion.functions.pkg:purge",
    "pkg.upgrade": "minion.functions.pkg:upgrade",
    "service.status": "minion.functions.service:status",
    "service.available": "minion.functions.service:available",
    "service.start": "minion.functions.service:start",
    "service.stop": "minion.functions.service:stop",
    "service.restart": "minion.functions.service:restart",
    "service.reload": "minion.functions.service:reload",
    "file.read": "minion.functions.file:read",
    "file.stats": "minion.functions.file:stats",
    "file.file_exists": "minion.functions.file:file_exists",
    "file.directory_exists": "minion.functions.file:directory_exists",
    "file.exists": "minion.functions.file:exists",
    "disk.usage": "minion.functions.disk:usage",
    "status.uptime": "minion.functions.status:uptime",
    "status.loadavg": "minion.functions.status:loadavg",
    "state.apply": "minion.functions.state:apply",
    "state.highstate": "minion.functions.state:highstate",
    "state.sls": "minion.functions.state:sls",
    "state.show_sls": "minion.functions.state:show_sls",
    "state.show_highstate": "minion.functions.state:show_highstate",
    "state.show_lowstate": "minion.functions.state:show_lowstate",
    "saltutil.refresh_pillar": "minion.functions.saltutil:refresh_pillar",
    "saltutil.sync_all": "minion.functions.saltutil:sync_all",
    "drift.check": "minion.functions.drift:check",
    "network.ip_addrs": "minion.functions.network:ip_addrs",
    "network.ip_addrs6": "minion.functions.network:ip_addrs6",
    "mine.update": "minion.functions.mine:update",
    "backup.run": "minion.functions.backup:run",
    "backup.check": "minion.functions.backup:check",
    "backup.snapshots": "minion.functions.backup:snapshots",
    "backup.restore": "minion.functions.backup:restore",
    "minion.adopt_id": "minion.functions.identity:adopt_id",
}


@dataclass(frozen=True)
class FunctionResult:
    """A function's return when it must say more than "here is the value"."""

    ret: Any
    success: bool = True
    retcode: int = 0


class UnknownFunction(LookupError):
    """No function by that name in FUNCTIONS."""


def lookup(name: str) -> Callable[..., Any]:
    """The callable for `name`, its arguments checked against its signature first
    (minion/functions/signature.py); UnknownFunction if the table has no such entry."""
    return _checked(name, raw(name))


@functools.lru_cache(maxsize=512)
def _checked(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """One checked wrapper per (name, function): its signature is read once, not per job."""
    from minion.functions.signature import checked

    return checked(name, fn)


def raw(name: str) -> Callable[..., Any]:
    """The function itself, unchecked (for sys.doc and sys.argspec)."""
    target = FUNCTIONS.get(name)
    if target is None:
        raise UnknownFunction(f"'{name}' is not available on this minion; "
                              f"`sys.list_functions` lists those it has")
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)  # attr comes from the table, not input
