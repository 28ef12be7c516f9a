"""Masking: secrets become *** in text, data, state returns, diffs and log records."""
from __future__ import annotations

import io
import json
import logging

import pytest
import yaml

from core.masking import DIFF_HIDDEN, MASK, Masker, MaskingLogFilter, install_log_masking


@pytest.mark.parametrize("secrets, text, expected", [
    ({"hunter22"}, "password=hunter22;", "password=***;"),
    ({"hunter22"}, "nothing here", "nothing here"),
    # longest first: a secret that contains another is masked whole
    ({"abcd", "abcdefgh"}, "x abcdefgh y abcd", "x *** y ***"),
    # JSON-escaped form (a template that dumps the secret as JSON)
    ({'pa"ss\\word'}, json.dumps({"p": 'pa"ss\\word'}), '{"p": "***"}'),
    # YAML single-quoted form
    ({"it's-secret"}, "p: 'it''s-secret'", "p: '***'"),
    # short values are not hunted inside text, but an exact match is masked
    ({"ab"}, "a cab is not a secret", "a cab is not a secret"),
    ({"ab"}, "ab", MASK),
    (set(), "anything", "anything"),
])
def test_mask_text(secrets, text, expected):
    assert Masker(secrets).mask(text) == expected


def test_yaml_double_quoted_dump_of_a_secret_is_masked():
    secret = "tab\there \"quoted\" ünï"
    dumped = yaml.safe_dump({"p": secret}, default_style='"', allow_unicode=False)
    assert secret not in Masker({secret}).mask(dumped)
    assert "***" in Masker({secret}).mask(dumped)


def test_each_line_of_a_multiline_secret_is_masked_as_a_diff_would_print_it():
    pem = "-----BEGIN KEY-----\nMIIBVwIBADANBgkqhkiG9w0\nAQEBBQAEggFBMIIBPQIBAAJB\n-----END KEY-----"
    diff = "--- \n+++ \n@@ -0,0 +1,4 @@\n" + "".join(f"+{line}\n" for line in pem.splitlines())
    masked = Masker({pem}).mask(diff)
    for line in pem.splitlines():
        assert line not in masked


def test_mask_data_walks_nested_structures_keys_included():
    m = Masker({"s3cr3t-value"})
    data = {"a": ["x s3cr3t-value", ("s3cr3t-value",)], "s3cr3t-value": 1, "n": 5, "b": None,
            "raw": b"bytes s3cr3t-value"}
    assert m.mask_data(data) == {"a": ["x ***", ("***",)], "***": 1, "n": 5, "b": None,
                                 "raw": b"bytes ***"}


def test_a_diff_that_reveals_a_secret_is_replaced_by_one_line():
    m = Masker({"dbpass-123"})
    diff = "--- \n+++ \n@@ -1 +1 @@\n-password=old\n+password=dbpass-123\n"
    assert m.mask_diff(diff) == DIFF_HIDDEN
    assert m.mask_diff("-a\n+b\n") == "-a\n+b\n"


def test_the_exec_context_callable_hides_a_whole_diff_but_masks_comments():
    m = Masker({"dbpass-123"})
    diff = "--- \n+++ \n@@ -1,2 +1,2 @@\n host=db\n-password=old\n+password=dbpass-123\n"
    assert m.mask_for_users(diff) == DIFF_HIDDEN
    assert m.mask_for_users("--- \n+++ \n@@ -1 +1 @@\n-a\n+b\n").endswith("+b\n")
    assert m.mask_for_users("set password dbpass-123") == "set password ***"


def test_a_state_return_is_masked_everywhere_and_its_diff_hidden():
    m = Masker({"dbpass-123"})
    ret = {"file_|-cfg_|-/etc/app.conf_|-managed": {
        "name": "/etc/app.conf", "result": True, "__run_num__": 0,
        "comment": "File /etc/app.conf updated with dbpass-123",
        "changes": {"diff": "+password=dbpass-123\n", "mode": "0644"}}}
    out = m.mask_state_return(ret)
    state = out["file_|-cfg_|-/etc/app.conf_|-managed"]
    assert state["changes"] == {"diff": DIFF_HIDDEN, "mode": "0644"}
    assert state["comment"] == "File /etc/app.conf updated with ***"
    assert state["result"] is True and state["__run_num__"] == 0
    assert "dbpass-123" not in json.dumps(out)


def test_secrets_learned_later_are_masked_too():
    m = Masker()
    assert m.mask("token-abcdef") == "token-abcdef"
    m.add(["abcdef"])
    assert m.mask("token-abcdef") == "token-***"


def _logger_with_handler(name: str) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    logger = logging.getLogger(name)
    logger.handlers[:] = [logging.StreamHandler(stream)]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def test_log_records_are_masked_in_message_args_and_traceback():
    m = Masker({"canary-XYZ-42"})
    logger, stream = _logger_with_handler("test.masking.log")
    install_log_masking(m, logger)
    logger.info("connecting with %s", "canary-XYZ-42")
    logger.warning("literal canary-XYZ-42 in the message")
    try:
        raise ValueError("bad password canary-XYZ-42")
    except ValueError:
        logger.exception("failed")
    out = stream.getvalue()
    assert "canary-XYZ-42" not in out
    assert "connecting with ***" in out and "literal *** in" in out
    assert "ValueError: bad password ***" in out
    assert "ValueError" in out


def test_the_log_filter_leaves_other_records_alone():
    logger, stream = _logger_with_handler("test.masking.other")
    logger.handlers[0].addFilter(MaskingLogFilter(Masker({"zzzz-secret"})))
    logger.info("count=%d name=%s", 3, "web1")
    assert stream.getvalue() == "count=3 name=web1\n"


def test_a_drift_report_masks_secrets_in_change_keys_too():
    from core.drift import build_report, report_to_wire

    masker = Masker({"hunter22"})
    ret = {"file_|-f_|-/etc/app_|-recurse": {"name": "/etc/app", "result": None, "comment": "",
                                              "changes": {"/etc/app/hunter22.conf": {"new": "added"}}}}
    report = build_report("web1", ret, revision="r", applied_revision="r", seq=1, reported_at=0,
                          mask=masker.mask_for_users)
    text = json.dumps(report_to_wire(report))
    assert "hunter22" not in text
    assert "/etc/app/***.conf" in text
