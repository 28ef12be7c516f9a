"""Fact parsers as tables (recorded command output in, facts out), pyinfra-style. No host needed."""

from __future__ import annotations

import pytest

from minion.providers.apt import PackageStatus, parse_dpkg_query, parse_policy
from minion.providers.crontab import MARKER, parse
from minion.providers.git import parse_ls_remote
from minion.providers.supervisord import ProgramConfig, parse_section, render_section

# `dpkg-query -W -f='${Package}\t${Status}\t${Version}\n' -- supervisor hello tree` (Debian 12)
DPKG = (
    "supervisor\tinstall ok installed\t4.2.5-1\n"
    "hello\tdeinstall ok config-files\t2.10-3\n"
    "tree\tunknown ok not-installed\t\n"
)

# `apt-cache policy -- hello tree nosuch` (Debian 12; unknown names print nothing)
POLICY = """hello:
  Installed: (none)
  Candidate: 2.10-3
  Version table:
     2.10-3 500
        500 http://deb.debian.org/debian bookworm/main amd64 Packages
tree:
  Installed: 2.1.0-1
  Candidate: 2.1.0-1
  Version table:
 *** 2.1.0-1 500
        500 http://deb.debian.org/debian bookworm/main amd64 Packages
        100 /var/lib/dpkg/status
     2.0.2-1 100
        100 http://deb.debian.org/debian bullseye/main amd64 Packages
"""

LS_REMOTE = (
    "ref: refs/heads/main\tHEAD\n"
    "1111111111111111111111111111111111111111\tHEAD\n"
    "1111111111111111111111111111111111111111\trefs/heads/main\n"
    "2222222222222222222222222222222222222222\trefs/tags/v1\n"
    "3333333333333333333333333333333333333333\trefs/tags/v1^{}\n"
)


def test_dpkg_query_table():
    assert parse_dpkg_query(DPKG) == {
        "supervisor": PackageStatus("supervisor", "4.2.5-1"),
        "hello": PackageStatus("hello", None, config_left=True),
    }


def test_apt_cache_policy_table():
    assert parse_policy(POLICY) == {
        "hello": ("2.10-3", ["2.10-3"]),
        "tree": ("2.1.0-1", ["2.1.0-1", "2.0.2-1"]),
    }


def test_ls_remote_prefers_the_peeled_tag_and_reads_head():
    refs, head = parse_ls_remote(LS_REMOTE)
    assert head == "main"
    assert refs["refs/tags/v1"] == "3" * 40
    assert refs["refs/heads/main"] == "1" * 40


@pytest.mark.parametrize(
    "text,head,items",
    [
        ("", [], []),
        ("* * * * * /bin/true\n", ["* * * * * /bin/true"], []),
        (
            f"#mine\n{MARKER}\nMAILTO=x\n# SALT_CRON_IDENTIFIER:b\n0 3 * * * /b\n",
            ["#mine"],
            [("env", "MAILTO", "MAILTO=x"), ("job", "b", "0 3 * * * /b")],
        ),
    ],
)
def test_crontab_table(text, head, items):
    tab = parse(text)
    assert (tab.head, tab.items) == (head, items)
    assert tab.render() == text


def test_supervisord_section_round_trips_and_escapes_percent():
    config = ProgramConfig(command="/bin/app --rate 5%", environment=(("A", "1"),))
    settings = parse_section(render_section("app", config), "app")
    assert settings["command"] == "/bin/app --rate 5%%"
    assert settings["environment"] == 'A="1"'
    assert parse_section("[program:other]\ncommand=x\n", "app") is None
