"""supervisord provider: program sections in supervisord's include dir, control over XML-RPC.

The program section is written from the state's arguments (one file per program, replaced
atomically); supervisord is then told to re-read its config and to add, replace or start the
program through its XML-RPC interface on the unix socket (what `supervisorctl update/start/stop`
do, without a Python start-up per call).
"""

from __future__ import annotations

import configparser
import glob
import http.client
import os
import socket
import time
import xmlrpc.client
from dataclasses import dataclass
from typing import Any

from minion.providers.atomic import write_atomic
from minion.providers.safefs import DirSpec, read_file
from minion.state.contract import StateFailed

DEFAULT_CONF = "/etc/supervisor/supervisord.conf"
HEADER = "; managed by linkpeek-ops: edits here are replaced on the next state run\n"
RUNNING = "RUNNING"
FAILED_STATES = {"BACKOFF", "FATAL", "EXITED", "UNKNOWN"}
STOPPED_STATES = {"STOPPED", "EXITED", "FATAL"}
FAULT_BAD_NAME = 10
FAULT_ALREADY_STARTED = 60
FAULT_NOT_RUNNING = 70


@dataclass(frozen=True)
class ProgramConfig:
    """A [program:x] section. Values are validated by the state (no newlines)."""

    command: str
    user: str | None = None
    directory: str | None = None
    environment: tuple[tuple[str, str], ...] = ()
    autostart: bool = True
    autorestart: str = "unexpected"
    startsecs: int = 1
    startretries: int = 3
    stopsignal: str = "TERM"
    stopwaitsecs: int = 10

    def settings(self) -> dict[str, str]:
        """The section's keys as supervisord reads them (values already %-escaped)."""
        esc = lambda s: s.replace("%", "%%")
        out = {"command": esc(self.command)}
        if self.user:
            out["user"] = esc(self.user)
        if self.directory:
            out["directory"] = esc(self.directory)
        if self.environment:
            out["environment"] = ",".join(f'{k}="{esc(v)}"' for k, v in self.environment)
        out.update(
            {
                "autostart": "true" if self.autostart else "false",
                "autorestart": self.autorestart,
                "startsecs": str(self.startsecs),
                "startretries": str(self.startretries),
                "stopsignal": self.stopsignal,
                "stopwaitsecs": str(self.stopwaitsecs),
                "redirect_stderr": "true",
            }
        )
        return out


def render_section(name: str, config: ProgramConfig) -> str:
    lines = [HEADER, f"[program:{name}]\n"]
    lines += [f"{key}={value}\n" for key, value in config.settings().items()]
    return "".join(lines)


def parse_section(text: str, name: str) -> dict[str, str] | None:
    """The keys of [program:name] in a conf file's text, or None when the section is missing."""
    parser = configparser.RawConfigParser(strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    section = f"program:{name}"
    return dict(parser.items(section)) if parser.has_section(section) else None


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.unix_path)
        self.sock = sock


class _UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__()
        self.unix_path = path
        self.timeout = timeout

    def make_connection(self, host: Any) -> http.client.HTTPConnection:
        return _UnixConnection(self.unix_path, self.timeout)


