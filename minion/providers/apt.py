"""apt/dpkg provider: facts from dpkg-query and apt-cache, changes with apt-get (one call).

Facts are pure parsers over command output (tested with recorded output); the functions that
run commands are thin wrappers around them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from minion.providers.process import run, run_ok
from minion.state.contract import StateFailed

# Debian policy: package names are lowercase letters, digits, + - . and start alphanumeric.
PACKAGE_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")
# Debian versions: [epoch:]upstream[-revision]; never starts with "-".
VERSION = re.compile(r"^[0-9][A-Za-z0-9.+~:-]*$")
APT_ENV = {"DEBIAN_FRONTEND": "noninteractive", "APT_LISTCHANGES_FRONTEND": "none"}
DPKG_FORMAT = "${Package}\t${Status}\t${Version}\n"


@dataclass(frozen=True)
class PackageStatus:
    """dpkg's view of one package: `installed` version, or None; `config_left` after a remove."""

    name: str
    installed: str | None
    config_left: bool = False


def parse_dpkg_query(output: str) -> dict[str, PackageStatus]:
    """Parse `dpkg-query -W -f=DPKG_FORMAT` output."""
    found: dict[str, PackageStatus] = {}
    for line in output.splitlines():
        parts = line.split("\t")
        if len(parts) != 3:
            continue
        name, status, version = parts
        name = name.split(":", 1)[0]
        state = status.split()[-1] if status.split() else ""
        if state == "installed":
            found[name] = PackageStatus(name, version)
        elif state == "config-files":
            found[name] = PackageStatus(name, None, config_left=True)
    return found


def parse_policy(output: str) -> dict[str, tuple[str | None, list[str]]]:
    """Parse `apt-cache policy` into {name: (candidate or None, versions in the table)}."""
    result: dict[str, tuple[str | None, list[str]]] = {}
    name = None
    candidate: str | None = None
    versions: list[str] = []
    in_table = False
    for line in output.splitlines():
        if line and not line[0].isspace() and line.endswith(":"):
            if name:
                result[name] = (candidate, versions)
            name, candidate, versions, in_table = line[:-1].split(":")[0], None, [], False
            continue
        stripped = line.strip()
        if stripped.startswith("Candidate:"):
            value = stripped.split(":", 1)[1].strip()
            candidate = None if value == "(none)" else value
        elif stripped.startswith("Version table:"):
            in_table = True
        elif in_table and line.startswith("     ") and not line.startswith("        "):
            # "     2.10-3 500" or " *** 2.10-3 500"
            versions.append(stripped.replace("***", "").split()[0])
        elif in_table and line.startswith(" *** "):
            versions.append(stripped.replace("***", "").split()[0])
    if name:
        result[name] = (candidate, versions)
    return result


def check_name(name: str) -> str:
    if not PACKAGE_NAME.match(name):
        raise StateFailed(
            f"{name!r} is not a valid Debian package name "
            f"(lowercase letters, digits, '+', '-', '.'; starting alphanumeric)"
        )
    return name


def status(names: list[str]) -> dict[str, PackageStatus]:
    """Installed state of each package (absent ones map to PackageStatus(name, None))."""
    result = run(["dpkg-query", "-W", f"-f={DPKG_FORMAT}", "--", *names])
    found = parse_dpkg_query(result.stdout)
    return {n: found.get(n, PackageStatus(n, None)) for n in names}


def policy(names: list[str], release: str | None = None) -> dict[str, tuple[str | None, list[str]]]:
    """Candidate and known versions of each package (the candidate from `release` when given,
    as `apt-get -t` picks it); unknown packages are missing from the map."""
    result = run(["apt-cache", *_release_opt(release), "policy", "--", *names])
    return parse_policy(result.stdout)


def refresh() -> None:
    run_ok(
        ["apt-get", "update", "-q"],
        what="apt-get update",
        env=APT_ENV,
        hint="Check the host's network and its apt sources (pkgrepo.managed).",
    )


def _release_opt(release: str | None) -> list[str]:
    return ["-o", f"APT::Default-Release={release}"] if release else []


def install(targets: list[str], release: str | None = None) -> None:
    """Install `name` or `name=version` targets in one apt-get call (from `release`: -t)."""
    run_ok(
        [
            "apt-get",
            *_release_opt(release),
            "install",
            "-y",
            "-q",
            "--no-install-recommends",
            "--allow-downgrades",
            "-o",
            "Dpkg::Options::=--force-confdef",
            "-o",
            "Dpkg::Options::=--force-confold",
            "--",
            *targets,
        ],
        what="apt-get install",
        env=APT_ENV,
        hint="If a package cannot be fetched, set refresh: True or check the host's apt sources.",
    )


def remove(names: list[str], purge: bool) -> None:
    run_ok(
        ["apt-get", "purge" if purge else "remove", "-y", "-q", "--", *names],
        what=f"apt-get {'purge' if purge else 'remove'}",
        env=APT_ENV,
    )


def installed() -> dict[str, str]:
    """{name: version} of every installed package."""
    result = run(["dpkg-query", "-W", f"-f={DPKG_FORMAT}"])
    return {name: st.installed for name, st in parse_dpkg_query(result.stdout).items() if st.installed}


def upgrade(dist: bool = False) -> None:
    """Upgrade every installed package (`dist-upgrade` may also add or remove packages)."""
    run_ok(
        [
            "apt-get",
            "dist-upgrade" if dist else "upgrade",
            "-y",
            "-q",
            "-o",
            "Dpkg::Options::=--force-confdef",
            "-o",
            "Dpkg::Options::=--force-confold",
        ],
        what="apt-get upgrade",
        env=APT_ENV,
        timeout=3600,
    )
