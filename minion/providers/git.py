"""git provider: ls-remote / rev-parse facts and clone / fetch / checkout, never interactive.

Every call runs with GIT_TERMINAL_PROMPT=0 and ssh in batch mode, so a URL that wants a
password or does not answer fails instead of hanging; URLs and revs never start with "-".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from minion.providers.process import CommandResult, run
from minion.state.contract import StateFailed

SHA = re.compile(r"^[0-9a-f]{40}$")
GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "/bin/false",
    "GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o ConnectTimeout=15",
}


@dataclass(frozen=True)
class RemoteRev:
    sha: str
    branch: str | None  # the branch to check out, or None (tag or sha: detached)


def git(args: list[str], cwd: str | None = None, timeout: float = 120.0) -> CommandResult:
    return run(["git", *args], cwd=cwd, env=GIT_ENV, timeout=timeout)


def git_ok(args: list[str], what: str, cwd: str | None = None) -> CommandResult:
    result = git(args, cwd=cwd)
    if not result.ok:
        raise StateFailed(f"{what} failed: {result.tail()}")
    return result


def parse_ls_remote(output: str) -> tuple[dict[str, str], str | None]:
    """{ref: sha} (peeled tags as the tag's commit) and HEAD's branch, from `ls-remote --symref`."""
    refs: dict[str, str] = {}
    head_branch = None
    for line in output.splitlines():
        if line.startswith("ref: ") and line.endswith("\tHEAD"):
            head_branch = line[5:].split("\t")[0].removeprefix("refs/heads/")
            continue
        parts = line.split("\t")
        if len(parts) != 2:
            continue
        sha, ref = parts
        if ref.endswith("^{}"):
            refs[ref[:-3]] = sha  # the commit a tag points to wins over the tag object
        else:
            refs.setdefault(ref, sha)
    return refs, head_branch


def resolve_remote(url: str, rev: str) -> RemoteRev:
    """What `rev` is on the remote now; StateFailed when the remote cannot be reached."""
    result = git(["ls-remote", "--symref", "--", url], timeout=60)
    if not result.ok:
        raise StateFailed(
            f"cannot read git repository {url}: {result.tail(3)}. Check the URL, "
            f"that this host can reach it, and its access keys"
        )
    refs, head_branch = parse_ls_remote(result.stdout)
    if rev == "HEAD":
        if head_branch and f"refs/heads/{head_branch}" in refs:
            return RemoteRev(refs[f"refs/heads/{head_branch}"], head_branch)
        if "HEAD" in refs:
            return RemoteRev(refs["HEAD"], None)
        raise StateFailed(f"{url} is an empty repository: push a commit first")
    if f"refs/heads/{rev}" in refs:
        return RemoteRev(refs[f"refs/heads/{rev}"], rev)
    if f"refs/tags/{rev}" in refs:
        return RemoteRev(refs[f"refs/tags/{rev}"], None)
    if SHA.match(rev):
        return RemoteRev(rev, None)
    raise StateFailed(f"{url} has no branch or tag {rev!r}: check `rev`")


def head(target: str) -> str | None:
    result = git(["rev-parse", "--verify", "-q", "HEAD"], cwd=target)
    return result.stdout.strip() if result.ok else None


def origin_url(target: str) -> str | None:
    result = git(["config", "--get", "remote.origin.url"], cwd=target)
    return result.stdout.strip() if result.ok else None


def is_dirty(target: str) -> bool:
    result = git_ok(["status", "--porcelain", "--untracked-files=no"], "git status", cwd=target)
    return bool(result.stdout.strip())


def is_ancestor(target: str, older: str, newer: str) -> bool:
    return git(["merge-base", "--is-ancestor", older, newer], cwd=target).ok
