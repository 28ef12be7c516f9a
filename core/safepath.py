"""The one safe join for every path built from input (SECURITY.md rule 4).

    >>> safe_join("/srv/states", "web/nginx.conf")
    '/srv/states/web/nginx.conf'
    >>> safe_join("/srv/states", "../etc/shadow")
    Traceback (most recent call last):
    core.errors.UnsafePathError: ...
"""
from __future__ import annotations

import os
import stat

from core.errors import UnsafePathError


def check_relative(relpath: str) -> str:
    """Refuse NUL bytes, absolute paths, backslashes and `..` parts; return the normalised path."""
    if not isinstance(relpath, str) or relpath == "":
        raise UnsafePathError("empty path")
    if "\x00" in relpath:
        raise UnsafePathError("path contains a NUL byte")
    if relpath.startswith("/") or relpath.startswith("\\"):
        raise UnsafePathError(f"absolute path not allowed: {relpath!r}")
    parts = relpath.replace("\\", "/").split("/")
    if ".." in parts:
        raise UnsafePathError(f"'..' not allowed in {relpath!r}")
    return "/".join(p for p in parts if p not in ("", "."))


def safe_join(root: str, relpath: str) -> str:
    """Join `relpath` under `root`; the real path (symlinks resolved) must stay inside the real root."""
    clean = check_relative(relpath)
    real_root = os.path.realpath(root)
    candidate = os.path.realpath(os.path.join(real_root, clean))
    if os.path.commonpath([real_root, candidate]) != real_root:
        raise UnsafePathError(f"{relpath!r} leaves its root")
    return candidate


def safe_regular_file(root: str, relpath: str) -> str:
    """safe_join, and the result must be an existing regular file (not a device, fifo or dir)."""
    path = safe_join(root, relpath)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise UnsafePathError(f"{relpath!r}: {exc.strerror}") from exc
    if not stat.S_ISREG(mode):
        raise UnsafePathError(f"{relpath!r} is not a regular file")
    return path
