"""git.latest: a checkout of a repository at the remote's current rev (branch, tag or sha).

    /opt/linkpeek/app:
      git.latest:
        - name: https://git.example.com/linkpeek/app.git
        - target: /opt/linkpeek/app
        - rev: main
        - force_reset: False

Changes: `revision: {old: sha or None, new: sha}`; `remote` when the origin URL changes;
`local_changes` when force_reset discards edits. Local edits or local commits that the
checkout would lose fail the state unless `force_reset: True`.

Credentials (`https://deploy:{{ pillar['git_token'] }}@git.example.com/app.git`, or Salt's
`https_user` / `https_pass`) reach git through the environment, never its argv; the
checkout's origin is the URL without them (a token an older checkout kept in .git/config is
removed, shown as a `remote` change).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.errors import StateArgError
from minion.providers import git as gitp
from minion.state.contract import ExecContext, Pending, StateFailed
from minion.states.git_config import ConfigSet, ConfigUnset
from minion.states.specargs import as_bool, check_known

REV = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./+-]*$")


@dataclass(frozen=True)
class GitSpec:
    url: str
    target: str
    rev: str = "HEAD"
    force_reset: bool = False
    https_user: str | None = None
    https_pass: str | None = field(default=None, repr=False)

    @property
    def remote(self) -> gitp.Remote:
        return gitp.split_credentials(self.url, self.https_user, self.https_pass)


class Latest:
    """git.latest."""

    def parse(self, name: str, args: Mapping[str, Any]) -> GitSpec:
        check_known("git.latest", args, ("target", "rev", "branch", "force_reset", "https_user", "https_pass"))
        url = str(name)
        if url.startswith("-") or any(c in url for c in "\n\r\0 "):
            raise StateArgError(f"{gitp.redacted(url)!r} is not a repository URL")
        target = args.get("target")
        if not isinstance(target, str) or not target.startswith("/") or "\0" in target:
            raise StateArgError("target must be an absolute path")
        rev = str(args.get("rev", args.get("branch", "HEAD")))
        if not REV.match(rev) or ".." in rev:
            raise StateArgError(f"rev {rev!r} is not a valid branch, tag or commit")
        force_reset = as_bool("git.latest", "force_reset", args.get("force_reset"))
        creds = [args.get(k) for k in ("https_user", "https_pass")]
        if any(c is not None and (not isinstance(c, str) or any(x in c for x in "\n\r\0")) for c in creds):
            raise StateArgError("https_user and https_pass must be single-line strings")
        spec = GitSpec(url, os.path.normpath(target), rev, force_reset, *creds)
        remote = spec.remote   # what the credential helper answers git with: one line each
        if any(x in (remote.username or "") + (remote.password or "") for x in "\n\r\0"):
            raise StateArgError("the user and password in the URL must be single-line (no %0a, %0d or %00)")
        return spec

    def check(self, ctx: ExecContext, spec: GitSpec) -> Pending:
        remote = gitp.resolve_remote(spec.remote, spec.rev)
        facts = {"sha": remote.sha, "branch": remote.branch}
        if not os.path.exists(spec.target) or (
            os.path.isdir(spec.target) and not os.listdir(spec.target)
        ):
            return Pending(changes={"revision": {"old": None, "new": remote.sha}}, facts=facts)
        if not os.path.isdir(os.path.join(spec.target, ".git")):
            raise StateFailed(
                f"{spec.target} exists and is not a git checkout: move it away or "
                f"choose another target"
            )
        changes: dict[str, Any] = {}
        url = gitp.origin_url(spec.target)
        if url != spec.remote.url:
            changes["remote"] = {"old": url and gitp.redacted(url), "new": spec.remote.url}
        current = gitp.head(spec.target)
        if current != remote.sha:
            changes["revision"] = {"old": current, "new": remote.sha}
        if gitp.is_dirty(spec.target):
            if not spec.force_reset:
                raise StateFailed(
                    f"{spec.target} has local changes: commit them elsewhere, or "
                    f"set force_reset: True to discard them"
                )
            changes["local_changes"] = {"old": "modified", "new": "discarded"}
        if not changes:
            return Pending(comment=f"{spec.target} is at {remote.sha[:12]} ({spec.rev})")
        return Pending(changes=changes, facts=facts)

    def apply(self, ctx: ExecContext, spec: GitSpec, pending: Pending) -> dict[str, Any]:
        sha, branch = pending.facts["sha"], pending.facts["branch"]
        fresh = pending.changes.get("revision", {}).get("old") is None and not os.path.isdir(
            os.path.join(spec.target, ".git")
        )
        remote = spec.remote
        if fresh:
            os.makedirs(os.path.dirname(spec.target) or "/", exist_ok=True)
            gitp.git_ok(
                ["clone", "--quiet", "--no-checkout", "--", remote.url, spec.target],
                f"git clone {remote.url}",
                remote=remote,
            )
        elif "remote" in pending.changes:
            gitp.git_ok(
                ["remote", "set-url", "origin", remote.url], "git remote set-url", cwd=spec.target
            )
        if not fresh:
            gitp.git_ok(
                ["fetch", "--quiet", "--tags", "--force", "origin"],
                "git fetch",
                cwd=spec.target,
                remote=remote,
            )
            current = gitp.head(spec.target)
            if current and not spec.force_reset and not gitp.is_ancestor(spec.target, current, sha):
                raise StateFailed(
                    f"{spec.target} has commits that {spec.rev} does not have "
                    f"(HEAD {current[:12]}): set force_reset: True to reset to "
                    f"{sha[:12]}"
                )
        force = ["--force"] if spec.force_reset or fresh else []
        if branch:
            gitp.git_ok(
                ["checkout", "--quiet", *force, "-B", branch, sha], "git checkout", cwd=spec.target
            )
        else:
            gitp.git_ok(
                ["checkout", "--quiet", *force, "--detach", sha], "git checkout", cwd=spec.target
            )
        if spec.force_reset:
            gitp.git_ok(["reset", "--quiet", "--hard", sha], "git reset", cwd=spec.target)
        now = gitp.head(spec.target)
        if now != sha:
            raise StateFailed(f"{spec.target} is at {now} after checkout, expected {sha}")
        return dict(pending.changes)


FUNCTIONS = {"latest": Latest(), "config_set": ConfigSet(), "config_unset": ConfigUnset()}
