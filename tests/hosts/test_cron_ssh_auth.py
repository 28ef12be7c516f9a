"""cron and ssh_auth states on a whole host."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.hosts.conftest import apply_states, assert_test_predicts_run, state

pytestmark = pytest.mark.host
KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIGx1bmtwZWVrLXRlc3Qta2V5LW5vdC1yZWFsLTAwMDAwMDA"


def test_cron_entries_replace_not_duplicate(module_host):
    host = module_host
    host.write_text(
        "/var/spool/cron/crontabs/root", "# my own line\n*/5 * * * * /bin/true\n", mode=0o600
    )
    states = [
        state("cron.env_present", "MAILTO", value="ops@example.com"),
        state(
            "cron.present", "/usr/local/bin/lpbackup --all", identifier="backup", minute=15, hour=3
        ),
    ]
    real = assert_test_predicts_run(host, states)
    assert real[1]["changes"] == {
        "entry": {"old": "", "new": "15 3 * * * /usr/local/bin/lpbackup --all"}
    }
    real = assert_test_predicts_run(
        host,
        [
            state(
                "cron.present",
                "/usr/local/bin/lpbackup --all",
                identifier="backup",
                minute=45,
                hour=4,
            )
        ],
    )
    assert real[0]["changes"]["entry"]["old"].startswith("15 3 ")
    text = host.read_text("/var/spool/cron/crontabs/root")
    assert text == (
        "# my own line\n*/5 * * * * /bin/true\n"
        "# Lines below here are managed by linkpeek-ops, do not edit\n"
        "MAILTO=ops@example.com\n"
        "# SALT_CRON_IDENTIFIER:backup\n45 4 * * * /usr/local/bin/lpbackup --all\n"
    )
    assert oct(host.path("/var/spool/cron/crontabs/root").stat().st_mode & 0o777) == "0o600"
    assert (
        not os.path.exists("/var/spool/cron/crontabs/root")
        or "lpbackup" not in Path("/var/spool/cron/crontabs/root").read_text()
    )

    real = assert_test_predicts_run(
        host, [state("cron.absent", "x", identifier="backup"), state("cron.env_absent", "MAILTO")]
    )
    assert real[0]["changes"]["entry"]["new"] == ""
    assert (
        host.read_text("/var/spool/cron/crontabs/root") == "# my own line\n*/5 * * * * /bin/true\n"
    )


def test_cron_bad_input():
    from core.errors import StateArgError
    from minion.states.cron import FUNCTIONS

    with pytest.raises(StateArgError, match="invalid cron schedule"):
        FUNCTIONS["present"].parse("/bin/true", {"minute": 61})
    with pytest.raises(StateArgError):
        FUNCTIONS["present"].parse("/bin/true\n* * * * * /bin/evil", {})


def test_cron_for_a_missing_user_fails_clearly(module_host):
    res = apply_states(module_host, [state("cron.present", "/bin/true", user="nosuchuser")])[0]
    assert res["result"] is False and "user.present" in res["comment"]


def test_ssh_auth_present_then_updated_then_absent(module_host):
    host = module_host
    states = [
        state("user.present", "lpdeploy", home="/home/lpdeploy"),
        state("ssh_auth.present", f"ssh-ed25519 {KEY} deploy@ci", user="lpdeploy"),
    ]
    real = assert_test_predicts_run(host, states)
    assert real[1]["changes"] == {"key": {"old": "", "new": f"ssh-ed25519 {KEY} deploy@ci"}}
    path = host.path("/home/lpdeploy/.ssh/authorized_keys")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    uid = int(host.run(["id", "-u", "lpdeploy"]).stdout)
    assert path.stat().st_uid == uid and path.parent.stat().st_uid == uid

    real = assert_test_predicts_run(
        host,
        [state("ssh_auth.present", KEY, user="lpdeploy", comment="deploy@ci", options=["no-pty"])],
    )
    assert real[0]["changes"]["key"]["new"] == f"no-pty ssh-ed25519 {KEY} deploy@ci"
    assert path.read_text().count(KEY) == 1
    assert_test_predicts_run(host, [state("ssh_auth.absent", KEY, user="lpdeploy")])
    assert KEY not in path.read_text()


def test_ssh_auth_never_writes_through_a_symlink_that_leaves_the_home(module_host):
    host = module_host
    apply_states(host, [state("user.present", "lpescape", home="/home/lpescape")])
    host.run(["mkdir", "-p", "/home/lpescape"], check=True)
    host.run(["ln", "-s", "/etc", "/home/lpescape/conf"], check=True)  # made by the user, say
    res = apply_states(host, [state("ssh_auth.present", KEY, user="lpescape", config="conf/lp/keys")])[0]
    assert res["result"] is False and "leads out of the home directory" in res["comment"]
    assert not host.exists("/etc/lp")
