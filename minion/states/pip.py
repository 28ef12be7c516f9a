"""pip.installed: Python packages installed into a virtualenv (`bin_env`).

    app-deps:
      pip.installed:
        - pkgs: [gunicorn==22.0.0, "linkpeek>=1.4"]
        - bin_env: /opt/linkpeek/venv
        - no_index: True
        - find_links: /srv/wheels
        - require:
          - virtualenv: /opt/linkpeek/venv

Changes are per distribution, dependencies included: `{gunicorn: {old: null, new: 22.0.0}}`.
Test mode asks pip for a dry run, so it predicts exactly what the real run installs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import StateArgError
from minion.providers import python_env
from minion.state.contract import ExecContext, Pending, StateFailed
from minion.states.specargs import as_bool, check_known

OPTION_ARGS = {"no_index", "find_links", "upgrade", "index_url"}


def parse_options(where: str, args: Mapping[str, Any]) -> python_env.PipOptions:
    links = args.get("find_links") or []
    if isinstance(links, str):
        links = [links]
    if not isinstance(links, list) or any(str(x).startswith("-") for x in links):
        raise StateArgError("find_links must be a path or URL, or a list of them")
    no_index = as_bool(where, "no_index", args.get("no_index"))
    upgrade = as_bool(where, "upgrade", args.get("upgrade"))
    index_url = args.get("index_url")
    if index_url is not None and str(index_url).startswith("-"):
        raise StateArgError("index_url must be a URL")
    return python_env.PipOptions(
        no_index,
        tuple(str(x) for x in links),
        upgrade,
        None if index_url is None else str(index_url),
    )


def parse_requirements(raw: list[Any]) -> tuple[str, ...]:
    out = []
    for item in raw:
        try:
            python_env.parse_requirement(str(item))
        except ValueError as exc:
            raise StateArgError(str(exc)) from exc
        out.append(str(item))
    return tuple(out)


@dataclass(frozen=True)
class PipSpec:
    venv: str
    requirements: tuple[str, ...]
    options: python_env.PipOptions


class Installed:
    """pip.installed."""

    def parse(self, name: str, args: Mapping[str, Any]) -> PipSpec:
        check_known("pip.installed", args, OPTION_ARGS | {"pkgs", "bin_env"})
        venv = args.get("bin_env")
        if not isinstance(venv, str) or not venv.startswith("/"):
            raise StateArgError("bin_env must be the absolute path of a virtualenv")
        venv = venv.removesuffix("/bin/pip").removesuffix("/bin/python")
        pkgs = args.get("pkgs", [name])
        if not isinstance(pkgs, list) or not pkgs:
            raise StateArgError("pkgs must be a non-empty list of requirements")
        return PipSpec(venv, parse_requirements(pkgs), parse_options("pip.installed", args))

    def check(self, ctx: ExecContext, spec: PipSpec) -> Pending:
        reqs = list(spec.requirements)
        if (
            python_env.exists(spec.venv)
            and not spec.options.upgrade
            and not python_env.unmet(reqs, python_env.installed(spec.venv))
        ):
            return Pending(comment=f"all requirements met in {spec.venv}")
        changes = python_env.plan(spec.venv, reqs, None, spec.options)
        if not changes:
            return Pending(comment=f"all requirements met in {spec.venv}")
        return Pending(changes=changes)

    def apply(self, ctx: ExecContext, spec: PipSpec, pending: Pending) -> dict[str, Any]:
        if not python_env.exists(spec.venv):
            raise StateFailed(
                f"{spec.venv} is not a virtualenv: add a virtualenv.managed state "
                f"for it and require it"
            )
        return python_env.install(spec.venv, list(spec.requirements), None, spec.options)


FUNCTIONS = {"installed": Installed()}
