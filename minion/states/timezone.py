"""timezone.system: the host's time zone.

    Europe/Berlin:
      timezone.system: []

As on Debian: /etc/localtime is a symlink to /usr/share/zoneinfo/NAME and /etc/timezone
holds NAME (both written by this state; no timedatectl, so it works without systemd too).
`utc` (Salt's hardware-clock flag) is accepted; the hardware clock is not managed here.
Changes: `{timezone: NAME}`.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Mapping

from core.errors import StateArgError
from minion.providers.atomic import write_atomic
from minion.providers.safefs import link_in, locate, read_file
from minion.state.contract import ExecContext, Pending, StateFailed
from minion.states.specargs import as_bool, check_known

ZONEINFO = "/usr/share/zoneinfo"
ZONE = re.compile(r"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$")


@dataclass(frozen=True)
class ZoneSpec:
    name: str
    utc: bool


def current_zone(localtime: str = "/etc/localtime", timezone: str = "/etc/timezone") -> str | None:
    """The zone /etc/localtime points at (else /etc/timezone's), None when neither says."""
    linked = _linked_zone(localtime)
    return linked if linked is not None else _written_zone(timezone)


def _linked_zone(localtime: str) -> str | None:
    try:
        target = os.readlink(localtime)
    except OSError:
        return None
    marker = "zoneinfo/"
    return target.split(marker, 1)[1] if marker in target else None


def _written_zone(timezone: str) -> str | None:
    data = read_file(timezone)
    return data.decode().strip() or None if data is not None else None


class System:
    """timezone.system"""

    def parse(self, name: str, args: Mapping[str, Any]) -> ZoneSpec:
        check_known("timezone.system", args, ("utc",))
        if not isinstance(name, str) or not ZONE.match(name) or ".." in name:
            raise StateArgError(f"timezone.system: {name!r} is not a time zone name "
                                "(e.g. Europe/Berlin, UTC)")
        return ZoneSpec(name, as_bool("timezone.system", "utc", args.get("utc"), True))

    def check(self, ctx: ExecContext, spec: ZoneSpec) -> Pending:
        if not os.path.isfile(os.path.join(ZONEINFO, spec.name)):
            raise StateFailed(f"time zone {spec.name} is not in {ZONEINFO} (is tzdata installed?)")
        written = _written_zone("/etc/timezone")
        linked = _linked_zone("/etc/localtime")
        have = linked if linked is not None else written
        if have == spec.name and written == spec.name:
            return Pending(comment=f"Timezone {spec.name} already set")
        return Pending(changes={"timezone": spec.name},
                       comment=f"Timezone {spec.name} needs to be set",
                       applied_comment=f"Set timezone {spec.name}")

    def apply(self, ctx: ExecContext, spec: ZoneSpec, pending: Pending) -> dict[str, Any]:
        with locate("/etc/localtime") as entry:
            link_in(entry, os.path.join(ZONEINFO, spec.name))
        write_atomic("/etc/timezone", spec.name + "\n", 0o644)
        return dict(pending.changes)


FUNCTIONS = {"system": System()}
