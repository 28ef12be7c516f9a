"""State modules, one file each. The registry is an explicit table (no getattr dispatch).

Each module listed here defines `FUNCTIONS = {"fun": StateFunction, ...}`; modules are
imported only when a plan uses them, so a file-only run does not pay for apt or git.
"""
from __future__ import annotations

import importlib
from typing import Any

from core.errors import StateArgError

MODULES: dict[str, str] = {
    "file": "minion.states.file",
    "cmd": "minion.states.cmd",
    "test": "minion.states.test",
    "pkg": "minion.states.pkg",
    "pkgrepo": "minion.states.pkgrepo",
    "service": "minion.states.service",
    "user": "minion.states.user",
    "group": "minion.states.group",
    "ssh_auth": "minion.states.ssh_auth",
    "cron": "minion.states.cron",
    "git": "minion.states.git",
    "virtualenv": "minion.states.virtualenv",
    "pip": "minion.states.pip",
    "sysctl": "minion.states.sysctl",
    "locale": "minion.states.locale",
    "timezone": "minion.states.timezone",
    "ssh_known_hosts": "minion.states.ssh_known_hosts",
    "module": "minion.states.module",
    "postgres_user": "minion.states.postgres_user",
    "postgres_database": "minion.states.postgres_database",
    "postgres_schema": "minion.states.postgres_schema",
    "postgres_extension": "minion.states.postgres_extension",
}

# Salt spellings that map onto another module's function.
ALIASES: dict[str, str] = {
    "supervisord.running": "service.running",
    "supervisord.dead": "service.dead",
}


def lookup(state: str, fun: str) -> Any:
    """The StateFunction for `state.fun`; StateArgError when there is none."""
    full = ALIASES.get(f"{state}.{fun}", f"{state}.{fun}")
    state, fun = full.split(".", 1)
    modname = MODULES.get(state)
    if modname is None:
        raise StateArgError(f"unknown state module {state!r}; known: {', '.join(sorted(MODULES))}")
    functions = importlib.import_module(modname).FUNCTIONS
    if fun not in functions:
        raise StateArgError(f"{state!r} has no function {fun!r}; it has: {', '.join(sorted(functions))}")
    return functions[fun]
