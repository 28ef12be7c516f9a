"""git.config_set and git.config_unset: one key of a repository's (or a user's global) git
configuration.

    user.email:
      git.config_set:
        - value: ops@example.com
        - global: True
        - user: deploy
    core.sshCommand:
      git.config_unset:
        - repo: /srv/app

`repo` (a checkout) or `global: True` (that user's ~/.gitconfig) says which file; `user` runs
git as that user (root otherwise). `multivar` sets every value of a multi-valued key, in
order. Changes: `{name: {old, new}}` (lists for multivars, None when absent).
"""
from __future__ import annotations

import os
import pwd
import subprocess
from dataclasses import dataclass
from typing import Any, Mapping

from core.errors import StateArgError
from minion.state.contract import ExecContext, Pending, StateFailed
from minion.states.specargs import as_bool, as_list, as_str, check_known, one_line


@dataclass(frozen=True)
class ConfigSpec:
    name: str
    values: tuple[str, ...] | None  # None: unset
    repo: str | None
    is_global: bool
    user: str | None
    unset_all: bool = False


def _common(where: str, name: str, args: Mapping[str, Any]) -> tuple[str | None, bool, str | None]:
    if not isinstance(name, str) or "." not in name or name.startswith("-") or any(
            c.isspace() for c in name):
        raise StateArgError(f"{where}: {name!r} is not a git config key (section.key)")
    repo = as_str(where, "repo", args.get("repo"))
    is_global = as_bool(where, "global", args.get("global"))
    if (repo is None) == (not is_global):
        raise StateArgError(f"{where}: give either repo (a checkout) or global: True")
    if repo is not None and not os.path.isabs(repo):
        raise StateArgError(f"{where}: repo must be an absolute path")
    return repo, is_global, as_str(where, "user", args.get("user"))


def _git(spec: ConfigSpec, args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C",
           "GIT_CONFIG_NOSYSTEM": "1"}
    kwargs: dict[str, Any] = {}
    home = "/root"
    if spec.user:
        try:
            entry = pwd.getpwnam(spec.user)
        except KeyError:
            raise StateFailed(f"User {spec.user!r} is not available") from None
        home = entry.pw_dir
        if os.geteuid() == 0:
            kwargs.update(user=entry.pw_uid, group=entry.pw_gid,
                          extra_groups=os.getgrouplist(entry.pw_name, entry.pw_gid))
    elif os.geteuid() != 0:
        home = os.path.expanduser("~")
    env["HOME"] = home
    scope = ["--global"] if spec.is_global else ["--local"]
    cwd = spec.repo or home
    if spec.repo and not os.path.isdir(spec.repo):
        raise StateFailed(f"repo {spec.repo} does not exist")
    try:
        return subprocess.run(["git", "config", *scope, *args], cwd=cwd, env=env, text=True,
                              capture_output=True, timeout=60, **kwargs)
    except FileNotFoundError:
        raise StateFailed("git is not installed (add a pkg.installed for it)") from None


def current(spec: ConfigSpec) -> list[str]:
    proc = _git(spec, ["--get-all", "--", spec.name])
    if proc.returncode == 1:
        return []
    if proc.returncode != 0:
        raise StateFailed(f"git config --get-all {spec.name} failed: {proc.stderr.strip()}")
    return proc.stdout.splitlines()


def _shown(values: list[str] | tuple[str, ...] | None, multi: bool) -> Any:
    if not values:
        return None
    return list(values) if multi or len(values) > 1 else values[0]


class ConfigSet:
    """git.config_set"""

    def parse(self, name: str, args: Mapping[str, Any]) -> ConfigSpec:
        where = "git.config_set"
        check_known(where, args, ("value", "multivar", "repo", "global", "user"))
        repo, is_global, user = _common(where, name, args)
        value, multivar = args.get("value"), args.get("multivar")
        if (value is None) == (multivar is None):
            raise StateArgError(f"{where}: give value or multivar (not both)")
        if multivar is not None:
            values = as_list(where, "multivar", multivar)
        else:
            values = (str(value).lower() if isinstance(value, bool) else str(value),)
        return ConfigSpec(name, tuple(one_line("value", v) for v in values), repo, is_global, user)

    def check(self, ctx: ExecContext, spec: ConfigSpec) -> Pending:
        have = current(spec)
        assert spec.values is not None
        if tuple(have) == spec.values:
            return Pending(comment=f"{spec.name} is already set to the desired value")
        multi = len(spec.values) > 1
        return Pending(changes={spec.name: {"old": _shown(have, multi),
                                            "new": _shown(spec.values, multi)}},
                       comment=f"{spec.name} would be set",
                       applied_comment=f"{spec.name} set")

    def apply(self, ctx: ExecContext, spec: ConfigSpec, pending: Pending) -> dict[str, Any]:
        assert spec.values is not None
        if current(spec):
            _ok(spec, _git(spec, ["--unset-all", "--", spec.name]))
        for value in spec.values:
            _ok(spec, _git(spec, ["--add", "--", spec.name, value]))
        return dict(pending.changes)


class ConfigUnset:
    """git.config_unset"""

    def parse(self, name: str, args: Mapping[str, Any]) -> ConfigSpec:
        where = "git.config_unset"
        check_known(where, args, ("repo", "global", "user", "all"))
        repo, is_global, user = _common(where, name, args)
        return ConfigSpec(name, None, repo, is_global, user,
                          as_bool(where, "all", args.get("all")))

    def check(self, ctx: ExecContext, spec: ConfigSpec) -> Pending:
        have = current(spec)
        if not have:
            return Pending(comment=f"{spec.name} is not set")
        if len(have) > 1 and not spec.unset_all:
            raise StateFailed(f"{spec.name} has {len(have)} values; set all: True to unset them")
        return Pending(changes={spec.name: {"old": _shown(have, False), "new": None}},
                       comment=f"{spec.name} would be unset", applied_comment=f"{spec.name} unset")

    def apply(self, ctx: ExecContext, spec: ConfigSpec, pending: Pending) -> dict[str, Any]:
        _ok(spec, _git(spec, ["--unset-all", "--", spec.name]))
        return dict(pending.changes)


def _ok(spec: ConfigSpec, proc: subprocess.CompletedProcess[str]) -> None:
    if proc.returncode != 0:
        raise StateFailed(f"git config {spec.name} failed: {proc.stderr.strip() or proc.returncode}")
