"""Drift reports from test-mode state returns: classification, masking, summaries, the wire form."""
from __future__ import annotations

import pytest

from core.drift import (CLEAN, CORRECTIVE, DRIFTED, FAILING, NEVER, PENDING, STALE, ExpiringCert,
                        build_report, is_newer, report_from_wire, report_to_wire, revision_of, summarize)
from core.errors import WireError

MOTD_TAG = "file_|-motd_|-/etc/motd_|-managed"
DIFF = "--- \n+++ \n@@ -1 +1 @@\n-edited by hand\n+Welcome to LinkPeek\n"

TEST_RETURN = {
    MOTD_TAG: {"name": "/etc/motd", "result": None, "changes": {"diff": DIFF},
               "comment": "The file /etc/motd is set to be changed", "__sls__": "base", "__run_num__": 1},
    "file_|-conf_|-/etc/app.conf_|-managed": {"name": "/etc/app.conf", "result": True, "changes": {},
                                              "comment": "File is in the correct state", "__run_num__": 0},
    "cmd_|-migrate_|-/bin/false_|-run": {"name": "/bin/false", "result": False, "changes": {},
                                         "comment": "Command failed", "__run_num__": 2},
}


def test_revision_changes_with_states_or_pillar_and_not_with_key_order():
    states = [{"state": "file", "fun": "managed", "name": "/etc/motd", "contents": "hi"}]
    rev = revision_of(states, {"a": 1, "b": 2})
    assert rev == revision_of(states, {"b": 2, "a": 1})
    assert rev != revision_of(states, {"a": 1, "b": 3})
    assert rev != revision_of([{**states[0], "contents": "ho"}], {"a": 1, "b": 2})


def test_hand_edit_on_the_applied_revision_is_corrective():
    report = build_report("web1", TEST_RETURN, revision="r1", applied_revision="r1", seq=1, reported_at=100.0)
    assert [d.tag for d in report.drifted] == [MOTD_TAG]
    assert report.drifted[0].kind == CORRECTIVE
    assert "+Welcome to LinkPeek" in report.drifted[0].diff
    assert [f.comment for f in report.failed] == ["Command failed"]
    assert report.status == FAILING


def test_blueprint_changed_since_last_apply_is_pending():
    only_motd = {MOTD_TAG: TEST_RETURN[MOTD_TAG]}
    assert build_report("w", only_motd, revision="r2", applied_revision="r1", seq=1,
                        reported_at=0).drifted[0].kind == PENDING
    assert build_report("w", only_motd, revision="r2", applied_revision=None, seq=1,
                        reported_at=0).drifted[0].kind == PENDING
    assert build_report("w", only_motd, revision="r2", applied_revision=None, seq=1,
                        reported_at=0).status == DRIFTED


def test_secrets_are_masked_in_diffs_changes_comments_and_errors():
    secret = "s3cr3t-canary"
    ret = {MOTD_TAG: {"name": "/etc/motd", "result": None, "comment": f"would write {secret}",
                      "changes": {"diff": f"+password={secret}\n", "extra": {"old": secret, "new": "x"}}}}
    report = build_report("w", ret, revision="r", applied_revision="r", seq=1, reported_at=0,
                          compile_errors=[f"bad {secret}"], mask=lambda s: s.replace(secret, "***"))
    assert secret not in repr(report_to_wire(report))
    assert "+password=***" in report.drifted[0].diff


def test_changes_without_a_diff_read_as_old_to_new():
    ret = {"file_|-d_|-/srv_|-directory": {"name": "/srv", "result": None,
                                          "changes": {"mode": {"old": "0755", "new": "0700"}}}}
    report = build_report("w", ret, revision="r", applied_revision="r", seq=1, reported_at=0)
    assert report.drifted[0].diff == "mode: 0755 -> 0700"


def test_clean_and_cert_only_reports():
    clean = build_report("w", {"file_|-conf_|-/etc/app.conf_|-managed":
                               TEST_RETURN["file_|-conf_|-/etc/app.conf_|-managed"]},
                         revision="r", applied_revision="r", seq=1, reported_at=0)
    assert clean.status == CLEAN
    certs = build_report("w", {}, revision="r", applied_revision="r", seq=2, reported_at=0,
                         expiring_certs=[ExpiringCert("/etc/ssl/a.pem", "CN=a", 10.0, 3.0)])
    assert certs.status == DRIFTED


def test_summary_statuses_for_a_fleet():
    fresh_clean = build_report("a", {}, revision="r", applied_revision="r", seq=1, reported_at=1000.0)
    old_clean = build_report("b", {}, revision="r", applied_revision="r", seq=1, reported_at=100.0)
    drifted = build_report("c", {MOTD_TAG: TEST_RETURN[MOTD_TAG]}, revision="r", applied_revision="r",
                           seq=1, reported_at=990.0)
    rows = summarize({"a": fresh_clean, "b": old_clean, "c": drifted}, ["c", "a", "b", "d"],
                     now=1000.0, max_age=600.0)
    assert [(r.minion_id, r.status) for r in rows] == [("a", CLEAN), ("b", STALE), ("c", DRIFTED), ("d", NEVER)]
    assert rows[1].age == 900.0 and rows[3].age is None


def test_wire_round_trip_takes_the_id_from_the_channel_not_the_body():
    report = build_report("web1", TEST_RETURN, revision="r1", applied_revision="r1", seq=7, reported_at=5.0,
                          expiring_certs=[ExpiringCert("/etc/ssl/a.pem", "CN=a", 10.0, 3.0)])
    wire = report_to_wire(report)
    wire["minion_id"] = "db1"          # a claimed id is ignored
    back = report_from_wire("web1", wire)
    assert back == report


@pytest.mark.parametrize("mutate", [
    lambda w: w.update(version=99),
    lambda w: w.update(seq="7"),
    lambda w: w.update(drifted=[{"tag": "t"}]),
    lambda w: w.update(drifted=[{"tag": "t", "name": "n", "sls": "", "kind": "sideways", "diff": ""}]),
    lambda w: w.update(compile_errors=["x" * 300_000]),
    lambda w: w.update(failed="nope"),
])
def test_malformed_reports_are_refused(mutate):
    wire = report_to_wire(build_report("w", TEST_RETURN, revision="r", applied_revision="r", seq=1,
                                       reported_at=0))
    mutate(wire)
    with pytest.raises(WireError):
        report_from_wire("w", wire)


def test_sequence_numbers_only_go_up():
    one = build_report("w", {}, revision="r", applied_revision="r", seq=1, reported_at=0)
    two = build_report("w", {}, revision="r", applied_revision="r", seq=2, reported_at=0)
    assert is_newer(one, None) and is_newer(two, one)
    assert not is_newer(one, two) and not is_newer(two, two)
