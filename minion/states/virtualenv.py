"""virtualenv.managed: a Python venv at `name`, with the packages of `requirements` installed.

    /opt/linkpeek/venv:
      virtualenv.managed:
        - python: /usr/bin/python3
        - requirements: salt://linkpeek/requirements.txt
        - no_index: True
        - find_links: /srv/wheels

Changes: `venv: {old: null, new: PATH}` when created, then one entry per distribution that
pip installs or changes.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import StateArgError
from minion.providers import python_env
from minion.state.contract import ExecContext, Pending, StateFailed
from minion.states.pip import OPTION_ARGS, parse_options
from minion.states.specargs import as_bool, check_known


@dataclass(frozen=True)
class VenvSpec:
    path: str
    python: str
    requirements: str | None
    system_site_packages: bool
    pip: bool
    options: python_env.PipOptions


class Managed:
    """virtualenv.managed."""

    def parse(self, name: str, args: Mapping[str, Any]) -> VenvSpec:
        check_known(
            "virtualenv.managed",
            args,
            OPTION_ARGS | {"python", "requirements", "system_site_packages", "pip"},
        )
        path = str(name)
        if not path.startswith("/") or "\0" in path:
            raise StateArgError("the virtualenv's name must be an absolute path")
        python = str(args.get("python", "python3"))
        if python.startswith("-"):
            raise StateArgError("python must be an interpreter path or name")
        reqs = args.get("requirements")
        if reqs is not None and not (str(reqs).startswith("/") or str(reqs).startswith("salt://")):
            raise StateArgError("requirements must be an absolute path or a salt:// URL")
        where = "virtualenv.managed"
        site = as_bool(where, "system_site_packages", args.get("system_site_packages"))
        with_pip = as_bool(where, "pip", args.get("pip"), default=True)
        return VenvSpec(
            os.path.normpath(path),
            python,
            None if reqs is None else str(reqs),
            site,
            with_pip,
            parse_options(where, args),
        )

    def _req_file(self, ctx: ExecContext, spec: VenvSpec) -> str | None:
        if spec.requirements is None:
            return None
        if spec.requirements.startswith("salt://"):
            return ctx.files.cache_file(spec.requirements)
        return spec.requirements

    def check(self, ctx: ExecContext, spec: VenvSpec) -> Pending:
        changes: dict[str, Any] = {}
        if not python_env.exists(spec.path):
            if os.path.exists(spec.path) and os.listdir(spec.path):
                raise StateFailed(f"{spec.path} exists and is not a virtualenv: move it away")
            if shutil.which(spec.python) is None:
                raise StateFailed(
                    f"python interpreter {spec.python!r} not found: install it "
                    f"(pkg.installed python3-venv) or set python:"
                )
            changes["venv"] = {"old": None, "new": spec.path}
        req_file = self._req_file(ctx, spec)
        if req_file:
            listed = python_env.requirements_in_file(req_file)
            met = (
                listed is not None
                and python_env.exists(spec.path)
                and not spec.options.upgrade
                and not python_env.unmet(listed, python_env.installed(spec.path))
            )
            if not met:
                changes.update(python_env.plan(spec.path, [], req_file, spec.options))
        if not changes:
            return Pending(comment=f"virtualenv {spec.path} is up to date")
        return Pending(changes=changes, facts={"req_file": req_file})

    def apply(self, ctx: ExecContext, spec: VenvSpec, pending: Pending) -> dict[str, Any]:
        made: dict[str, Any] = {}
        if "venv" in pending.changes:
            python_env.create(spec.path, spec.python, spec.system_site_packages, spec.pip)
            made["venv"] = pending.changes["venv"]
        req_file = pending.facts.get("req_file")
        if req_file:
            made.update(python_env.install(spec.path, [], req_file, spec.options))
        return made


FUNCTIONS = {"managed": Managed()}
