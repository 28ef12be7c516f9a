"""Small JSON state files the minion keeps across restarts, written atomically and durably.

    write_json_atomic("/var/cache/lp/schedule.json", {"version": 1, ...})
    data = read_json("/var/cache/lp/schedule.json")      # None when missing or unreadable
"""
from __future__ import annotations

import json
import logging
import os
from typing import Any

from minion.providers.atomic import write_atomic

log = logging.getLogger(__name__)

MAX_BYTES = 1_000_000


def write_json_atomic(path: str, data: Any) -> None:
    """Temp file in the same directory (0600), fsync, rename over `path`, fsync the directory."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), mode=0o700, exist_ok=True)
    write_atomic(path, json.dumps(data, sort_keys=True).encode(), mode=0o600, sync_dir=True)


def read_json(path: str) -> Any:
    """The parsed file, or None when it is missing or unreadable (logged)."""
    try:
        with open(path, "rb") as fh:
            return json.loads(fh.read(MAX_BYTES))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("state file %s unreadable (%s); starting afresh", path, exc)
        return None
