"""Issue 13 (accounts): user.present and group.present arguments as Salt 3008 takes them, on a
whole host: a same-name group listed in `groups` as the primary group, `password` (a hash,
never shown), `allow_gid_change`, `optional_groups`; group.present `addusers`/`delusers`."""

from __future__ import annotations

import json

import pytest

from tests.hosts.conftest import apply_states, assert_test_predicts_run, state

pytestmark = pytest.mark.host

HASH1 = "$6$lpsalt1$Zq0bO2mZ1nH9n3dK4l.7vYbD6XcU8aPQeW2rT5yJ0iMxLkNs3hGf1dCvBnA9sQwE7rTyUiOpLkJhGfDsAzXcV0"
HASH2 = "$6$lpsalt2$Aa1bB2cC3dD4eE5fF6gG7hH8iI9jJ0kK1lL2mM3nN4oO5pP6qQ7rR8sS9tT0uU1vV2wW3xX4yY5zZ6aA7bB8cC9"


def shadow_field(host, name: str) -> str:
    for line in host.read_text("/etc/shadow").splitlines():
        if line.split(":")[0] == name:
            return line.split(":")[1]
    raise AssertionError(f"{name} not in /etc/shadow")


def getent(host, db: str, name: str) -> list[str]:
    return host.run(["getent", db, name], check=True).stdout.strip().split(":")


def test_an_existing_group_of_the_same_name_listed_in_groups_is_the_primary_group(module_host):
    host = module_host
    states = [
        state("group.present", "lpsame"),
        state("group.present", "lpsame-extra"),
        state("user.present", "lpsame", groups=["lpsame", "lpsame-extra"]),
    ]
    assert_test_predicts_run(host, states)
    assert getent(host, "passwd", "lpsame")[3] == getent(host, "group", "lpsame")[2]
    assert "lpsame-extra" in host.run(["id", "-nG", "lpsame"]).stdout.split()


def test_an_existing_same_name_group_not_listed_fails_saying_what_to_do(module_host):
    apply_states(module_host, [state("group.present", "lpalone")])
    res = apply_states(module_host, [state("user.present", "lpalone")])[0]
    assert res["result"] is False and "list it in groups" in res["comment"]


def test_password_hash_is_set_through_stdin_and_never_shown(module_host):
    host = module_host
    real = assert_test_predicts_run(host, [state("user.present", "lppw", password=HASH1)])
    assert real[0]["changes"]["password"] == "XXX-REDACTED-XXX"
    assert shadow_field(host, "lppw") == HASH1
    dry = apply_states(host, [state("user.present", "lppw", password=HASH2)], test=True)[0]
    assert dry["result"] is None and dry["changes"] == {"passwd": "XXX-REDACTED-XXX"}
    real = apply_states(host, [state("user.present", "lppw", password=HASH2)])[0]
    assert real["changes"] == {"passwd": "XXX-REDACTED-XXX"} and shadow_field(host, "lppw") == HASH2
    assert "lpsalt" not in json.dumps([dry, real])
    kept = apply_states(host, [state("user.present", "lppw", password=HASH1,
                                     enforce_password=False)])[0]
    assert kept["changes"] == {} and shadow_field(host, "lppw") == HASH2


def test_a_gid_change_needs_allow_gid_change_as_in_salt(module_host):
    host = module_host
    apply_states(host, [state("group.present", "lpgid-a"), state("group.present", "lpgid-b"),
                        state("user.present", "lpgid", gid="lpgid-a")])
    for test in (True, False):
        res = apply_states(host, [state("user.present", "lpgid", gid="lpgid-b")], test=test)[0]
        assert res["result"] is False and "set allow_gid_change to True" in res["comment"]
    assert getent(host, "passwd", "lpgid")[3] == getent(host, "group", "lpgid-a")[2]
    real = assert_test_predicts_run(
        host, [state("user.present", "lpgid", gid="lpgid-b", allow_gid_change=True)])
    assert real[0]["changes"] == {"gid": {"old": "lpgid-a", "new": "lpgid-b"}}
    assert getent(host, "passwd", "lpgid")[3] == getent(host, "group", "lpgid-b")[2]


def test_optional_groups_are_joined_when_they_exist_and_skipped_when_not(module_host):
    host = module_host
    apply_states(host, [state("group.present", "lpopt-here")])
    real = assert_test_predicts_run(
        host, [state("user.present", "lpopt", optional_groups=["lpopt-here", "lpopt-gone"])])
    assert real[0]["changes"]["groups"] == {"old": None, "new": ["lpopt-here"]}
    assert "lpopt-gone" in real[0]["comment"]
    assert "lpopt-here" in host.run(["id", "-nG", "lpopt"]).stdout.split()


def test_group_addusers_and_delusers_leave_other_members_alone(module_host):
    host = module_host
    apply_states(host, [state("user.present", u) for u in ("lpm1", "lpm2", "lpm3")]
                 + [state("group.present", "lpcrew", members=["lpm2", "lpm3"])])
    real = assert_test_predicts_run(
        host, [state("group.present", "lpcrew", addusers=["lpm1"], delusers=["lpm2"])])
    assert real[0]["changes"] == {"addusers": ["lpm1"], "delusers": ["lpm2"]}
    assert sorted(getent(host, "group", "lpcrew")[3].split(",")) == ["lpm1", "lpm3"]
    res = apply_states(host, [state("group.present", "lpcrew", members=["lpm1"],
                                    addusers=["lpm2"])])[0]
    assert res["result"] is False and "can not be used together" in res["comment"]
