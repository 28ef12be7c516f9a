"""test.*: functions for checking that minions answer (as Salt's test module)."""
from __future__ import annotations

import time
from typing import Any

from core.errors import LinkpeekError


def ping(ctx: Any) -> bool:
    """True: the minion is up and runs jobs."""
    return True


def echo(ctx: Any, text: Any = "") -> Any:
    """Return `text` unchanged."""
    return text


def sleep(ctx: Any, length: Any = 1) -> bool:
    """Sleep `length` seconds (at most an hour), then return True."""
    seconds = float(length)
    if not 0 <= seconds <= 3600:
        raise LinkpeekError("test.sleep: length must be between 0 and 3600 seconds")
    time.sleep(seconds)
    return True


def exception(ctx: Any, message: Any = "test.exception was called") -> None:
    """Raise an error (to see how a failing job looks)."""
    raise RuntimeError(str(message))


def version(ctx: Any) -> str:
    """The linkpeek-ops version this minion runs."""
    from importlib.metadata import PackageNotFoundError, version as dist_version

    try:
        return dist_version("linkpeek-ops")
    except PackageNotFoundError:
        return "unknown"