class Supervisord:
    """Talks to one supervisord, found from its main config file."""

    def __init__(self, conf: str = DEFAULT_CONF, timeout: float = 60.0) -> None:
        self.conf = conf
        self.timeout = timeout
        parser = configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=False)
        try:
            parser.read(conf)
        except configparser.Error as exc:
            raise StateFailed(f"cannot read supervisord config {conf}: {exc}") from exc
        self.socket = parser.get("unix_http_server", "file", fallback="/var/run/supervisor.sock")
        include = parser.get("include", "files", fallback="/etc/supervisor/conf.d/*.conf").split()[
            0
        ]
        if not os.path.isabs(include):
            include = os.path.join(os.path.dirname(conf), include)
        self.include_dir = os.path.dirname(include)
        self.include_glob = include

    # -- config files -------------------------------------------------------------------------
    def conf_path(self, name: str) -> str:
        return os.path.join(self.include_dir, f"{name}.conf")

    def managed_text(self, name: str) -> str | None:
        data = read_file(os.path.abspath(self.conf_path(name)), follow=False)
        return None if data is None else data.decode("utf-8", "replace")

    def current_settings(self, name: str) -> dict[str, str] | None:
        """The program's section wherever supervisord's include finds it (ours first)."""
        for path in [self.conf_path(name), *sorted(glob.glob(self.include_glob))]:
            try:
                with open(path) as fh:
                    found = parse_section(fh.read(), name)
            except OSError:
                continue
            if found is not None:
                return found
        return None

    def write_section(self, name: str, text: str) -> None:
        """Replace our include file for program `name` with `text` (a rendered section);
        a section with an `environment` line is readable by root only (0600)."""
        mode = 0o600 if "\nenvironment" in f"\n{text}" else 0o644  # env often holds secrets
        write_atomic(self.conf_path(name), text, mode=mode, make_dirs=DirSpec())

    # -- XML-RPC ------------------------------------------------------------------------------
    def _rpc(self) -> Any:
        if not os.path.exists(self.socket):
            raise StateFailed(
                f"supervisord is not running on this host (no socket {self.socket}): "
                f"install the supervisor package and start it first"
            )
        return xmlrpc.client.ServerProxy(
            "http://localhost/RPC2", transport=_UnixTransport(self.socket, self.timeout)
        )

    def _call(self, method: str, *args: Any) -> Any:
        try:
            return getattr(self._rpc().supervisor, method)(*args)
        except (TimeoutError, ConnectionError, FileNotFoundError) as exc:
            raise StateFailed(
                f"supervisord does not answer on {self.socket} ({exc}); is it running?"
            ) from exc

    def info(self, name: str) -> dict[str, Any] | None:
        """supervisord's process info for `name`, or None when it does not know the program."""
        try:
            return self._call("getProcessInfo", name)
        except xmlrpc.client.Fault as fault:
            if fault.faultCode == FAULT_BAD_NAME:
                return None
            raise StateFailed(f"supervisord: {fault.faultString}") from fault

    def update(self, name: str) -> None:
        """Re-read the config and add, replace or remove program `name` as it now says."""
        added, changed, removed = self._call("reloadConfig")[0]
        if name in changed or name in removed:
            try:
                self._call("stopProcessGroup", name, True)
            except xmlrpc.client.Fault:
                pass
            self._call("removeProcessGroup", name)
        if name in changed or name in added:
            self._call("addProcessGroup", name)

    def log_tail(self, name: str, size: int = 800) -> str:
        try:
            text = self._call("tailProcessStdoutLog", name, 0, size)[0]
        except (xmlrpc.client.Fault, StateFailed):
            return ""
        return text.strip()

    def start(self, name: str) -> int:
        """Start `name` (if it is not already starting) and wait until RUNNING; return its pid."""
        try:
            self._call("startProcess", name, False)
        except xmlrpc.client.Fault as fault:
            if fault.faultCode != FAULT_ALREADY_STARTED:
                raise self._failed(name, fault.faultString) from fault
        return self.wait_running(name)

    def wait_running(self, name: str) -> int:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            info = self.info(name) or {}
            state = info.get("statename")
            if state == RUNNING:
                return int(info["pid"])
            if state in FAILED_STATES:
                try:
                    self._call("stopProcess", name, True)  # no restart loop left behind
                except xmlrpc.client.Fault:
                    pass
                raise self._failed(
                    name,
                    info.get("spawnerr")
                    or f"exited right after start (exit status {info.get('exitstatus')})",
                )
            time.sleep(0.05)
        raise StateFailed(f"program {name} did not reach RUNNING within {self.timeout:.0f}s")

    def _failed(self, name: str, why: str) -> StateFailed:
        tail = self.log_tail(name)
        log = f"\nlast output:\n{tail}" if tail else ""
        return StateFailed(
            f"program {name} could not be kept running: {why}. "
            f"Check its command, user and directory (try running the command by "
            f"hand on the host).{log}"
        )

    def stop(self, name: str) -> None:
        try:
            self._call("stopProcess", name, True)
        except xmlrpc.client.Fault as fault:
            if fault.faultCode != FAULT_NOT_RUNNING:
                raise StateFailed(
                    f"supervisord could not stop {name}: {fault.faultString}"
                ) from fault

    def restart(self, name: str) -> int:
        self.stop(name)
        return self.start(name)

    def reload(self, name: str) -> None:
        try:
            self._call("signalProcess", name, "HUP")
        except xmlrpc.client.Fault as fault:
            raise StateFailed(
                f"supervisord could not signal {name}: {fault.faultString}"
            ) from fault
