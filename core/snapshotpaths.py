"""The checks a restore makes on a snapshot's paths before anything is written (SECURITY.md rule 4).

    paths = check_nodes(restic.ls(snapshot_id))     # UnsafePathError on a crafted snapshot
    check_existing(target, paths)                   # no existing symlink on the way under target
    check_within(paths, job.paths)                  # in place: only what the job backs up ...
    check_existing_within(paths, job.paths)         # ... and never through a symlink a restore left

Every node path must be absolute and plain (no `..`, `.`, empty parts, NUL or backslash), its
name must be one path part, and no node may lie under a node that is a symlink (the classic way
out of a restore target); device nodes are refused (a restored /dev/sda clone, 0666, is a
root shell for any local user). restic follows a symlink that already exists where it
restores (an earlier snapshot's `link -> /etc`, then a later one's `link/cron.d/x`), hence
the checks of what is on disk. Used by the minion's restores and the master's `init --restore`.
"""
from __future__ import annotations

import os
from typing import Any, Iterable

from core.errors import UnsafePathError

DEVICE_TYPES = ("dev", "chardev")
GO_SETUID, GO_SETGID = 1 << 23, 1 << 22   # restic's node mode is Go's os.FileMode


def check_nodes(nodes: Iterable[dict[str, Any]]) -> list[str]:
    """The node paths, once each is plain and none lies under a symlink node; else UnsafePathError."""
    paths: list[str] = []
    links: set[str] = set()
    for node in nodes:
        path = node.get("path")
        if not isinstance(path, str) or not path.startswith("/") or "\x00" in path or "\\" in path:
            raise UnsafePathError(f"snapshot holds an unsafe path {str(path)[:200]!r}")
        parts = path.split("/")[1:]
        if any(p in ("", ".", "..") for p in parts):
            raise UnsafePathError(f"snapshot holds an unsafe path {path[:200]!r}")
        name = node.get("name")
        if isinstance(name, str) and ("/" in name or name in (".", "..")):
            raise UnsafePathError(f"snapshot holds an unsafe name {name[:200]!r}")
        if node.get("type") in DEVICE_TYPES:
            raise UnsafePathError(f"snapshot holds a device node {path[:200]!r}; not restoring devices")
        paths.append(path)
        if node.get("type") == "symlink":
            links.add(path)
    for path in paths:
        parts = path.split("/")[1:]
        for i in range(1, len(parts)):
            parent = "/" + "/".join(parts[:i])
            if parent in links:
                raise UnsafePathError(f"snapshot puts {path[:200]!r} under the symlink {parent!r}")
    return paths


def check_existing(target: str, paths: Iterable[str]) -> None:
    """No existing part of a restored path under `target` (but the last) may be a symlink."""
    real_target = os.path.realpath(target)
    for path in paths:
        current = real_target
        for part in path.split("/")[1:-1]:
            current = os.path.join(current, part)
            if os.path.islink(current):
                raise UnsafePathError(f"{current} is a symlink; restoring through it could write outside {target}")
            if not os.path.exists(current):
                break


def check_within(paths: Iterable[str], roots: Iterable[str]) -> None:
    """Every path is one of `roots`, lies under one, or is a directory above one (an in-place
    restore writes only what the job backs up, whatever else a crafted snapshot holds)."""
    bases = _bases(roots)
    for path in paths:
        if not any(path == r or path.startswith(_under(r)) or r.startswith(_under(path)) for r in bases):
            raise UnsafePathError(f"snapshot holds {path[:200]!r}, outside the job's paths {', '.join(bases)}")


def check_existing_within(paths: Iterable[str], roots: Iterable[str]) -> None:
    """No existing symlink from a root down to the parent of a restored path under it."""
    bases = _bases(roots)
    for path in paths:
        root = next((r for r in bases if path.startswith(_under(r))), None)
        if root is None:
            continue
        current = root
        for part in [""] + path[len(_under(root)):].split("/")[:-1]:
            current = os.path.join(current, part) if part else current
            if os.path.islink(current):
                raise UnsafePathError(f"{current} is a symlink; restoring {path[:200]!r} through it "
                                      "could write anywhere")
            if not os.path.exists(current):
                break


def _bases(roots: Iterable[str]) -> list[str]:
    return [os.path.normpath(r) for r in roots]


def _under(path: str) -> str:
    return path if path.endswith("/") else path + "/"


def check_privileged(nodes: Iterable[dict[str, Any]], target: str) -> None:
    """setuid/setgid programs are restored only into a directory no one else can enter: in
    place, or into a shared directory, a crafted snapshot's setuid-root shell is a root shell
    for every local user."""
    if target != "/" and not os.stat(target).st_mode & 0o077:
        return
    found = [str(n.get("path")) for n in nodes if n.get("type") == "file" and isinstance(n.get("mode"), int)
             and n["mode"] & (GO_SETUID | GO_SETGID)]
    if found:
        raise UnsafePathError(f"snapshot holds setuid/setgid programs ({', '.join(p[:200] for p in found[:3])}"
                              f"{', ...' if len(found) > 3 else ''}); restore it --to a new or 0700 directory "
                              "and install them from there")
