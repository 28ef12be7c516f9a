"""Salt-highstate-like text for one minion's state results.

    print(format_highstate("web1", results, verbose=False, color=sys.stdout.isatty()))

    web1:
    ----------
              ID: /etc/motd
        Function: file.managed
          Result: True
         Comment: File /etc/motd updated
         Started: 06:12:01.123456
        Duration: 1.234 ms
         Changes:
                  ----------
                  diff:
                      ---
                      +++
                      @@ -1 +1 @@
                      -old
                      +new

    Summary for web1
    ------------
    Succeeded: 3 (changed=1)
    Failed:    0
    ------------
    Total states run:     3
    Total run time:   4.210 ms

Changed and failed states are shown by default, every state with `verbose`. Colours only when
asked (the caller passes `color=stream.isatty()`). Text that came from a host (comments, output,
diffs) is stripped of terminal control characters before it is printed (SECURITY.md rule 10).
"""

from __future__ import annotations

from typing import Any, Mapping

_GREEN, _CYAN, _YELLOW, _RED, _RESET = (
    "\033[0;32m",
    "\033[0;36m",
    "\033[0;33m",
    "\033[0;31m",
    "\033[0m",
)
_PAD = 4  # indent of a value under its key in "Changes:"


def safe_text(text: Any) -> str:
    """`text` as a string without control characters (newlines and tabs kept)."""
    s = text if isinstance(text, str) else str(text)
    if s.isprintable():
        return s
    return "".join(ch if ch.isprintable() or ch in "\n\t" else f"\\x{ord(ch):02x}" for ch in s)


def split_tag(tag: str) -> tuple[str, str, str, str]:
    """Salt's `state_|-id_|-name_|-fun` key as its four parts; ("", tag, tag, "") if it is not one."""
    parts = tag.split("_|-")
    if len(parts) == 4:
        return parts[0], parts[1], parts[2], parts[3]
    return "", tag, tag, ""


def _nested(value: Any, indent: int) -> list[str]:
    """Salt's `nested` outputter, simplified: dicts as key:/value blocks, lists as `- item`."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, Mapping):
        lines.append(f"{pad}----------")
        for key in sorted(value, key=str):
            lines.append(f"{pad}{safe_text(key)}:")
            lines.extend(_nested(value[key], indent + _PAD))
    elif isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, (Mapping, list, tuple)):
                lines.append(f"{pad}|_")
                lines.extend(_nested(item, indent + 2))
            else:
                lines.append(f"{pad}- {safe_text(item)}")
    elif value is None or value == "":
        pass
    else:
        for line in safe_text(value).splitlines() or [""]:
            lines.append(f"{pad}{line}")
    return lines


def _color_of(ret: Mapping[str, Any]) -> str:
    if ret.get("result") is False:
        return _RED
    if ret.get("result") is None:
        return _YELLOW
    return _CYAN if ret.get("changes") else _GREEN


def format_state(tag: str, ret: Mapping[str, Any], color: bool = False) -> str:
    """One state's block."""
    state, sid, name, fun = split_tag(tag)
    sid = str(ret.get("__id__", sid))
    name = str(ret.get("name", name))
    head, tail = (_color_of(ret), _RESET) if color else ("", "")
    comment_lines = safe_text(ret.get("comment", "")).splitlines() or [""]
    out = [f"{head}----------", f"          ID: {safe_text(sid)}", f"    Function: {state}.{fun}"]
    if name != sid:
        out.append(f"        Name: {safe_text(name)}")
    out.append(f"      Result: {ret.get('result')}")
    out.append(f"     Comment: {comment_lines[0]}")
    out.extend(f"              {line}" for line in comment_lines[1:])
    if ret.get("start_time"):
        out.append(f"     Started: {ret['start_time']}")
    out.append(f"    Duration: {float(ret.get('duration', 0.0)):.3f} ms")
    changes = ret.get("changes") or {}
    out.append("     Changes:   " if not changes else "     Changes:")
    if changes:
        out.extend(_nested(changes, 14))
    warnings = [safe_text(w) for w in ret.get("warnings") or ()]
    if warnings:
        out.append(f"    Warnings: {warnings[0]}")
        out.extend(f"              {w}" for w in warnings[1:])
    return "\n".join(out) + tail


def summary_counts(results: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """succeeded, changed, failed, total, pending (test mode: result None) and the summed
    duration (ms) of a state return."""
    failed = sum(1 for r in results.values() if r.get("result") is False)
    pending = sum(1 for r in results.values() if r.get("result") is None)
    changed = sum(1 for r in results.values() if r.get("changes") and r.get("result") is not False)
    total = len(results)
    duration = sum(float(r.get("duration", 0.0)) for r in results.values())
    return {
        "succeeded": total - failed,
        "changed": changed,
        "failed": failed,
        "pending": pending,
        "total": total,
        "duration_ms": round(duration, 3),
    }


def format_highstate(
    minion_id: str,
    results: Mapping[str, Mapping[str, Any]] | list[str],
    *,
    verbose: bool = False,
    color: bool = False,
) -> str:
    """The whole highstate text for one minion. A list means it did not compile (Salt's shape)."""
    mid = safe_text(minion_id)
    if isinstance(results, list):
        red, reset = (_RED, _RESET) if color else ("", "")
        body = "\n".join(f"    {red}{safe_text(line)}{reset}" for line in results)
        return f"{mid}:\n    Data failed to compile:\n----------\n{body}"
    ordered = sorted(results.items(), key=lambda kv: kv[1].get("__run_num__", 0))
    blocks = [
        format_state(tag, ret, color)
        for tag, ret in ordered
        if verbose or ret.get("changes") or ret.get("result") is not True or ret.get("warnings")
    ]
    counts = summary_counts(results)
    succeeded = f"Succeeded: {counts['succeeded']}"
    if counts["pending"]:  # test mode, as Salt prints it
        succeeded += f" (unchanged={counts['pending']}, changed={counts['changed']})"
    elif counts["changed"]:
        succeeded += f" (changed={counts['changed']})"
    failed = f"Failed:    {counts['failed']}"
    if color:
        succeeded = f"{_CYAN if counts['changed'] else _GREEN}{succeeded}{_RESET}"
        failed = f"{_RED if counts['failed'] else _CYAN}{failed}{_RESET}"
    total_time = counts["duration_ms"]
    time_text = f"{total_time / 1000:.3f} s" if total_time >= 1000 else f"{total_time:.3f} ms"
    lines = [f"{mid}:"]
    lines.extend(blocks)
    lines += ["", f"Summary for {mid}", "------------", succeeded, failed]
    warned = sum(1 for r in results.values() if r.get("warnings"))
    if warned:  # as Salt counts them: states that carry warnings
        lines.append(f"{_YELLOW}Warnings:  {warned}{_RESET}" if color else f"Warnings:  {warned}")
    lines += [
        "------------",
        f"Total states run:     {counts['total']}",
        f"Total run time: {time_text:>10}",
    ]
    return "\n".join(lines)
