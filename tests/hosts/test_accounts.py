"""user and group states on a whole host (the machine's /etc/passwd stays untouched)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hosts.conftest import apply_states, assert_test_predicts_run, state

pytestmark = pytest.mark.host


def passwd_entry(host, name: str) -> list[str] | None:
    for line in host.read_text("/etc/passwd").splitlines():
        if line.split(":")[0] == name:
            return line.split(":")
    return None


def test_group_and_user_created_changed_and_removed(module_host):
    host = module_host
    states = [
        state("group.present", "lpapp", gid=1990, system=True),
        state("group.present", "lpextra"),
        state(
            "user.present",
            "lpapp",
            uid=1990,
            gid="lpapp",
            home="/opt/lpapp",
            shell="/bin/sh",
            groups=["lpextra"],
            system=True,
            fullname="LinkPeek app",
        ),
    ]
    real = assert_test_predicts_run(host, states)
    assert real[0]["changes"]["gid"] == {"old": None, "new": 1990}
    assert real[2]["changes"]["user"] == {"old": "", "new": "lpapp"}
    assert passwd_entry(host, "lpapp")[2:7] == [
        "1990",
        "1990",
        "LinkPeek app",
        "/opt/lpapp",
        "/bin/sh",
    ]
    assert host.path("/opt/lpapp").is_dir()
    assert "lpextra:x:" in host.read_text("/etc/group")
    assert "lpapp" not in Path("/etc/passwd").read_text()  # the machine is untouched

    real = assert_test_predicts_run(
        host, [state("user.present", "lpapp", shell="/bin/bash", groups=[])]
    )
    assert real[0]["changes"] == {
        "shell": {"old": "/bin/sh", "new": "/bin/bash"},
        "groups": {"old": ["lpextra"], "new": []},
    }

    real = assert_test_predicts_run(host, [state("group.present", "lpextra", members=["lpapp"])])
    assert real[0]["changes"] == {"members": {"old": [], "new": ["lpapp"]}}
    assert host.run(["id", "-nG", "lpapp"]).stdout.split() == ["lpapp", "lpextra"]

    real = assert_test_predicts_run(
        host, [state("user.absent", "lpapp", purge=True), state("group.absent", "lpextra")]
    )
    assert real[0]["changes"] == {"user": {"old": "lpapp", "new": ""}}
    assert passwd_entry(host, "lpapp") is None
    assert not host.path("/opt/lpapp").exists()


def test_invalid_user_name_and_missing_group_fail_clearly_and_the_run_goes_on(module_host):
    results = apply_states(
        module_host,
        [
            state("user.present", "Bad Name!"),
            state("user.present", "lpuser2", gid="no-such-group"),
            state("user.present", "lpuser3"),
        ],
    )
    assert results[0]["result"] is False
    assert "not valid" in results[0]["comment"] and "lowercase" in results[0]["comment"]
    assert results[1]["result"] is False and "group.present" in results[1]["comment"]
    assert results[2]["result"] is True and passwd_entry(module_host, "lpuser3")
    assert passwd_entry(module_host, "lpuser2") is None


def test_uid_conflict_is_refused(module_host):
    apply_states(module_host, [state("user.present", "lpuid1", uid=2501)])
    res = apply_states(module_host, [state("user.present", "lpuid2", uid=2501)])[0]
    assert res["result"] is False and "already belongs to user lpuid1" in res["comment"]
