"""Issue 14.3: git.latest with credentials in the URL keeps them off every argv and out of
.git/config, against a real git smart-HTTP server on loopback that demands them (git's own
http-backend behind HTTP Basic auth, tests/execfns/gitserver.py)."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.execfns.argv import sample_while
from tests.execfns.gitserver import GitHTTPServer
from tests.runner.conftest import Harness, chunk

CANARY = "tok-5e1b7c-canary"
GIT = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.invalid", "-c", "init.defaultBranch=main"]


def _git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def _commit(work: Path, text: str) -> str:
    (work / "app.txt").write_text(text)
    _git("add", "app.txt", cwd=work)
    _git("commit", "-q", "-m", text, cwd=work)
    _git("push", "-q", "origin", "HEAD:main", cwd=work)
    return _git("rev-parse", "HEAD", cwd=work)


@pytest.fixture(scope="module")
def served():
    root = Path(tempfile.mkdtemp(prefix="lp-gitsrv-"))  # not pytest's basetemp: other sessions rotate it
    try:
        _git("init", "-q", "--bare", "-b", "main", str(root / "app.git"))
        _git("clone", "-q", str(root / "app.git"), str(root / "work"))
        first = _commit(root / "work", "v1\n")
        with GitHTTPServer(str(root), user="deploy", password=CANARY, delay=0.1) as server:
            yield server, root / "work", first
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    (tmp_path / "tree").mkdir()
    return Harness(tmp_path / "tree", tmp_path)


def _latest(url: str, target: Path, **args: str):
    return chunk("git.latest", f"app-{target.name}", url, target=str(target), rev="main", **args)


def test_a_token_in_the_url_reaches_git_by_environment_only(served, harness: Harness, tmp_path: Path):
    server, work, first = served
    url = server.url("app.git").replace("http://", f"http://deploy:{CANARY}@")
    target = tmp_path / "app"
    res, seen = sample_while(lambda: harness.run([_latest(url, target)]), CANARY)
    (out,) = res.values()
    assert out["result"] is True, out["comment"]
    assert out["changes"]["revision"] == {"old": None, "new": first}
    assert seen.seen(b"git\0clone") and seen.samples > 5
    assert not seen.leaked, seen.leaked
    assert (target / "app.txt").read_text() == "v1\n"
    assert CANARY not in (target / ".git" / "config").read_text()
    assert _git("config", "--get", "remote.origin.url", cwd=target) == server.url("app.git")

    second = _commit(work, "v2\n")  # the fetch path: origin without the token, the helper gives it
    res, seen = sample_while(lambda: harness.run([_latest(url, target)]), CANARY)
    (out,) = res.values()
    assert out["result"] is True, out["comment"]
    assert out["changes"] == {"revision": {"old": first, "new": second}}
    assert seen.seen(b"git\0fetch") and not seen.leaked, seen.leaked
    assert not list(target.joinpath(".git").glob("**/*credential*"))


def test_https_user_and_pass_and_a_wrong_password(served, harness: Harness, tmp_path: Path):
    server, _work, _first = served
    ok, seen = sample_while(lambda: harness.run(
        [_latest(server.url("app.git"), tmp_path / "a", https_user="deploy", https_pass=CANARY)]), CANARY)
    assert next(iter(ok.values()))["result"] is True
    assert seen.seen(b"git\0clone") and not seen.leaked, seen.leaked   # the sampling saw git run
    refused_before = server.refused
    wrong = server.url("app.git").replace("http://", "http://deploy:not-the-password@")
    (out,) = harness.run([_latest(wrong, tmp_path / "b")]).values()
    assert out["result"] is False and server.refused > refused_before
    assert "cannot read git repository" in out["comment"] and "not-the-password" not in out["comment"]
    assert not (tmp_path / "b").exists()


def test_a_token_an_old_checkout_kept_in_its_config_is_removed(served, harness: Harness, tmp_path: Path):
    server, _work, _first = served
    url = server.url("app.git").replace("http://", f"http://deploy:{CANARY}@")
    target = tmp_path / "old"
    subprocess.run(["git", "clone", "-q", url, str(target)], check=True, capture_output=True)  # as older code did
    assert CANARY in (target / ".git" / "config").read_text()
    (out,) = harness.run([_latest(url, target)]).values()
    assert out["result"] is True, out["comment"]
    assert out["changes"]["remote"] == {"old": server.url("app.git").replace("http://", "http://***@"),
                                        "new": server.url("app.git")}
    assert CANARY not in (target / ".git" / "config").read_text()
    assert CANARY not in str(out["changes"]) + out["comment"]  # the name is the SLS author's; a pillar secret in it is masked


@pytest.mark.parametrize(("asked", "answered"), [
    ("protocol=https\nhost=git.example.com:8443\npath=a.git\n", True),
    ("protocol=https\nhost=elsewhere.example.com\n", False),   # a redirect or a submodule's host
    ("protocol=http\nhost=git.example.com:8443\n", False),     # the same host without TLS
])
def test_the_credential_helper_answers_only_for_the_repositorys_own_host(asked, answered):
    import os

    from minion.providers.git import GIT_ENV, split_credentials

    remote = split_credentials(f"https://deploy:{CANARY}@git.example.com:8443/a.git")
    proc = subprocess.run(["git", "credential", "fill"], input=asked + "\n", capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV, **remote.env}, timeout=30)
    assert (CANARY in proc.stdout) is answered
