"""Turning what minions returned into terminal text, safely (SECURITY.md rule 10).

Minion-supplied text may carry escape sequences; every control character except
newline and tab is shown escaped, so a return cannot rewrite the operator's terminal.
"""
from __future__ import annotations

import json
from typing import Any, Iterable, Sequence

from core.stateoutput import safe_text


def _yaml(value: Any) -> str:
    import yaml

    try:
        return yaml.safe_dump(value, default_flow_style=False, sort_keys=True, allow_unicode=True).rstrip("\n")
    except yaml.YAMLError:
        return json.dumps(value, indent=2, sort_keys=True, default=repr, ensure_ascii=False)


def aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    """Table rows (the header first) as lines of left-aligned columns two spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


def status_counts(statuses: Iterable[str]) -> str:
    """A table's summary line: "1 drifted, 3 ok", how many rows have each status."""
    counts: dict[str, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))


def job_warnings(unstored: list[str], storage: dict[str, Any] | None, skew: dict[str, float]) -> list[str]:
    """What `run` and `apply` print on stderr after a job: returns not stored, clocks off."""
    warnings = []
    if unstored or storage:   # imported only then: the storage module brings sqlite3 into the CLI
        from master.storage import unstored_warning
        warnings.append(unstored_warning(unstored, storage))
    if skew:
        from master.clockskew import skew_warning
        warnings.append(skew_warning(skew))
    return [w for w in warnings if w]


def stopped_note(jid: str) -> str:
    """What `run` and `apply` print when the master stopped before every minion answered."""
    return ("lpmaster: the master stopped before every minion answered; returns that arrive later "
            f"are in the job store: lpmaster jobs show {jid}")


def escape_controls(text: str) -> str:
    """Replace control and invisible formatting characters (but newline and tab) by visible
    escapes: also U+202E and friends, which could make a return read differently than it is."""
    return safe_text(text)


def terminal_safe(value: Any, indent: str = "    ") -> str:
    """A return value as indented, escaped text: strings as they are, scalars as Salt shows
    them (True, None, 3), maps and lists as block YAML."""
    if isinstance(value, str):
        text = value
    elif value is None or isinstance(value, (bool, int, float)):
        text = str(value)
    else:
        text = _yaml(value)
    text = escape_controls(text)
    return "\n".join(indent + line for line in text.splitlines() or [""])


def is_state_return(ret: Any) -> bool:
    """Salt's state return shape: a map of state tags, or the list of errors of a run that did
    not compile."""
    return isinstance(ret, dict) or (isinstance(ret, list) and all(isinstance(x, str) for x in ret))


def minion_return_text(fun: str, minion_id: str, ret: Any, *, success: bool = True, retcode: int = 0,
                       verbose: bool = False, color: bool = False) -> str:
    """One minion's return as the terminal shows it: highstate output for `state.*` functions,
    indented YAML-ish text for everything else, control characters escaped either way."""
    if str(fun).startswith("state.") and is_state_return(ret):
        from core.stateoutput import format_highstate

        return format_highstate(minion_id, ret, verbose=verbose, color=color)
    mark = "" if success else f"  (failed{f', exit code {retcode}' if retcode else ''})"
    return f"{escape_controls(minion_id)}:{mark}\n{terminal_safe(ret)}"
