"""sysctl.present: a kernel parameter has a value now and after a reboot.

    net.ipv4.ip_forward:
      sysctl.present:
        - value: 1
    vm.swappiness:
      sysctl.present:
        - value: 10
        - config: /etc/sysctl.d/60-linkpeek.conf

The running value is read from and written to /proc/sys; the persistent one is the
`name = value` line of `config` (Salt's default /etc/sysctl.d/99-salt.conf, so a host Salt
managed is not drift here), written through the atomic writer. Values compare with their
whitespace squashed (`4096 87380 6291456` and the kernel's tabs are the same value).
Changes: `{name: value}`.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Mapping

from core.errors import StateArgError
from minion.providers.atomic import write_atomic
from minion.providers.safefs import DirSpec, read_file
from minion.state.contract import ExecContext, Pending, StateFailed
from minion.states.specargs import check_known, one_line

DEFAULT_CONFIG = "/etc/sysctl.d/99-salt.conf"
NAME = re.compile(r"^[A-Za-z0-9_-]+([./][A-Za-z0-9_*:@-]+)*$")
PROC = "/proc/sys"


@dataclass(frozen=True)
class SysctlSpec:
    name: str
    value: str
    config: str


def _squash(value: str) -> str:
    return " ".join(value.split())


def proc_path(name: str, root: str = PROC) -> str:
    return os.path.join(root, name.replace(".", "/"))


class Present:
    """sysctl.present"""

    def parse(self, name: str, args: Mapping[str, Any]) -> SysctlSpec:
        check_known("sysctl.present", args, ("value", "config"))
        if not isinstance(name, str) or not NAME.match(name) or ".." in name:
            raise StateArgError(f"sysctl.present: {name!r} is not a kernel parameter name")
        value = args.get("value")
        if value is None or isinstance(value, (dict, list)):
            raise StateArgError("sysctl.present: value is required (a number or a string)")
        config = one_line("config", args.get("config") or DEFAULT_CONFIG)
        if not os.path.isabs(config):
            raise StateArgError("sysctl.present: config must be an absolute path")
        text = str(int(value)) if isinstance(value, bool) else str(value)
        return SysctlSpec(name, _squash(one_line("value", text)), config)

    def check(self, ctx: ExecContext, spec: SysctlSpec) -> Pending:
        path = proc_path(spec.name, str(ctx.opts.get("sysctl_proc", PROC)))
        try:
            with open(path, encoding="utf-8") as fh:
                running = _squash(fh.read())
        except FileNotFoundError:
            raise StateFailed(f"sysctl {spec.name} does not exist on this kernel") from None
        except OSError as exc:
            raise StateFailed(f"cannot read sysctl {spec.name}: {exc.strerror}") from None
        lines = _config_lines(spec.config)
        persisted = next((_squash(v) for k, v in _entries(lines) if k == spec.name), None)
        if running == spec.value and persisted == spec.value:
            return Pending(comment=f"Sysctl value {spec.name} = {spec.value} is already set")
        return Pending(
            changes={spec.name: spec.value},
            facts={"write_proc": running != spec.value, "path": path},
            comment=f"Sysctl option {spec.name} set to be changed to {spec.value}",
            applied_comment=f"Updated sysctl value {spec.name} = {spec.value}",
        )

    def apply(self, ctx: ExecContext, spec: SysctlSpec, pending: Pending) -> dict[str, Any]:
        lines = _config_lines(spec.config)
        wanted = f"{spec.name} = {spec.value}"
        out, done = [], False
        for line in lines:
            key = _key(line)
            if key == spec.name:
                if not done:
                    out.append(wanted)
                    done = True
                continue
            out.append(line)
        if not done:
            out.append(wanted)
        write_atomic(spec.config, "".join(f"{ln}\n" for ln in out), 0o644, make_dirs=DirSpec(0o755))
        if pending.facts.get("write_proc"):
            try:
                with open(pending.facts["path"], "w", encoding="utf-8") as fh:
                    fh.write(spec.value)
            except OSError as exc:
                raise StateFailed(f"cannot set sysctl {spec.name}: {exc.strerror} (the value "
                                  f"is in {spec.config} for the next boot)") from None
        return dict(pending.changes)


def _config_lines(path: str) -> list[str]:
    data = read_file(path)
    return [] if data is None else data.decode("utf-8", "replace").splitlines()


def _key(line: str) -> str | None:
    stripped = line.strip()
    if not stripped or stripped[0] in "#;" or "=" not in stripped:
        return None
    return stripped.split("=", 1)[0].strip().lstrip("-")


def _entries(lines: list[str]) -> list[tuple[str, str]]:
    return [(k, line.split("=", 1)[1].strip()) for line in lines if (k := _key(line))]


FUNCTIONS = {"present": Present()}
