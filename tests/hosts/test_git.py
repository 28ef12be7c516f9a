"""git.latest on a whole host, against a local bare repository made in the test."""

from __future__ import annotations

import pytest

from tests.hostlib import GATEWAY
from tests.hosts.conftest import apply_states, assert_test_predicts_run, state

pytestmark = pytest.mark.host
GIT = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.invalid"]


def commit(host, message: str, text: str) -> str:
    host.write_text("/srv/work/app.txt", text)
    host.run([*GIT, "-C", "/srv/work", "add", "app.txt"], check=True)
    host.run([*GIT, "-C", "/srv/work", "commit", "-q", "-m", message], check=True)
    host.run([*GIT, "-C", "/srv/work", "push", "-q", "origin", "HEAD:main"], check=True)
    return host.run(["git", "-C", "/srv/work", "rev-parse", "HEAD"], check=True).stdout.strip()


@pytest.fixture(scope="module")
def repo(module_host):
    host = module_host
    host.run(["git", "init", "-q", "--bare", "-b", "main", "/srv/git/app.git"], check=True)
    host.run(["git", "clone", "-q", "/srv/git/app.git", "/srv/work"], check=True)
    first = commit(host, "first", "v1\n")
    host.run(["git", "-C", "/srv/work", "tag", "v1"], check=True)
    host.run(["git", "-C", "/srv/work", "push", "-q", "origin", "v1"], check=True)
    return host, first


def test_clone_then_follow_new_commits(repo):
    host, first = repo
    checkout = state("git.latest", "/srv/git/app.git", target="/opt/app", rev="main")
    real = assert_test_predicts_run(host, [checkout])
    assert real[0]["changes"] == {"revision": {"old": None, "new": first}}
    assert host.read_text("/opt/app/app.txt") == "v1\n"
    second = commit(host, "second", "v2\n")
    real = assert_test_predicts_run(host, [checkout])
    assert real[0]["changes"] == {"revision": {"old": first, "new": second}}
    assert host.read_text("/opt/app/app.txt") == "v2\n"
    assert host.run(["git", "-C", "/opt/app", "branch", "--show-current"]).stdout.strip() == "main"


def test_tag_checkout_and_local_changes_need_force_reset(repo):
    host, first = repo
    real = assert_test_predicts_run(
        host, [state("git.latest", "/srv/git/app.git", target="/opt/tagged", rev="v1")]
    )
    assert real[0]["changes"]["revision"]["new"] == first
    head = host.run(["git", "-C", "/opt/app", "rev-parse", "HEAD"]).stdout.strip()
    host.write_text("/opt/app/app.txt", "edited on the server\n")
    res = apply_states(
        host, [state("git.latest", "/srv/git/app.git", target="/opt/app", rev="main")]
    )[0]
    assert res["result"] is False and "force_reset: True" in res["comment"]
    assert host.read_text("/opt/app/app.txt") == "edited on the server\n"  # left alone
    real = assert_test_predicts_run(
        host,
        [state("git.latest", "/srv/git/app.git", target="/opt/app", rev="main", force_reset=True)],
    )
    assert real[0]["changes"] == {"local_changes": {"old": "modified", "new": "discarded"}}
    assert host.run(["git", "-C", "/opt/app", "rev-parse", "HEAD"]).stdout.strip() == head
    assert host.read_text("/opt/app/app.txt") != "edited on the server\n"


def test_unreachable_url_fails_clearly_and_the_run_goes_on(repo):
    host, _first = repo
    results = apply_states(
        host,
        [
            state("git.latest", f"http://{GATEWAY}:9/app.git", target="/opt/dead"),
            state("git.latest", "/srv/git/app.git", target="/opt/alive"),
        ],
    )
    assert results[0]["result"] is False
    assert "cannot read git repository" in results[0]["comment"]
    assert "Check the URL" in results[0]["comment"]
    assert not host.exists("/opt/dead")
    assert results[1]["result"] is True and host.exists("/opt/alive/app.txt")
