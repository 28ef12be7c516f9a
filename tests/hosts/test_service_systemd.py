"""service states with the systemd provider, against recorded `systemctl` behaviour.

Why recorded: systemd cannot be PID 1 here (the test machine and its test hosts run without
it: `systemctl` answers "System has not been booted with systemd as init system"). So, as in
pyinfra's fact tables, real `systemctl show` outputs (systemd 252, Debian 12) go in and parsed
facts come out; and the service state runs against a stand-in systemctl that replays those
outputs and records the commands the state issued (what a real run would execute).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest

from core.errors import StateArgError
from minion.providers.process import CommandResult
from minion.providers.systemd import Systemd, UnitFacts, parse_show
from minion.state.contract import ExecContext, StateFailed
from minion.states.service import ServiceState

# `systemctl show -p LoadState,ActiveState,SubState,UnitFileState,MainPID -- UNIT` (property
# order as systemd prints it: the unit type's own properties first).
SHOW = {
    "running-enabled": "MainPID=612\nLoadState=loaded\nActiveState=active\nSubState=running\n"
    "UnitFileState=enabled\n",
    "running-disabled": "MainPID=612\nLoadState=loaded\nActiveState=active\nSubState=running\n"
    "UnitFileState=disabled\n",
    "dead-enabled": "MainPID=0\nLoadState=loaded\nActiveState=inactive\nSubState=dead\n"
    "UnitFileState=enabled\n",
    "dead-disabled": "MainPID=0\nLoadState=loaded\nActiveState=inactive\nSubState=dead\n"
    "UnitFileState=disabled\n",
    "failed": "MainPID=0\nLoadState=loaded\nActiveState=failed\nSubState=failed\n"
    "UnitFileState=enabled\n",
    "not-found": "MainPID=0\nLoadState=not-found\nActiveState=inactive\nSubState=dead\n"
    "UnitFileState=\n",
    "masked": "MainPID=0\nLoadState=masked\nActiveState=inactive\nSubState=dead\n"
    "UnitFileState=masked\n",
    "static": "MainPID=0\nLoadState=loaded\nActiveState=inactive\nSubState=dead\n"
    "UnitFileState=static\n",
    "activating": "MainPID=733\nLoadState=loaded\nActiveState=activating\nSubState=start\n"
    "UnitFileState=enabled\n",
}
NO_SYSTEMD = (
    "System has not been booted with systemd as init system (PID 1). Can't operate.\n"
    "Failed to connect to bus: Host is down\n"
)

FACTS = [
    (
        "running-enabled",
        {"loaded": True, "active": True, "failed": False, "enabled": True, "pid": 612},
    ),
    (
        "dead-disabled",
        {"loaded": True, "active": False, "failed": False, "enabled": False, "pid": None},
    ),
    ("failed", {"loaded": True, "active": False, "failed": True, "enabled": True, "pid": None}),
    ("not-found", {"loaded": False, "active": False, "enabled": None, "pid": None}),
    ("masked", {"loaded": True, "masked": True, "active": False, "enabled": False}),
    ("static", {"loaded": True, "active": False, "enabled": True, "static": True}),
    ("activating", {"active": True, "pid": 733}),
]


@pytest.mark.parametrize("recorded,expected", FACTS, ids=[f[0] for f in FACTS])
def test_show_output_parses_into_facts(recorded, expected):
    facts = parse_show("nginx.service", SHOW[recorded])
    for key, value in expected.items():
        assert getattr(facts, key) == value, key


class RecordedSystemctl:
    """Replays recorded outputs; start/stop/enable/disable move the unit between them."""

    def __init__(self, start_as: str, fail: str | None = None) -> None:
        self.current = start_as
        self.commands: list[list[str]] = []
        self.fail = fail

    def __call__(self, argv: Sequence[str]) -> CommandResult:
        argv = list(argv)
        if argv[1] != "show":
            self.commands.append(argv)
        verb = argv[1]
        if self.current == "no-systemd":
            return CommandResult(tuple(argv), 1, "", NO_SYSTEMD)
        if verb == self.fail:
            return CommandResult(
                tuple(argv),
                1,
                "",
                "Job for nginx.service failed because the "
                "control process exited with error code.\n",
            )
        active = "running" if self.current.startswith(("running", "activating")) else "dead"
        enabled = "disabled" if self.current.endswith("disabled") else "enabled"
        moves = {
            "start": f"running-{enabled}",
            "stop": f"dead-{enabled}",
            "enable": f"{active}-enabled",
            "disable": f"{active}-disabled",
        }
        if verb == "show":
            return CommandResult(tuple(argv), 0, SHOW[self.current], "")
        if verb in moves:
            self.current = moves[verb]
        return CommandResult(tuple(argv), 0, "", "")


def ctx() -> ExecContext:
    return ExecContext(grains={}, pillar={}, files=None, log=logging.getLogger("t"))  # type: ignore


def run_state(fun: str, recorded: RecordedSystemctl, test: bool = False, **args):
    st = ServiceState(fun, systemd=lambda: Systemd(run=recorded))
    spec = st.parse("nginx", {"provider": "systemd", **args})
    pending = st.check(ctx(), spec)
    if test or not pending.changes:
        return pending.changes
    return st.apply(ctx(), spec, pending)


COMMANDS = [
    # fun, args, recorded state before, changes, commands run
    (
        "running",
        {"enable": True},
        "dead-disabled",
        {"running": {"old": False, "new": True}, "enabled": {"old": False, "new": True}},
        [
            ["systemctl", "enable", "--", "nginx.service"],
            ["systemctl", "start", "--", "nginx.service"],
        ],
    ),
    ("running", {}, "running-enabled", {}, []),
    (
        "running",
        {},
        "failed",
        {"running": {"old": False, "new": True}},
        [["systemctl", "start", "--", "nginx.service"]],
    ),
    (
        "dead",
        {},
        "running-enabled",
        {"running": {"old": True, "new": False}},
        [["systemctl", "stop", "--", "nginx.service"]],
    ),
    (
        "disabled",
        {},
        "running-enabled",
        {"enabled": {"old": True, "new": False}},
        [["systemctl", "disable", "--", "nginx.service"]],
    ),
    ("enabled", {}, "static", {}, []),
]


@pytest.mark.parametrize("fun,args,before,changes,commands", COMMANDS)
def test_state_turns_facts_into_systemctl_commands(fun, args, before, changes, commands):
    predicted = run_state(fun, RecordedSystemctl(before), test=True, **args)
    recorded = RecordedSystemctl(before)
    made = run_state(fun, recorded, **args)
    assert predicted == made == changes
    assert recorded.commands == commands
    assert run_state(fun, recorded, **args) == {}  # converged: a second run changes nothing


def test_watch_restarts_or_reloads():
    recorded = RecordedSystemctl("running-enabled")
    st = ServiceState("running", systemd=lambda: Systemd(run=recorded))
    assert st.watch(ctx(), st.parse("nginx", {"provider": "systemd"})) == {"restarted": True}
    assert st.watch(ctx(), st.parse("nginx", {"provider": "systemd", "reload": True})) == {
        "reloaded": True
    }
    assert recorded.commands == [
        ["systemctl", "restart", "--", "nginx.service"],
        ["systemctl", "reload-or-restart", "--", "nginx.service"],
    ]


@pytest.mark.parametrize(
    "before,fail,message",
    [
        ("not-found", None, "does not exist on this host"),
        ("masked", None, "is masked"),
        ("dead-disabled", "start", "journalctl -u nginx.service"),
        ("no-systemd", None, "not been booted with systemd"),
    ],
)
def test_failures_say_what_to_do(before, fail, message):
    with pytest.raises(StateFailed) as err:
        run_state("running", RecordedSystemctl(before, fail=fail))
    assert message in err.value.comment


def test_program_settings_need_supervisord():
    with pytest.raises(StateArgError):
        ServiceState("running").parse("web", {"provider": "systemd", "command": "/bin/web"})
    with pytest.raises(StateArgError):
        ServiceState("running").parse("-web", {})
    assert isinstance(parse_show("x.service", ""), UnitFacts)


def test_provider_comes_from_the_minion_option_when_not_given():
    recorded = RecordedSystemctl("dead-disabled")
    st = ServiceState("running", systemd=lambda: Systemd(run=recorded))
    opts_ctx = ExecContext(
        grains={},
        pillar={},
        files=None,
        log=logging.getLogger("t"),  # type: ignore[arg-type]
        opts={"service_provider": "systemd"},
    )
    pending = st.check(opts_ctx, st.parse("nginx", {}))
    assert pending.changes == {"running": {"old": False, "new": True}}
