"""`health: checks:` in pillar, parsed. `{address}` in a url or host is the target's address.

    health:
      checks:
        https-healthz:
          type: http
          url: https://{address}/healthz
          status: 200                 # expected status (default 200)
          text: ok                    # expected in the body (optional)
          verify: true                # TLS verification: true, false (self-signed), or
          ca_file: /srv/lp/ca.pem     # against this CA (a file on the master) / ca_pem: PEM text
          server_name: linkpeek.example.org   # TLS name and Host header when url has an address
          timeout: 10
        postgres-port: {type: tcp, host: "{address}", port: 5432}
        programs: {type: command, command: supervisorctl status linkpeek-web}   # on the minion
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Mapping, Union
from urllib.parse import urlsplit

from core.errors import ConfigError

TYPES = ("http", "tcp", "command")
DEFAULT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class HttpCheck:
    name: str
    url: str
    status: int = 200
    text: str | None = None
    verify: bool = True
    ca_file: str | None = None
    ca_pem: str | None = None
    server_name: str | None = None
    timeout: float = DEFAULT_TIMEOUT_S
    type: str = "http"


@dataclass(frozen=True)
class TcpCheck:
    name: str
    host: str
    port: int
    timeout: float = DEFAULT_TIMEOUT_S
    type: str = "tcp"


@dataclass(frozen=True)
class CommandCheck:
    name: str
    command: str
    timeout: float = 60.0
    type: str = "command"


Check = Union[HttpCheck, TcpCheck, CommandCheck]
_CLASSES: dict[str, Any] = {"http": HttpCheck, "tcp": TcpCheck, "command": CommandCheck}
_KEYS = {kind: {f.name for f in fields(cls)} - {"name"} for kind, cls in _CLASSES.items()}


def _bool(name: str, key: str, value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "yes", "on", "1", "false", "no", "off", "0"):
        return str(value).lower() in ("true", "yes", "on", "1")
    raise ConfigError(f"health check {name}: {key} must be true or false, not {value!r}")


def _number(name: str, key: str, value: Any, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError(f"health check {name}: {key} must be a positive number")
    return float(value)


def parse_check(name: str, spec: Any) -> Check:
    if not isinstance(spec, Mapping):
        raise ConfigError(f"health check {name}: must be a mapping with a type ({', '.join(TYPES)})")
    kind = spec.get("type")
    if not isinstance(kind, str) or kind not in _KEYS:
        raise ConfigError(f"health check {name}: type must be one of {', '.join(TYPES)}, "
                          f"not {repr(kind)[:80]}, like `type: http`")
    unknown = sorted(set(map(str, spec)) - _KEYS[kind])
    if unknown:
        raise ConfigError(f"health check {name}: {kind} checks take {', '.join(sorted(_KEYS[kind]))}, "
                          f"not {', '.join(unknown)}")
    timeout = _number(name, "timeout", spec.get("timeout"), _CLASSES[kind].timeout)
    if kind == "http":
        url = str(spec.get("url") or "")
        if urlsplit(url).scheme not in ("http", "https"):
            raise ConfigError(f"health check {name}: url must be an http:// or https:// URL")
        status = spec.get("status", 200)
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise ConfigError(f"health check {name}: status must be an HTTP status code")
        text = spec.get("text")
        return HttpCheck(name, url, status, None if text is None else str(text),
                         _bool(name, "verify", spec.get("verify"), True),
                         None if spec.get("ca_file") is None else str(spec["ca_file"]),
                         None if spec.get("ca_pem") is None else str(spec["ca_pem"]),
                         None if spec.get("server_name") is None else str(spec["server_name"]),
                         timeout)
    if kind == "tcp":
        port = spec.get("port")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ConfigError(f"health check {name}: port must be a port number")
        return TcpCheck(name, str(spec.get("host") or "{address}"), port, timeout)
    command = spec.get("command")
    if not isinstance(command, str) or not command.strip():
        raise ConfigError(f"health check {name}: command must be a shell command")
    return CommandCheck(name, command, timeout)


def parse_checks(pillar_health: Any) -> list[Check]:
    """The checks of pillar's `health` value (`{checks: {name: spec}}`), sorted by name."""
    if pillar_health in (None, ""):
        return []
    if not isinstance(pillar_health, Mapping):
        raise ConfigError("pillar health must be a mapping with checks:")
    checks = pillar_health.get("checks") or {}
    if not isinstance(checks, Mapping):
        raise ConfigError("pillar health:checks must map names to checks")
    return [parse_check(str(name), spec) for name, spec in sorted(checks.items(), key=lambda kv: str(kv[0]))]
