"""JUnit output parsed by a real JUnit library, and the `lpmaster drift` table and exit codes."""
from __future__ import annotations

import pytest
from junitparser import Error, Failure, JUnitXml

from core.drift import ExpiringCert, StaleBackup, build_report, summarize
from core.errors import ConfigError
from core.junit import write_junit
from master.drift.view import drift_exit_code, drift_json, drift_table, parse_duration

MOTD_TAG = "file_|-motd_|-/etc/motd_|-managed"
DIFF = "--- /etc/motd\n+++ /etc/motd\n@@ -1 +1 @@\n-edited by hand\n+Welcome\n"


def fleet():
    drifted = build_report("web1", {MOTD_TAG: {"name": "/etc/motd", "result": None, "changes": {"diff": DIFF}}},
                           revision="r", applied_revision="r", seq=3, reported_at=990.0)
    clean = build_report("web2", {}, revision="r", applied_revision="r", seq=1, reported_at=995.0)
    failing = build_report("db1", {"cmd_|-m_|-false_|-run": {"name": "false", "result": False, "changes": {},
                                                            "comment": "exit 1\x1b[31m"}},
                           revision="r", applied_revision="r", seq=1, reported_at=995.0,
                           stale_backups=[StaleBackup("mongo", None, 86400.0)],
                           expiring_certs=[ExpiringCert("/etc/ssl/db.pem", "CN=db", 1000.0, 4.5)])
    old = build_report("db2", {}, revision="r", applied_revision="r", seq=1, reported_at=10.0)
    return summarize({"web1": drifted, "web2": clean, "db1": failing, "db2": old},
                     ["web1", "web2", "db1", "db2", "cache1"], now=1000.0, max_age=600.0)


def test_junit_parses_with_one_case_per_minion_and_state(tmp_path):
    path = tmp_path / "report.xml"
    write_junit(str(path), fleet(), now=1000.0, max_age=600.0)
    xml = JUnitXml.fromfile(str(path))
    cases = {(c.classname, c.name): c for suite in xml for c in suite}
    assert set(cases) == {("web1", "file.managed /etc/motd (motd)"), ("web2", "clean"), ("db1", "cmd.run false (m)"),
                          ("db1", "backup:mongo"), ("db1", "certificate:/etc/ssl/db.pem"),
                          ("db2", "report"), ("cache1", "report")}
    assert cases[("web2", "clean")].is_passed
    (drift,) = cases[("web1", "file.managed /etc/motd (motd)")].result
    assert isinstance(drift, Failure)
    assert "+Welcome" in drift.message and "corrective" in drift.message
    assert "-edited by hand" in drift.text
    assert isinstance(cases[("db1", "cmd.run false (m)")].result[0], Error)
    assert "stale" in cases[("db2", "report")].result[0].type
    assert "never" in cases[("cache1", "report")].result[0].message
    suite = next(iter(xml))
    assert (suite.tests, suite.failures, suite.errors) == (7, 5, 1)


def test_table_shows_each_minion_and_the_diff_with_control_characters_escaped():
    text = drift_table(fleet())
    lines = text.splitlines()
    status = {line.split()[0]: line.split()[1] for line in lines[1:6]}
    assert status == {"cache1": "never", "db1": "failing", "db2": "stale", "web1": "drifted", "web2": "clean"}
    assert "+Welcome" in text and "corrective" in text
    assert "\x1b" not in text and "\\x1b[31m" in text
    assert "expires in 4.5 days" in text


def test_exit_codes():
    rows = fleet()
    assert drift_exit_code(rows) == 2
    assert drift_exit_code([r for r in rows if r.minion_id == "web2"]) == 0
    assert drift_exit_code([]) == 2
    assert drift_json(rows)["web1"]["report"]["drifted"][0]["tag"] == MOTD_TAG
    assert drift_json(rows)["cache1"] == {"status": "never reported", "age": None, "report": None}


@pytest.mark.parametrize("text, seconds", [("90", 90), ("90s", 90), ("30m", 1800), ("2h", 7200),
                                           ("1d", 86400), ("1h30m", 5400)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "0", "5y", "-1m"])
def test_bad_durations(text):
    with pytest.raises(ConfigError):
        parse_duration(text)
