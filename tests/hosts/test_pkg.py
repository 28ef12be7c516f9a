"""pkg states on a whole host: real Debian packages installed and removed offline, in the
host's overlay only; the machine running the tests stays untouched."""

from __future__ import annotations

import subprocess

import pytest

from tests.hosts.conftest import apply_states, assert_test_predicts_run, state, use_deb_cache

pytestmark = pytest.mark.host


def machine_has(package: str) -> bool:
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", "--", package],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return out.endswith(" installed")


def test_install_many_then_remove_inside_host_only(make_host, deb_cache):
    assert not machine_has("hello") and not machine_has("tree")
    host = make_host("pkg1")
    use_deb_cache(host, deb_cache)
    real = assert_test_predicts_run(host, [state("pkg.installed", "tools", pkgs=["hello", "tree"])])
    assert set(real[0]["changes"]) == {"hello", "tree"}
    assert real[0]["changes"]["hello"]["old"] == ""
    assert "Hello, world!" in host.run(["hello"], check=True).stdout
    assert host.run(["tree", "-d", "/srv"]).returncode == 0
    assert not machine_has("hello") and not machine_has("tree")

    real = assert_test_predicts_run(host, [state("pkg.removed", "hello")])
    assert real[0]["changes"]["hello"]["new"] == ""
    assert not host.exists("/usr/bin/hello")
    assert host.exists("/usr/bin/tree")
    real = assert_test_predicts_run(host, [state("pkg.purged", "tree")])
    assert "tree" in real[0]["changes"]
    assert not machine_has("hello") and not machine_has("tree")


def test_pinned_version_and_latest(make_host, deb_cache):
    host = make_host("pkg2")
    use_deb_cache(host, deb_cache)
    candidate = (
        host.run(["apt-cache", "policy", "--", "hello"]).stdout.split("Candidate:")[1].split()[0]
    )
    real = assert_test_predicts_run(host, [state("pkg.installed", "hello", version=candidate)])
    assert real[0]["changes"] == {"hello": {"old": "", "new": candidate}}
    res = apply_states(host, [state("pkg.latest", "hello")])
    assert res[0]["result"] is True and res[0]["changes"] == {}
    res = apply_states(host, [state("pkg.installed", "hello", version="0.0-nonexistent1")])
    assert res[0]["result"] is False
    assert "not available" in res[0]["comment"] and candidate in res[0]["comment"]


def test_unknown_package_fails_and_the_run_goes_on(make_host, deb_cache):
    host = make_host("pkg3")
    use_deb_cache(host, deb_cache)
    results = apply_states(
        host, [state("pkg.installed", "no-such-package-lp"), state("pkg.installed", "tree")]
    )
    assert results[0]["result"] is False
    assert "not known to apt" in results[0]["comment"]
    assert "pkgrepo.managed" in results[0]["comment"]  # says what to do
    assert results[1]["result"] is True and "tree" in results[1]["changes"]


def test_bad_package_names_are_argument_errors():
    from core.errors import StateArgError
    from minion.states.pkg import FUNCTIONS

    for bad in ("-oAPT::Foo=1", "Upper", "a b"):
        with pytest.raises(StateArgError):
            FUNCTIONS["installed"].parse(bad, {})
    with pytest.raises(StateArgError):
        FUNCTIONS["installed"].parse("x", {"pkgs": [{"hello": "--force"}]})
