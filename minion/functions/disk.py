"""disk.usage: the mounted filesystems' use, from `df -P` (Salt's disk.usage shape).

    lpmaster run '*' disk.usage
    -> {"/": {"filesystem": "/dev/vda1", "1K-blocks": "41152736", "used": "9012344",
              "available": "30030760", "capacity": "24%"}, ...}
"""
from __future__ import annotations

import re
from typing import Any

from minion.functions import FunctionResult

DF_TIMEOUT_S = 30.0
CAPACITY = re.compile(r"^(\d+%|-)$")


def usage(ctx: Any) -> FunctionResult:
    """{mount point: {filesystem, 1K-blocks, used, available, capacity}} of every filesystem."""
    from minion.providers.process import run
    from minion.state.contract import StateFailed

    try:
        result = run(["df", "-P"], timeout=DF_TIMEOUT_S)
    except StateFailed as exc:
        return FunctionResult(f"Error: {exc}", success=False, retcode=1)
    found = parse_df(result.stdout)
    if not found and not result.ok:
        return FunctionResult(f"Error: df failed: {result.tail()}", success=False, retcode=1)
    return FunctionResult(found)


def parse_df(output: str) -> dict[str, dict[str, str]]:
    """Parse POSIX `df -P` output: FILESYSTEM BLOCKS USED AVAILABLE CAPACITY% MOUNTPOINT (a
    filesystem or mount point may hold spaces; the numeric columns find them)."""
    found: dict[str, dict[str, str]] = {}
    for line in output.splitlines()[1:]:
        words = line.split()
        for i in range(1, len(words) - 4):
            blocks, used, avail, cap = words[i:i + 4]
            if blocks.isdigit() and used.isdigit() and avail.isdigit() and CAPACITY.match(cap):
                found[" ".join(words[i + 4:])] = {"filesystem": " ".join(words[:i]), "1K-blocks": blocks,
                                                   "used": used, "available": avail, "capacity": cap}
                break
    return found
