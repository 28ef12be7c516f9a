"""virtualenv.managed and pip.installed on a whole host, offline from a local wheel directory."""

from __future__ import annotations

import pytest

from tests.hosts.conftest import apply_states, assert_test_predicts_run, state
from tests.hosts.wheels import build_wheel

pytestmark = pytest.mark.host
OFFLINE = {"no_index": True, "find_links": "/srv/wheels"}


@pytest.fixture(scope="module")
def wheel_host(module_host):
    wheels = module_host.path("/srv/wheels")
    wheels.mkdir(parents=True)
    build_wheel(str(wheels), "lpdemo", "1.0")
    build_wheel(str(wheels), "lpdemo", "1.1")
    build_wheel(str(wheels), "lpdemo-web", "2.0", requires=["lpdemo>=1.0"])
    module_host.write_text("/srv/app/requirements.txt", "# app deps\nlpdemo==1.0\n")
    return module_host


def version_in(host, venv: str, module: str) -> str:
    return host.run(
        [f"{venv}/bin/python", "-c", f"import {module}; print({module}.VERSION)"], check=True
    ).stdout.strip()


def test_virtualenv_with_requirements_then_pip_upgrades(wheel_host):
    host = wheel_host
    # One state per property check: a test-mode prediction of pip.installed cannot know what
    # an earlier, not yet applied, virtualenv.managed will have installed.
    real = assert_test_predicts_run(
        host,
        [
            state(
                "virtualenv.managed",
                "/opt/venv",
                requirements="/srv/app/requirements.txt",
                python="/usr/bin/python3",
                **OFFLINE,
            )
        ],
    )
    assert real[0]["changes"] == {
        "venv": {"old": None, "new": "/opt/venv"},
        "lpdemo": {"old": None, "new": "1.0"},
    }
    real = assert_test_predicts_run(
        host, [state("pip.installed", "lpdemo-web", bin_env="/opt/venv", **OFFLINE)]
    )
    assert real[0]["changes"] == {"lpdemo-web": {"old": None, "new": "2.0"}}
    assert version_in(host, "/opt/venv", "lpdemo") == "1.0"

    real = assert_test_predicts_run(
        host,
        [state("pip.installed", "lpdemo", bin_env="/opt/venv", pkgs=["lpdemo==1.1"], **OFFLINE)],
    )
    assert real[0]["changes"] == {"lpdemo": {"old": "1.0", "new": "1.1"}}
    assert version_in(host, "/opt/venv", "lpdemo") == "1.1"


def test_unmeetable_requirement_fails_clearly_and_the_run_goes_on(wheel_host):
    host = wheel_host
    apply_states(host, [state("virtualenv.managed", "/opt/venv2", pip=False)])
    results = apply_states(
        host,
        [
            state("pip.installed", "lpdemo>=9", bin_env="/opt/venv2", **OFFLINE),
            state("pip.installed", "lpdemo==1.0", bin_env="/opt/venv2", **OFFLINE),
        ],
    )
    assert results[0]["result"] is False
    assert "lpdemo>=9" in results[0]["comment"] and "/srv/wheels" in results[0]["comment"]
    assert results[1]["result"] is True
    assert results[1]["changes"] == {"lpdemo": {"old": None, "new": "1.0"}}


def test_pip_into_a_missing_venv_says_what_to_do(wheel_host):
    res = apply_states(
        wheel_host, [state("pip.installed", "lpdemo", bin_env="/opt/nope", **OFFLINE)]
    )[0]
    assert res["result"] is False and "virtualenv.managed" in res["comment"]
