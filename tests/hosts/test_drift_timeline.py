"""Idempotency as a timeline (mgmt-style): apply, check clean, change the host by hand, check
reports exactly that drift, apply fixes it, check clean again."""

from __future__ import annotations

import pytest

from tests.hosts.conftest import apply_states, state

pytestmark = pytest.mark.host


def timeline(host, states, mutate, expected_drift):
    assert all(r["result"] is True for r in apply_states(host, states))
    assert all(
        r["result"] is True and not r["changes"] for r in apply_states(host, states, test=True)
    )
    mutate()
    drift = apply_states(host, states, test=True)
    assert [r["changes"] for r in drift] == expected_drift
    assert all(r["result"] is None or not r["changes"] for r in drift)
    fixed = apply_states(host, states)
    assert [r["changes"] for r in fixed] == expected_drift
    assert all(not r["changes"] for r in apply_states(host, states, test=True))


def test_user_shell_changed_by_hand(module_host):
    host = module_host
    timeline(
        host,
        [state("user.present", "lptime", shell="/bin/sh")],
        lambda: host.run(["usermod", "-s", "/bin/bash", "lptime"], check=True),
        [{"shell": {"old": "/bin/bash", "new": "/bin/sh"}}],
    )


def test_cron_line_edited_by_hand(module_host):
    host = module_host
    states = [state("cron.present", "/usr/bin/lpjob", identifier="job", minute=5)]
    path = "/var/spool/cron/crontabs/root"

    def edit():
        host.write_text(path, host.read_text(path).replace("5 * * * *", "7 * * * *"), mode=0o600)

    timeline(
        host,
        states,
        edit,
        [{"entry": {"old": "7 * * * * /usr/bin/lpjob", "new": "5 * * * * /usr/bin/lpjob"}}],
    )


def test_group_member_removed_by_hand(module_host):
    host = module_host
    apply_states(host, [state("user.present", "lpmember")])
    timeline(
        host,
        [state("group.present", "lpteam", members=["lpmember"])],
        lambda: host.run(["gpasswd", "-d", "lpmember", "lpteam"], check=True),
        [{"members": {"old": [], "new": ["lpmember"]}}],
    )
