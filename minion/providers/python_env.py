"""Python environments: create venvs, see what is installed in one, plan and run pip installs.

What is installed is read by the venv's own interpreter (importlib.metadata); whether a
requirement is met is decided here with `packaging`; what pip *would* install comes from
`pip install --dry-run --report -`, so test mode predicts exactly what a real run installs.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from minion.providers.process import run, run_ok
from minion.state.contract import StateFailed

PIP_ENV = {
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_NO_INPUT": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
}
LIST_SCRIPT = (
    "import importlib.metadata as m, json; print(json.dumps("
    "{d.metadata['Name']: d.version for d in m.distributions()}))"
)


@dataclass(frozen=True)
class PipOptions:
    no_index: bool = False
    find_links: tuple[str, ...] = ()
    upgrade: bool = False
    index_url: str | None = None

    def argv(self) -> list[str]:
        """pip's flags; URLs (which may hold a token) travel in env() instead."""
        out: list[str] = []
        if self.no_index:
            out.append("--no-index")
        for link in self.find_links:
            if any(c.isspace() for c in link):  # a local path PIP_FIND_LINKS cannot carry
                out += ["--find-links", link]
        if self.upgrade:
            out.append("--upgrade")
        return out

    def env(self) -> dict[str, str]:
        """The index URL and find-links for pip's environment, off every process's argv."""
        out: dict[str, str] = {}
        if self.index_url:
            out["PIP_INDEX_URL"] = self.index_url
        links = [link for link in self.find_links if not any(c.isspace() for c in link)]
        if links:
            out["PIP_FIND_LINKS"] = " ".join(links)
        return out


def parse_requirement(text: str) -> Requirement:
    """A PEP 508 requirement; StateFailed-free: raises ValueError for the parse step."""
    if text.startswith("-"):
        raise ValueError(f"{text!r} looks like an option, not a requirement")
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        raise ValueError(f"{text!r} is not a valid requirement: {exc}") from exc


def requirements_in_file(path: str) -> list[str] | None:
    """The plain requirement lines of a requirements file; None if it uses options we skip."""
    found: list[str] = []
    with open(path) as fh:
        for raw in fh:
            line = raw.split(" #", 1)[0].strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("-"):
                return None
            found.append(line)
    return found


def venv_python(venv: str) -> str:
    return os.path.join(venv, "bin", "python")


def exists(venv: str) -> bool:
    return os.path.isfile(venv_python(venv))


def create(venv: str, python: str, system_site_packages: bool, pip: bool) -> None:
    argv = [python, "-m", "venv"]
    if system_site_packages:
        argv.append("--system-site-packages")
    if not pip:
        argv.append("--without-pip")
    run_ok(
        [*argv, "--", venv],
        what=f"creating virtualenv {venv}",
        hint=f"Check that {python} exists and has the venv module (Debian: python3-venv).",
    )


def installed(venv: str) -> dict[str, str]:
    """{canonical name: version} of what the venv has."""
    result = run_ok([venv_python(venv), "-c", LIST_SCRIPT], what=f"reading packages of {venv}")
    return {canonicalize_name(k): v for k, v in json.loads(result.stdout).items()}


def unmet(requirements: list[str], have: dict[str, str]) -> list[str]:
    """Requirements that the installed set does not satisfy."""
    missing = []
    for text in requirements:
        req = parse_requirement(text)
        if req.marker is not None and not req.marker.evaluate():
            continue
        version = have.get(canonicalize_name(req.name))
        if version is None or (
            req.specifier and not req.specifier.contains(version, prereleases=True)
        ):
            missing.append(text)
    return missing


def _pip(venv: str) -> list[str]:
    """pip for this venv: its own, or the minion's with --python when the venv has none."""
    if (
        exists(venv)
        and os.path.isdir(os.path.join(venv, "lib"))
        and any(
            os.path.isdir(os.path.join(venv, "lib", d, "site-packages", "pip"))
            for d in os.listdir(os.path.join(venv, "lib"))
        )
    ):
        return [venv_python(venv), "-m", "pip"]
    if exists(venv):
        return [sys.executable, "-m", "pip", "--python", venv_python(venv)]
    return [sys.executable, "-m", "pip"]


def _targets(requirements: list[str], req_file: str | None) -> list[str]:
    return [
        *(["-r", req_file] if req_file else []),
        *(["--"] + requirements if requirements else []),
    ]


def _fail(result_tail: str, options: PipOptions) -> StateFailed:
    where = (
        f"find_links {', '.join(options.find_links)}" if options.find_links else "the package index"
    )
    return StateFailed(
        f"pip cannot install the requirements: {result_tail}\nCheck the names and "
        f"versions, and that matching packages are in {where}."
    )


def plan(
    venv: str, requirements: list[str], req_file: str | None, options: PipOptions
) -> dict[str, dict[str, str | None]]:
    """What pip would install: {name: {old, new}}, from a dry run (read-only)."""
    ignore = [] if exists(venv) else ["--ignore-installed"]
    result = run(
        [
            *_pip(venv),
            "install",
            "--dry-run",
            "--quiet",
            "--report",
            "-",
            *ignore,
            *options.argv(),
            *_targets(requirements, req_file),
        ],
        env={**PIP_ENV, **options.env()},
    )
    if not result.ok:
        raise _fail(result.tail(4), options)
    report = json.loads(result.stdout or "{}")
    have = installed(venv) if exists(venv) else {}
    changes: dict[str, dict[str, str | None]] = {}
    for item in report.get("install", []):
        meta = item.get("metadata", {})
        name = canonicalize_name(meta.get("name", ""))
        changes[name] = {"old": have.get(name), "new": meta.get("version")}
    return changes


def install(
    venv: str, requirements: list[str], req_file: str | None, options: PipOptions
) -> dict[str, dict[str, str | None]]:
    """Install and return what changed, as {name: {old, new}}."""
    before = installed(venv)
    result = run(
        [*_pip(venv), "install", "--quiet", *options.argv(), *_targets(requirements, req_file)],
        env={**PIP_ENV, **options.env()},
    )
    if not result.ok:
        raise _fail(result.tail(4), options)
    after = installed(venv)
    return {
        name: {"old": before.get(name), "new": version}
        for name, version in sorted(after.items())
        if before.get(name) != version
    }
