"""Sample every process's command line (as any local user can) while some work runs."""
from __future__ import annotations

import os
import threading
import time
from typing import Any, Callable


def cmdlines() -> list[bytes]:
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    out.append(fh.read())
            except OSError:
                pass
    return out


class Sampled:
    """What sampling saw: `leaked` command lines holding the canary, `seen(b"git\\0clone")`."""

    def __init__(self) -> None:
        self.samples = 0
        self.leaked: list[bytes] = []
        self.lines: set[bytes] = set()

    def seen(self, prefix: bytes) -> bool:
        return any(line.startswith(prefix) or (b"\0" + prefix) in line for line in self.lines)


def sample_while(work: Callable[[], Any], canary: str) -> tuple[Any, Sampled]:
    """Run `work()` in a thread, sampling /proc/*/cmdline until it ends; (its result, Sampled)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # re-raised below, in the test's thread
            box["error"] = exc

    worker = threading.Thread(target=target)
    worker.start()
    seen = Sampled()
    while worker.is_alive():
        for line in cmdlines():
            seen.lines.add(line)
            if canary.encode() in line:
                seen.leaked.append(line)
        seen.samples += 1
        time.sleep(0.005)
    worker.join()
    if "error" in box:
        raise box["error"]
    return box.get("value"), seen
