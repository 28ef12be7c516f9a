"""What `lpmaster drill`, `rebuild` and `drills` print, from result dicts (record.py's as_dict).

Every text a minion sent (a failing state's comment, a restore error) is escaped before it
reaches the terminal (SECURITY.md rule 10).
"""
from __future__ import annotations

import time
from typing import Any, Iterable, Mapping

from master.output import aligned
from master.output import escape_controls as escape

BY_HAND_S = 1.5 * 3600   # what the rebuild of the lost server took by hand


def format_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def phase_line(phase: Mapping[str, Any]) -> str:
    mark = "ok  " if phase.get("passed") else "FAIL"
    text = f"  {mark} {phase['name']:<9} {format_seconds(float(phase.get('duration') or 0)):>8}"
    if phase.get("detail"):
        text += f"  {escape(str(phase['detail']))}"
    if not phase.get("passed") and phase.get("error"):
        text += "".join(f"\n         {escape(line)}" for line in str(phase["error"]).splitlines())
    return text


def result_text(result: Mapping[str, Any]) -> str:
    """The phases, the total against the 1.5 hours by hand, and passed or failed (with why)."""
    what = "rebuild" if result.get("kind") == "rebuild" else "drill"
    lines = [f"{what} of {escape(result['source'])} onto {escape(result['onto'])}"
             + (f" (#{result['id']})" if result.get("id") else "")]
    lines += [phase_line(p) for p in result.get("phases") or []]
    return "\n".join(lines + summary_lines(result))


def summary_lines(result: Mapping[str, Any]) -> list[str]:
    """The total (against the hours by hand) and the verdict, with the reason of a failure."""
    lines = []
    total = float(result.get("total") or 0)
    lines.append(f"  total     {format_seconds(total):>8}  (by hand: {format_seconds(BY_HAND_S)}; "
                 f"{BY_HAND_S / total:.0f}x faster)" if total > 0 and result.get("passed")
                 else f"  total     {format_seconds(total):>8}")
    if result.get("passed"):
        lines.append(f"PASSED: {escape(result['source'])} recovered in {format_seconds(total)}")
    else:
        reason = str(result.get("reason") or "").splitlines()
        lines.append(f"FAILED in phase {result.get('failed_phase') or '?'}: {escape(reason[0] if reason else '')}")
    return lines


def drills_table(results: Iterable[Mapping[str, Any]]) -> str:
    rows = list(results)
    if not rows:
        return "no drills recorded (run: lpmaster drill SOURCE --onto SCRATCH)\n"
    header = ("ID", "WHEN", "KIND", "SOURCE", "ONTO", "RESULT", "TOTAL", "PHASES")
    table = [header]
    for r in rows:
        phases = " ".join(f"{p['name']}={format_seconds(float(p.get('duration') or 0))}"
                          + ("" if p.get("passed") else "!") for p in r.get("phases") or [])
        result = "passed" if r.get("passed") else f"failed ({r.get('failed_phase') or '?'})"
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(float(r.get("finished") or r["started"])))
        table.append((str(r.get("id") or "-"), when, str(r["kind"]) + ("*" if r.get("trigger") == "schedule" else ""),
                      escape(r["source"]), escape(r["onto"]), result,
                      format_seconds(float(r.get("total") or 0)), phases))
    out = aligned(table)
    if any(r.get("trigger") == "schedule" for r in rows):
        out.append("(* scheduled)")
    return "\n".join(out) + "\n"
