"""git provider: ls-remote / rev-parse facts and clone / fetch / checkout, never interactive.

Every call runs with GIT_TERMINAL_PROMPT=0 and ssh in batch mode, so a URL that wants a
password or does not answer fails instead of hanging; URLs and revs never start with "-".

Credentials in a URL (`https://deploy:TOKEN@git.example.com/app.git`) never reach an argv or
`.git/config`: git is given the URL without the password (`Remote.url`) and a credential
helper, set through git's GIT_CONFIG_* environment, that prints the password from the
environment (readable by root only). Any helper in the user's git config is reset for that
call, so no `store` helper writes the password to disk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit, urlunsplit

from minion.providers.process import CommandResult, run
from minion.state.contract import StateFailed

SHA = re.compile(r"^[0-9a-f]{40}$")
GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "/bin/false",
    "GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o ConnectTimeout=15",
}


USER_VAR = "LINKPEEK_GIT_USERNAME"
PASSWORD_VAR = "LINKPEEK_GIT_PASSWORD"
ORIGIN_VAR = "LINKPEEK_GIT_ORIGIN"  # "protocol=https host=git.example.com:8443": the only place it answers
# git's credential protocol: `get` with protocol=/host= lines on stdin; answer only for our
# repository's own scheme and host (never a redirect's or a submodule's), from the environment.
CREDENTIAL_HELPER = (
    f'!f() {{ test "$1" = get || return 0; asked=; while IFS= read -r line && test -n "$line"; do '
    f'case "$line" in protocol=*|host=*) asked="$asked $line";; esac; done; '
    f'test "$asked" = " ${ORIGIN_VAR}" || return 0; '
    f'printf "username=%s\\npassword=%s\\n" "${USER_VAR}" "${PASSWORD_VAR}"; }}; f'
)


@dataclass(frozen=True)
class Remote:
    """A repository URL split from its password: `url` is what git and .git/config see."""

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    origin: str = ""  # "protocol=https host=HOST[:PORT]"

    @property
    def env(self) -> dict[str, str]:
        """The environment that hands git the password (empty when there is none)."""
        if self.username is None and self.password is None:
            return {}
        return {
            "GIT_CONFIG_COUNT": "2",
            "GIT_CONFIG_KEY_0": "credential.helper",
            "GIT_CONFIG_VALUE_0": "",
            "GIT_CONFIG_KEY_1": "credential.helper",
            "GIT_CONFIG_VALUE_1": CREDENTIAL_HELPER,
            USER_VAR: self.username or "",
            PASSWORD_VAR: self.password or "",
            ORIGIN_VAR: self.origin,
        }


def split_credentials(url: str, user: str | None = None, password: str | None = None) -> Remote:
    """The URL without its user and password, and those credentials (`user`/`password` win
    over the URL's own, as Salt's https_user/https_pass). A user alone (`https://TOKEN@host`,
    a token as user name) is moved out too. Only http(s) URLs carry credentials."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return Remote(url)
    username = user or (unquote(parts.username) if parts.username is not None else None)
    secret = password if password is not None else (
        unquote(parts.password) if parts.password is not None else None)
    if username is None and secret is None:
        return Remote(url)
    host = parts.netloc.rpartition("@")[2]
    return Remote(urlunsplit(parts._replace(netloc=host)), username or "", secret or "",
                  f"protocol={parts.scheme} host={host}")


def redacted(url: str) -> str:
    """`url` with any user and password shown as ***, for changes and messages."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))


@dataclass(frozen=True)
class RemoteRev:
    sha: str
    branch: str | None  # the branch to check out, or None (tag or sha: detached)


def git(args: list[str], cwd: str | None = None, timeout: float = 120.0,
        remote: Remote | None = None) -> CommandResult:
    env = {**GIT_ENV, **(remote.env if remote is not None else {})}
    return run(["git", *args], cwd=cwd, env=env, timeout=timeout)


def git_ok(args: list[str], what: str, cwd: str | None = None,
           remote: Remote | None = None) -> CommandResult:
    result = git(args, cwd=cwd, remote=remote)
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


def resolve_remote(remote: Remote, rev: str) -> RemoteRev:
    """What `rev` is on the remote now; StateFailed when the remote cannot be reached."""
    url = remote.url
    result = git(["ls-remote", "--symref", "--", url], timeout=60, remote=remote)
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
