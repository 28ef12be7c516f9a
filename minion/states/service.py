"""service states: running, dead, enabled, disabled; restart (or reload) when a watched state changed.

Two providers behind one state: systemd (systemctl) and supervisord (a [program:x] section
written from the state's arguments, then supervisord's XML-RPC). The provider is `provider:`
when given, else the minion option `service_provider`, else the `init` grain, else systemd
when it is PID 1 and supervisord otherwise.

    linkpeek-web:
      service.running:
        - provider: supervisord
        - command: /opt/linkpeek/bin/gunicorn app:wsgi
        - user: linkpeek
        - directory: /opt/linkpeek
        - environment: {PORT: "8000"}
        - watch:
          - file: /etc/linkpeek/app.conf
    nginx:
      service.running:
        - enable: True
        - reload: True

Changes: `running: {old, new}`, `enabled: {old, new}`, `config: {old, new}` (the program
section's differing keys); a watch adds `restarted: {old: pid, new: pid}` (or `reloaded`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import StateArgError
from minion.providers import systemd as systemd_mod
from minion.providers.supervisord import (
    DEFAULT_CONF,
    ProgramConfig,
    Supervisord,
    parse_section,
    render_section,
)
from minion.state.contract import ExecContext, Pending, StateFailed
from minion.states.specargs import as_bool, check_known, one_line

SERVICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")
USER_NAME = re.compile(r"^[a-z_][a-z0-9_-]*[$]?$")
ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SIGNALS = ("TERM", "HUP", "INT", "QUIT", "KILL", "USR1", "USR2")
PROGRAM_ARGS = {
    "command",
    "user",
    "directory",
    "environment",
    "autorestart",
    "startsecs",
    "startretries",
    "stopsignal",
    "stopwaitsecs",
}
COMMON_ARGS = {"provider", "enable", "reload", "timeout"}
RUNNING_STATES = {"RUNNING", "STARTING", "BACKOFF"}


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    provider: str | None = None
    enable: bool | None = None
    reload: bool = False
    program: ProgramConfig | None = None
    timeout: float = 60.0


def _int_arg(args: Mapping[str, Any], key: str, default: int) -> int:
    value = args.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise StateArgError(f"{key} must be a non-negative integer")
    return value


def _program(args: Mapping[str, Any], autostart: bool) -> ProgramConfig | None:
    given = PROGRAM_ARGS & set(args)
    if not given:
        return None
    if "command" not in args:
        raise StateArgError(f"{', '.join(sorted(given))} need `command:` (the program to run)")
    user = args.get("user")
    if user is not None and not USER_NAME.match(str(user)):
        raise StateArgError(f"user {user!r} is not a valid user name")
    directory = args.get("directory")
    if directory is not None and not str(directory).startswith("/"):
        raise StateArgError("directory must be an absolute path")
    env = args.get("environment") or {}
    if not isinstance(env, dict):
        raise StateArgError("environment must be a map of NAME: value")
    pairs = []
    for key, value in sorted(env.items()):
        if not ENV_KEY.match(str(key)):
            raise StateArgError(f"environment name {key!r} is not valid")
        text = one_line(f"environment {key}", value)
        if '"' in text or "\\" in text:
            raise StateArgError(f"environment {key}: quotes and backslashes are not supported")
        pairs.append((str(key), text))
    autorestart = args.get("autorestart", "unexpected")
    if isinstance(autorestart, bool):
        autorestart = "true" if autorestart else "false"
    if autorestart not in ("true", "false", "unexpected"):
        raise StateArgError("autorestart must be true, false or unexpected")
    stopsignal = str(args.get("stopsignal", "TERM")).upper().removeprefix("SIG")
    if stopsignal not in SIGNALS:
        raise StateArgError(f"stopsignal must be one of {', '.join(SIGNALS)}")
    return ProgramConfig(
        command=one_line("command", args["command"]),
        user=None if user is None else str(user),
        directory=None if directory is None else one_line("directory", directory),
        environment=tuple(pairs),
        autostart=autostart,
        autorestart=autorestart,
        startsecs=_int_arg(args, "startsecs", 1),
        startretries=_int_arg(args, "startretries", 3),
        stopsignal=stopsignal,
        stopwaitsecs=_int_arg(args, "stopwaitsecs", 10),
    )


class ServiceState:
    """One of service.running/dead/enabled/disabled. Providers are injectable for tests."""

    def __init__(
        self,
        fun: str,
        systemd: Callable[[], systemd_mod.Systemd] = systemd_mod.Systemd,
        supervisord: Callable[[str], Supervisord] = Supervisord,
    ) -> None:
        self.fun = fun
        self._systemd = systemd
        self._supervisord = supervisord

    # -- parse --------------------------------------------------------------------------------
    def parse(self, name: str, args: Mapping[str, Any]) -> ServiceSpec:
        check_known(f"service.{self.fun}", args, PROGRAM_ARGS | COMMON_ARGS)
        if not SERVICE_NAME.match(str(name)):
            raise StateArgError(f"{name!r} is not a valid service name")
        provider = args.get("provider")
        if provider not in (None, "systemd", "supervisord"):
            raise StateArgError("provider must be systemd or supervisord")
        enable = args.get("enable")
        if enable is not None:
            enable = as_bool(f"service.{self.fun}", "enable", enable)
        if self.fun in ("enabled", "disabled"):
            enable = self.fun == "enabled"
        reload = as_bool(f"service.{self.fun}", "reload", args.get("reload"))
        timeout = args.get("timeout", 60)
        if not isinstance(timeout, (int, float)) or timeout <= 0:
            raise StateArgError("timeout must be a positive number of seconds")
        program = _program(args, autostart=True if enable is None else enable)
        if program is not None and provider == "systemd":
            raise StateArgError(
                "command/user/directory/environment define a supervisord "
                "program; for systemd manage the unit file with file.managed"
            )
        return ServiceSpec(str(name), provider, enable, reload, program, float(timeout))

    def _provider(self, ctx: ExecContext, spec: ServiceSpec) -> str:
        if spec.provider:
            return spec.provider
        chosen = ctx.opts.get("service_provider")
        if chosen in ("systemd", "supervisord"):
            return str(chosen)
        init = ctx.grains.get("init")
        if init in ("systemd", "supervisord"):
            return str(init)
        return "systemd" if systemd_mod.is_systemd_host() else "supervisord"

    def _sv(self, ctx: ExecContext, spec: ServiceSpec) -> Supervisord:
        sv = self._supervisord(str(ctx.opts.get("supervisord_conf", DEFAULT_CONF)))
        sv.timeout = spec.timeout
        return sv

    # -- check --------------------------------------------------------------------------------
    def check(self, ctx: ExecContext, spec: ServiceSpec) -> Pending:
        provider = self._provider(ctx, spec)
        if provider == "systemd":
            if spec.program is not None:
                raise StateFailed(
                    "this host runs systemd: command/user/directory/environment "
                    "define a supervisord program; set provider: supervisord"
                )
            return self._check_systemd(spec)
        return self._check_supervisord(ctx, spec)

    def _want_running(self) -> bool | None:
        return {"running": True, "dead": False}.get(self.fun)

    def _check_systemd(self, spec: ServiceSpec) -> Pending:
        facts = self._systemd().facts(spec.name)
        changes: dict[str, Any] = {}
        want = self._want_running()
        if want is not None and facts.active != want:
            if want and facts.masked:
                raise StateFailed(f"{facts.unit} is masked: unmask it before it can run")
            changes["running"] = {"old": facts.active, "new": want}
        if (
            spec.enable is not None
            and facts.enabled is not None
            and facts.enabled != spec.enable
            and not facts.static
        ):
            changes["enabled"] = {"old": facts.enabled, "new": spec.enable}
        comment = f"{facts.unit} is {'running' if facts.active else 'dead'}"
        return Pending(
            changes=changes, comment=comment, facts={"provider": "systemd", "pid": facts.pid}
        )

    def _check_supervisord(self, ctx: ExecContext, spec: ServiceSpec) -> Pending:
        sv = self._sv(ctx, spec)
        changes: dict[str, Any] = {}
        facts: dict[str, Any] = {"provider": "supervisord"}
        current_text = sv.managed_text(spec.name)
        if spec.program is not None:
            new_text = render_section(spec.name, spec.program)
            if current_text != new_text:
                old = parse_section(current_text or "", spec.name) or {}
                new = parse_section(new_text, spec.name) or {}
                keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
                changes["config"] = {
                    "old": {k: old[k] for k in keys if k in old},
                    "new": {k: new[k] for k in keys if k in new},
                }
                facts["config_text"] = new_text
        elif spec.enable is not None:
            settings = sv.current_settings(spec.name)
            if settings is None:
                raise StateFailed(
                    f"supervisord has no program {spec.name}: give `command:` to "
                    f"define it, or add its section under {sv.include_dir}"
                )
            have = settings.get("autostart", "true") == "true"
            if have != spec.enable:
                if current_text is None:
                    raise StateFailed(
                        f"program {spec.name} is defined outside linkpeek-ops; give "
                        f"`command:` to manage its section here"
                    )
                changes["enabled"] = {"old": have, "new": spec.enable}
                facts["config_text"] = re.sub(
                    r"(?m)^autostart=.*$",
                    f"autostart={'true' if spec.enable else 'false'}",
                    current_text,
                )
        info = sv.info(spec.name)
        want = self._want_running()
        statename = info.get("statename") if info else None
        # "running" means RUNNING for running (a BACKOFF loop is not running), but anything
        # still alive (STARTING, BACKOFF) is something dead has to stop.
        running = statename == "RUNNING" if want else statename in RUNNING_STATES
        if want and info is None and spec.program is None:
            raise StateFailed(
                f"supervisord has no program {spec.name}: give `command:` (and "
                f"user, directory, environment) to define it here"
            )
        if want is not None and running != want:
            changes["running"] = {"old": running, "new": want}
        facts["pid"] = info.get("pid") if info else None
        state = info.get("statename", "unknown").lower() if info else "not defined"
        return Pending(changes=changes, comment=f"program {spec.name} is {state}", facts=facts)

    # -- apply --------------------------------------------------------------------------------
    def apply(self, ctx: ExecContext, spec: ServiceSpec, pending: Pending) -> dict[str, Any]:
        if pending.facts.get("provider") == "systemd":
            return self._apply_systemd(spec, pending)
        sv = self._sv(ctx, spec)
        text = pending.facts.get("config_text")
        if text is not None:
            sv.write_section(spec.name, text)
            sv.update(spec.name)
        want = self._want_running()
        if want:
            sv.start(spec.name)
        elif want is False:
            sv.stop(spec.name)
        return dict(pending.changes)

    def _apply_systemd(self, spec: ServiceSpec, pending: Pending) -> dict[str, Any]:
        ctl = self._systemd()
        if "enabled" in pending.changes:
            (ctl.enable if spec.enable else ctl.disable)(spec.name)
        if "running" in pending.changes:
            (ctl.start if pending.changes["running"]["new"] else ctl.stop)(spec.name)
        return dict(pending.changes)

    # -- watch --------------------------------------------------------------------------------
    def check_watch(self, ctx: ExecContext, spec: ServiceSpec) -> Pending:
        if self.fun != "running":
            return Pending()
        verb = "reloaded" if spec.reload else "restarted"
        return Pending(changes={verb: True}, comment=f"{spec.name} would be {verb}")

    def watch(self, ctx: ExecContext, spec: ServiceSpec) -> dict[str, Any]:
        """A watched state changed: restart (or reload, with `reload: True`) a running service."""
        if self.fun != "running":
            return {}
        if self._provider(ctx, spec) == "systemd":
            ctl = self._systemd()
            (ctl.reload if spec.reload else ctl.restart)(spec.name)
            return {"reloaded" if spec.reload else "restarted": True}
        sv = self._sv(ctx, spec)
        info = sv.info(spec.name) or {}
        if spec.reload:
            sv.reload(spec.name)
            return {"reloaded": True}
        new_pid = sv.restart(spec.name)
        return {"restarted": {"old": info.get("pid"), "new": new_pid}}


FUNCTIONS = {fun: ServiceState(fun) for fun in ("running", "dead", "enabled", "disabled")}
