"""SLS names: which are valid, and what a relative include (`.x`, `..x`) means.

Pure functions, shared by the state compiler (minion) and the pillar compiler (master).

    >>> resolve_relative("web.nginx", "web/nginx.sls", ".tls")
    'web.tls'
    >>> resolve_relative("web", "web/init.sls", ".tls")
    'web.tls'
"""
from __future__ import annotations

import re

SLS_NAME = re.compile(r"\A[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*\Z")  # \Z: no trailing newline


def resolve_relative(sls: str, relpath: str, inc: str) -> str | None:
    """`.x` relative to `sls` (its package; for an init.sls, the SLS itself). None if too high."""
    match = re.match(r"^(\.+)(.*)$", inc)
    if match is None:
        return inc
    dots, rest = match.groups()
    parts = sls.split(".")
    if relpath.endswith("/init.sls") or relpath == "init.sls":
        parts.append("init")
    if len(dots) > len(parts):
        return None
    base = parts[: len(parts) - len(dots)]
    return ".".join(base + [rest]) if rest else ".".join(base) or None
