"""Run a host's declared health checks: http and tcp from here, command ones on the minion.

    report = run_checks(MasterHealthServices(cfg), pillar["health"], "web1")
    report = run_checks(services, pillar["health"], "web1", address="10.231.0.9")   # a drill's
    report.healthy, report.results                     # scratch host, checked with web1's checks

`services` is anything with `run_command(target_id, command, timeout) -> (ok, output)`; with
`address=None` it also needs `address_of(target_id) -> str | None`.
"""
from __future__ import annotations

import ipaddress
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from core.errors import ConfigError, LinkpeekError
from master.health.checks import Check, CommandCheck, HttpCheck, TcpCheck, parse_checks
from master.health.probes import http_probe, tcp_probe


class HealthServices(Protocol):
    def run_command(self, target_id: str, command: str, timeout: float) -> tuple[bool, str]: ...

    def address_of(self, target_id: str) -> str | None: ...


@dataclass(frozen=True)
class CheckResult:
    name: str
    type: str
    healthy: bool
    detail: str
    duration: float


@dataclass
class HealthReport:
    minion: str
    address: str | None
    results: list[CheckResult] = field(default_factory=list)
    error: str | None = None         # the checks could not be read or run at all

    @property
    def healthy(self) -> bool:
        return self.error is None and all(r.healthy for r in self.results)

    def to_json(self) -> dict[str, Any]:
        return {"minion": self.minion, "address": self.address, "healthy": self.healthy,
                "error": self.error, "checks": {r.name: asdict(r) for r in self.results}}


def reachable_address(value: Any) -> str | None:
    """`value` when it is a plain IP address a host could be reached at; else None. A minion
    reports its own grains: a host name, a port or path spliced in, a loopback, unspecified
    or link-local address would point the master's probes at something else."""
    try:
        ip = ipaddress.ip_address(str(value))
    except ValueError:
        return None
    if ip.is_loopback or ip.is_unspecified or ip.is_link_local or ip.is_multicast or ip.is_reserved:
        return None
    return str(ip)


def grains_address(grains: Any) -> str | None:
    """The first of a minion's reported `ipv4` grains that `reachable_address` lets through."""
    for addr in (grains or {}).get("ipv4") or []:
        usable = reachable_address(addr)
        if usable:
            return usable
    return None


def command_outcome(success: Any, ret: Any, retcode: Any) -> tuple[bool, str]:
    """(passed, "exit N: last line of output") of a cmd.run_all return."""
    out = ret if isinstance(ret, dict) else {}
    text = (str(out.get("stdout", "")) + "\n" + str(out.get("stderr", ""))).strip()
    last = text.splitlines()[-1] if text else ""
    return bool(success), f"exit {out.get('retcode', retcode)}" + (f": {last[:200]}" if last else "")


def _fill(text: str, address: str | None) -> str:
    if "{address}" in text:
        if not address:
            raise ConfigError("the check names {address} but the host's address is not known "
                              "(give --address, or let the minion report its grains)")
        host = f"[{address}]" if ":" in address else address
        return text.replace("{address}", host)
    return text


def run_check(services: HealthServices, check: Check, target_id: str, address: str | None) -> CheckResult:
    started = time.monotonic()
    try:
        if isinstance(check, HttpCheck):
            ok, detail = http_probe(check, _fill(check.url, address))
        elif isinstance(check, TcpCheck):
            ok, detail = tcp_probe(check, _fill(check.host, address).strip("[]"))
        elif isinstance(check, CommandCheck):
            ok, detail = services.run_command(target_id, check.command, check.timeout)
        else:  # pragma: no cover (parse_checks makes only these)
            ok, detail = False, f"unknown check {check!r}"
    except (ConfigError, LinkpeekError, OSError, ValueError) as exc:   # ValueError: a bad URL
        ok, detail = False, str(exc)
    return CheckResult(check.name, check.type, ok, detail, round(time.monotonic() - started, 3))


def run_checks(services: HealthServices, checks_from_pillar: Any, target_id: str,
               address: str | None = None) -> HealthReport:
    """Run every check of a host's pillar `health` (or an already parsed list) against
    `address` (default: the target's own, from `services.address_of`)."""
    try:
        checks = list(checks_from_pillar) if isinstance(checks_from_pillar, list) \
            else parse_checks(checks_from_pillar)
    except ConfigError as exc:
        return HealthReport(target_id, address, error=str(exc))
    if address is None and any(not isinstance(c, CommandCheck) for c in checks):
        address = services.address_of(target_id)
    report = HealthReport(target_id, address)
    report.results = [run_check(services, check, target_id, address) for check in checks]
    return report


class MasterHealthServices:
    """HealthServices of a running master: addresses from stored grains, commands as jobs."""

    def __init__(self, cfg: Any) -> None:
        self.cfg = cfg

    def address_of(self, target_id: str) -> str | None:
        from master.api import known_minions

        return grains_address((known_minions(self.cfg).get(target_id) or {}).get("grains"))

    def run_command(self, target_id: str, command: str, timeout: float) -> tuple[bool, str]:
        from master.api import run_job

        for event in run_job(self.cfg, target_id, "cmd.run_all", [command], tgt_type="list",
                             timeout=timeout):
            if event["event"] == "return" and event["minion"] == target_id:
                return command_outcome(event["success"], event["ret"], event.get("retcode"))
            if event["event"] == "done" and event.get("missing"):
                return False, f"{target_id} did not answer ({event['missing'].get(target_id, 'no return')})"
        return False, f"{target_id} did not answer"


def pillar_health(cfg: Any, minion_id: str) -> Any:
    """The `health` value of a minion's pillar, compiled as the master would for it."""
    from master.minion_grains import stored_grains
    from master.pillar import PillarService, secrets_key_path

    grains, _ = stored_grains(cfg, minion_id)
    pillar, _ = PillarService(cfg.pillar_tree, secrets_key_path(cfg.root)).compile_for(minion_id, grains)
    return pillar.get("health")
