"""pkg states: installed, latest, removed, purged (apt/dpkg on Debian hosts).

    web-packages:
      pkg.installed:
        - pkgs: [nginx, {python3: 3.11.2-1+b1}]
        - refresh: True
    sudo:
      pkg.installed:
        - version: latest                  # as pkg.latest
        - fromrepo: bookworm-backports     # apt-get -t bookworm-backports
    tools:
      pkg.installed:
        - pkgs: [{jq: '1.6*'}, {curl: '>=7.88'}]   # Salt's version specs: a glob or a comparison
    hello:
      pkg.latest: []
    telnet:
      pkg.purged: []

Changes are per package: `{hello: {old: "", new: "2.10-3"}}`. All packages of one state are
installed or removed in a single apt-get call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import StateArgError
from minion.providers import apt, debversion
from minion.state.contract import ExecContext, Pending, StateFailed
from minion.states.specargs import as_bool, as_str, check_known

UNKNOWN_HINT = (
    "check the spelling, or add the repository that has it (pkgrepo.managed) and set refresh: True"
)


RELEASE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+~/-]*$")
LATEST = "latest"  # Salt's `version: latest`: the candidate version, as pkg.latest


@dataclass(frozen=True)
class PkgSpec:
    name: str
    packages: tuple[tuple[str, str | None], ...]  # (name, pinned version, "latest", or None)
    refresh: bool = False
    fromrepo: str | None = None  # the apt release to install from (apt-get -t)


def _parse_packages(
    where: str, name: str, args: Mapping[str, Any], allow_versions: bool
) -> PkgSpec:
    raw = args.get("pkgs")
    entries: list[tuple[str, str | None]] = []
    if raw is None:
        version = args.get("version")
        entries.append((str(name), None if version is None else str(version)))
    else:
        if not isinstance(raw, list) or not raw:
            raise StateArgError("pkgs must be a non-empty list of names or {name: version} maps")
        for item in raw:
            if isinstance(item, str):
                entries.append((item, None))
            elif isinstance(item, dict) and len(item) == 1:
                ((pkg, ver),) = item.items()
                entries.append((str(pkg), None if ver is None else str(ver)))
            else:
                raise StateArgError(
                    f"pkgs entry {item!r} must be a name or a {{name: version}} map"
                )
    for pkg, ver in entries:
        if not apt.PACKAGE_NAME.match(pkg):
            raise StateArgError(f"{pkg!r} is not a valid Debian package name")
        if ver is not None and (
            not allow_versions
            or (ver != LATEST and not apt.VERSION.match(ver) and not debversion.is_spec(ver))
        ):
            raise StateArgError(f"version {ver!r} for {pkg} is not allowed here or not valid")
    refresh = as_bool(where, "refresh", args.get("refresh"))
    fromrepo = as_str(where, "fromrepo", args.get("fromrepo"))
    if fromrepo is not None and not RELEASE.match(fromrepo):
        raise StateArgError(f"{where}: fromrepo {fromrepo!r} is not an apt release name")
    check_known(where, args, ("pkgs", "version", "refresh", "fromrepo"))
    return PkgSpec(str(name), tuple(entries), refresh, fromrepo)


def _names(spec: PkgSpec) -> list[str]:
    return [pkg for pkg, _ in spec.packages]


class Installed:
    """pkg.installed: every package installed, at its pinned version when one is given."""

    latest = False

    def parse(self, name: str, args: Mapping[str, Any]) -> PkgSpec:
        where = "pkg.latest" if self.latest else "pkg.installed"
        return _parse_packages(where, name, args, allow_versions=not self.latest)

    def check(self, ctx: ExecContext, spec: PkgSpec) -> Pending:
        names = _names(spec)
        current = apt.status(names)
        known = apt.policy(names, spec.fromrepo)
        changes: dict[str, Any] = {}
        targets: list[str] = []
        for pkg, pinned in spec.packages:
            have = current[pkg].installed
            candidate, versions = known.get(pkg, (None, []))
            if candidate is None and have is None:
                if spec.refresh:
                    want = "(latest after apt-get update)"
                else:
                    raise StateFailed(
                        f"package {pkg!r} is not known to apt on this host: {UNKNOWN_HINT}"
                    )
            elif pinned == LATEST:
                want, pinned = candidate or have or "", None
            elif pinned is not None and debversion.is_spec(pinned):
                if have is not None and debversion.matches(have, pinned):
                    want, pinned = have, None
                else:
                    chosen = debversion.best(versions, pinned)
                    if chosen is None:
                        raise StateFailed(
                            f"no version of {pkg} matches {pinned} "
                            f"(available: {', '.join(versions) or 'none'})")
                    want = pinned = chosen
            elif pinned is not None:
                if pinned not in versions and pinned != have and not spec.refresh:
                    raise StateFailed(
                        f"version {pinned} of {pkg} is not available "
                        f"(available: {', '.join(versions) or 'none'}); "
                        f"pin one of those or add the repository that has it"
                    )
                want = pinned
            elif self.latest:
                want = candidate or have or ""
            else:
                want = have or candidate or ""
            if have != want:
                changes[pkg] = {"old": have or "", "new": want}
                targets.append(pkg if pinned is None else f"{pkg}={pinned}")
        if not changes:
            what = "at their latest version" if self.latest else "installed"
            return Pending(comment=f"all packages {what}: {', '.join(names)}")
        return Pending(changes=changes, facts={"targets": targets})

    def apply(self, ctx: ExecContext, spec: PkgSpec, pending: Pending) -> dict[str, Any]:
        if spec.refresh:
            apt.refresh()
        apt.install(pending.facts["targets"], spec.fromrepo)
        after = apt.status(list(pending.changes))
        made: dict[str, Any] = {}
        for pkg, change in pending.changes.items():
            now = after[pkg].installed
            if now is None:
                raise StateFailed(f"{pkg} is still not installed after apt-get install")
            made[pkg] = {"old": change["old"], "new": now}
        return made


class Latest(Installed):
    """pkg.latest: every package installed at apt's candidate version."""

    latest = True


class Removed:
    """pkg.removed (or pkg.purged with purge=True): packages not installed."""

    def __init__(self, purge: bool = False) -> None:
        self.purge = purge

    def parse(self, name: str, args: Mapping[str, Any]) -> PkgSpec:
        where = "pkg.purged" if self.purge else "pkg.removed"
        return _parse_packages(where, name, args, allow_versions=False)

    def check(self, ctx: ExecContext, spec: PkgSpec) -> Pending:
        current = apt.status(_names(spec))
        changes: dict[str, Any] = {}
        for pkg, info in current.items():
            if info.installed is not None:
                changes[pkg] = {"old": info.installed, "new": ""}
            elif self.purge and info.config_left:
                changes[pkg] = {"old": "config-files", "new": ""}
        if not changes:
            return Pending(
                comment=f"none of {', '.join(current)} {'present' if self.purge else 'installed'}"
            )
        return Pending(changes=changes)

    def apply(self, ctx: ExecContext, spec: PkgSpec, pending: Pending) -> dict[str, Any]:
        apt.remove(list(pending.changes), purge=self.purge)
        after = apt.status(list(pending.changes))
        left = [
            p for p, info in after.items() if info.installed or (self.purge and info.config_left)
        ]
        if left:
            raise StateFailed(f"still present after apt-get: {', '.join(left)}")
        return dict(pending.changes)


FUNCTIONS = {
    "installed": Installed(),
    "latest": Latest(),
    "removed": Removed(),
    "purged": Removed(purge=True),
}
