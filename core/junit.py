"""JUnit XML for CI: one test case per minion and state, from the rows of `lpmaster drift`.

    <testsuites><testsuite name="linkpeek-drift" tests= failures= errors=>
      <testcase classname="web1" name="file.managed /etc/motd (motd)">
        <failure type="drift" message="corrective drift: /etc/motd">the unified diff</failure>
      </testcase>
      <testcase classname="web2" name="clean"/>            a clean minion: one passing case
      <testcase classname="db1" name="report">              stale, never reported or unreachable: a failure
        <failure type="stale report" message="..."/>
      </testcase>

A drifted state is a <failure> whose message names it and whose text holds the diff; a failed
state or a compile error is an <error>. Stale backups and expiring certificates are failures.
Text from minions is stripped of characters XML 1.0 cannot carry.
"""
from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from typing import Iterable, Optional

from core.drift import NEVER, NOT_CHECKED, STALE, UNREACHABLE, MinionDrift, describe_tag

SUITE_NAME = "linkpeek-drift"
ExtraCase = tuple[str, str, Optional[str], str, str]
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def junit_xml(rows: Iterable[MinionDrift], *, now: float | None = None, max_age: float | None = None,
              extra: Iterable[ExtraCase] = ()) -> str:
    """The JUnit document (a string, UTF-8 declared) for these rows, then the `extra` cases
    (classname, name, outcome None|"failure"|"error", type, message), e.g. backup checks."""
    rows = list(rows)
    extra_cases = [_case(_clean(c), n, o, k, m, "") for c, n, o, k, m in extra]
    suites = ET.Element("testsuites", name=SUITE_NAME)
    suite = ET.SubElement(suites, "testsuite", name=SUITE_NAME,
                          timestamp=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now or time.time())))
    counts = {"tests": 0, "failures": 0, "errors": 0}
    for case in [c for row in rows for c in _cases(row, max_age)] + extra_cases:
        suite.append(case)
        counts["tests"] += 1
        if case.find("failure") is not None:
            counts["failures"] += 1
        elif case.find("error") is not None:
            counts["errors"] += 1
    for key, value in counts.items():
        suite.set(key, str(value))
        suites.set(key, str(value))
    suite.set("skipped", "0")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def write_junit(path: str, rows: Iterable[MinionDrift], *, now: float | None = None,
                max_age: float | None = None, extra: Iterable[ExtraCase] = ()) -> None:
    """Write the document to `path` (replacing it)."""
    text = junit_xml(rows, now=now, max_age=max_age, extra=extra)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def _cases(row: MinionDrift, max_age: float | None) -> list[ET.Element]:
    mid = _clean(row.minion_id)
    checks = [_case(mid, check.name, "failure", check.kind, check.message, "") for check in row.checks]
    cases = _report_cases(row, max_age, mid)
    if checks and len(cases) == 1 and cases[0].get("name") == "clean" and not len(cases[0]):
        return checks
    return cases + checks


def _report_cases(row: MinionDrift, max_age: float | None, mid: str) -> list[ET.Element]:
    if row.status == NEVER:
        return [_case(mid, "report", "failure", NEVER, f"{mid} never sent a drift report", "")]
    if row.status == UNREACHABLE:
        return [_case(mid, "report", "failure", UNREACHABLE,
                      f"{mid} did not answer the drift refresh: this host was not checked", "")]
    if row.status == NOT_CHECKED:
        return [_case(mid, "report", "failure", NOT_CHECKED,
                      f"{mid} answered the drift refresh but its check failed: this host was not checked", "")]
    report = row.report
    assert report is not None
    if row.status == STALE:
        limit = f" (older than {max_age:.0f} s)" if max_age is not None else ""
        return [_case(mid, "report", "failure", STALE,
                      f"{mid}: last drift report is {row.age or 0:.0f} s old{limit}", "")]
    cases: list[ET.Element] = []
    for err in report.compile_errors:
        cases.append(_case(mid, "compile", "error", "compile error", _first_line(err), err))
    for failed in report.failed:
        cases.append(_case(mid, describe_tag(failed.tag), "error", "failed state",
                           f"failed: {failed.name}: {_first_line(failed.comment)}", failed.comment))
    for drifted in report.drifted:
        text = drifted.diff + (f"\n{drifted.comment}" if drifted.comment else "")
        cases.append(_case(mid, describe_tag(drifted.tag), "failure", "drift",
                           f"{drifted.kind} drift: {drifted.name}\n{drifted.diff}", text))
    for backup in report.stale_backups:
        when = "never" if backup.last_snapshot_at is None else time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(backup.last_snapshot_at))
        cases.append(_case(mid, f"backup:{backup.job}", "failure", "stale backup",
                           f"backup {backup.job}: last good snapshot {when}", ""))
    for cert in report.expiring_certs:
        cases.append(_case(mid, f"certificate:{cert.path}", "failure", "expiring certificate",
                           f"{cert.path} ({cert.subject}) expires in {cert.days_left:.1f} days", ""))
    if not cases:
        cases.append(_case(mid, "clean", None, "", "", ""))
    return cases


def _case(classname: str, name: str, outcome: str | None, kind: str, message: str, text: str) -> ET.Element:
    case = ET.Element("testcase", classname=classname, name=_clean(name), time="0")
    if outcome is not None:
        child = ET.SubElement(case, outcome, type=kind, message=_clean(message))
        if text:
            child.text = _clean(text)
    return case


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else ""


def _clean(text: str) -> str:
    return _XML_BAD.sub("\ufffd", text)
