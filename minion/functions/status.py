"""status.*: how long this host has been up, and its load (Salt's status module).

    lpmaster run '*' status.uptime
    -> {"seconds": 93784, "since_iso": "2026-11-30T08:05:12", "since_t": 1796..., "days": 1,
        "time": "2:03", "users": 1}
    lpmaster run '*' status.loadavg      {"1-min": 0.1, "5-min": 0.05, "15-min": 0.01}
"""
from __future__ import annotations

import datetime
import os
import struct
import time
from typing import Any

UTMP = "/var/run/utmp"
UTMP_RECORD = 384       # struct utmp on Linux (glibc, x86-64 and aarch64)
USER_PROCESS = 7


def uptime(ctx: Any) -> dict[str, Any]:
    """Seconds since boot, the boot time (ISO and epoch), days, "H:MM", and logged-in users."""
    with open("/proc/uptime", encoding="ascii") as fh:
        seconds = int(float(fh.read().split()[0]))
    return uptime_from(seconds, time.time(), count_users(UTMP))


def loadavg(ctx: Any) -> dict[str, float]:
    """The 1, 5 and 15 minute load averages."""
    one, five, fifteen = os.getloadavg()
    return {"1-min": one, "5-min": five, "15-min": fifteen}


def uptime_from(seconds: int, now: float, users: int) -> dict[str, Any]:
    since = now - seconds
    hours, rest = divmod(seconds % 86400, 3600)
    return {"seconds": seconds, "since_iso": datetime.datetime.fromtimestamp(since).isoformat(),
            "since_t": int(since), "days": seconds // 86400, "time": f"{hours}:{rest // 60:02d}",
            "users": users}


def count_users(path: str) -> int:
    """Logged-in sessions in a utmp file (0 when there is none)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return 0
    count = 0
    for off in range(0, len(data) - UTMP_RECORD + 1, UTMP_RECORD):
        (kind,) = struct.unpack_from("<h", data, off)
        if kind == USER_PROCESS:
            count += 1
    return count
