"""systemd provider: facts from `systemctl show`, changes with systemctl (argv, `--` first).

`parse_show` is a pure parser over recorded output (tests/hosts/test_service_systemd.py has a
table of real outputs); `Systemd` runs the commands through an injectable `run` so the same
state code is exercised without systemd as PID 1.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from minion.providers.process import CommandResult
from minion.providers.process import run as run_command
from minion.state.contract import StateFailed

SHOW_PROPERTIES = "LoadState,ActiveState,SubState,UnitFileState,MainPID"
ENABLED_STATES = {"enabled", "enabled-runtime", "alias", "static", "indirect", "generated"}


@dataclass(frozen=True)
class UnitFacts:
    unit: str
    loaded: bool  # False: no such unit (LoadState=not-found)
    masked: bool
    active: bool  # ActiveState active/reloading/activating
    failed: bool
    enabled: bool | None  # None: the unit cannot be enabled (transient, or no [Install])
    static: bool
    pid: int | None


def unit_name(name: str) -> str:
    return name if "." in name else f"{name}.service"


def parse_show(unit: str, output: str) -> UnitFacts:
    """Parse `systemctl show -p SHOW_PROPERTIES UNIT` (KEY=VALUE lines, any order)."""
    props = dict(line.split("=", 1) for line in output.splitlines() if "=" in line)
    load = props.get("LoadState", "")
    active = props.get("ActiveState", "")
    file_state = props.get("UnitFileState", "")
    pid = int(props.get("MainPID", "0") or 0)
    return UnitFacts(
        unit=unit,
        loaded=load not in ("not-found", ""),
        masked=load == "masked" or file_state.startswith("masked"),
        active=active in ("active", "reloading", "activating"),
        failed=active == "failed",
        enabled=(file_state in ENABLED_STATES)
        if file_state not in ("", "transient", "bad")
        else None,
        static=file_state == "static",
        pid=pid or None,
    )


def is_systemd_host() -> bool:
    """True when systemd is PID 1 (sd_booted: /run/systemd/system exists)."""
    return os.path.isdir("/run/systemd/system")


class Systemd:
    """systemctl for one host. `run` is the command runner (argv -> CommandResult)."""

    def __init__(self, run: Callable[[Sequence[str]], CommandResult] = run_command) -> None:
        self._run = run

    def facts(self, name: str) -> UnitFacts:
        unit = unit_name(name)
        result = self._run(["systemctl", "show", "-p", SHOW_PROPERTIES, "--", unit])
        if not result.ok:
            raise StateFailed(f"systemctl show {unit} failed: {result.tail()}")
        facts = parse_show(unit, result.stdout)
        if not facts.loaded:
            raise StateFailed(
                f"unit {unit} does not exist on this host: install the package "
                f"that ships it first (require its pkg state), or check the name"
            )
        return facts

    def _ctl(self, verb: str, name: str) -> None:
        unit = unit_name(name)
        result = self._run(["systemctl", verb, "--", unit])
        if not result.ok:
            hint = (
                f" See `journalctl -u {unit}` on the host for why."
                if verb in ("start", "restart", "reload")
                else ""
            )
            raise StateFailed(f"systemctl {verb} {unit} failed: {result.tail()}.{hint}")

    def start(self, name: str) -> None:
        self._ctl("start", name)

    def stop(self, name: str) -> None:
        self._ctl("stop", name)

    def restart(self, name: str) -> None:
        self._ctl("restart", name)

    def reload(self, name: str) -> None:
        self._ctl("reload-or-restart", name)

    def enable(self, name: str) -> None:
        self._ctl("enable", name)

    def disable(self, name: str) -> None:
        self._ctl("disable", name)
