"""LocalFileClient: `salt://path` served from a local state tree, for `lpminion apply --local`.

    files = LocalFileClient("/srv/states")
    files.cache_file("salt://web/nginx.conf")   -> "/srv/states/web/nginx.conf"
    files.cache_file("salt://../etc/shadow")    -> UnsafePathError
    files.cache_file("/etc/hostname")           -> "/etc/hostname" (local paths, as in Salt)

salt:// paths go through core.safepath (realpath + commonpath): no `..`, no absolute part, no NUL,
no symlink leaving the tree, regular files only. The minion daemon uses a remote client with the
same interface (contract.FileClient).
"""

from __future__ import annotations

import os
import stat

from core.errors import UnsafePathError
from core.safepath import check_relative, safe_join, safe_regular_file
from minion.state.contract import StateFailed

SCHEME = "salt://"


def split_url(url: str) -> str:
    """The tree-relative path of a salt:// URL (query like `?saltenv=base` dropped)."""
    if not isinstance(url, str) or not url.startswith(SCHEME):
        raise UnsafePathError(f"not a salt:// URL: {url!r}")
    return url[len(SCHEME) :].split("?", 1)[0]


def local_source(url: str) -> str:
    """A source that is not salt://: an absolute local path (or file:// URL) to a regular file,
    as in Salt. Both file clients serve these the same way."""
    if isinstance(url, str) and url.startswith("file://"):
        url = url[len("file://") :]
    if not isinstance(url, str) or "\x00" in url or not os.path.isabs(url):
        raise UnsafePathError(
            f"source must be salt://... or an absolute local path, not {url!r}"
        )
    try:
        if stat.S_ISREG(os.stat(url).st_mode):
            return url
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise StateFailed(f"Source file {url} is not readable: {exc.strerror}") from exc
    raise StateFailed(f"Source file {url} not found")


class LocalFileClient:
    """contract.FileClient over a state tree directory on this host."""

    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(root)
        self._resolved: dict[str, str] = {}  # one run: a source named by 200 states is resolved once

    def cache_file(self, url: str) -> str:
        if isinstance(url, str) and url.startswith(SCHEME):
            found = self._resolved.get(url)
            if found is not None:
                return found
            rel = split_url(url)
            try:
                found = self._resolved[url] = safe_regular_file(self.root, rel)
            except FileNotFoundError:
                raise StateFailed(f"Source file {url} not found in the state tree") from None
            return found
        return local_source(url)

    def _dir(self, url: str) -> str:
        rel = split_url(url).strip("/")
        path = safe_join(self.root, rel) if rel else self.root
        if not os.path.isdir(path):
            raise StateFailed(f"Source directory {url} not found in the state tree")
        return path

    def _walk(self, url: str) -> tuple[list[str], list[str]]:
        base = self._dir(url)
        files: list[str] = []
        empty: list[str] = []
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            rel_dir = os.path.relpath(dirpath, base)
            kept = 0
            for fname in sorted(filenames):
                rel = fname if rel_dir == "." else f"{rel_dir}/{fname}"
                full = os.path.join(dirpath, fname)
                if os.path.islink(full):  # a link is served only if it stays inside the tree
                    try:
                        safe_regular_file(self.root, os.path.relpath(full, self.root))
                    except (UnsafePathError, FileNotFoundError):
                        continue
                elif not os.path.isfile(full):
                    continue
                files.append(check_relative(rel))
                kept += 1
            if not kept and not dirnames and rel_dir != ".":
                empty.append(rel_dir)
        return files, empty

    def list_dir(self, url: str) -> list[str]:
        return self._walk(url)[0]

    def list_empty_dirs(self, url: str) -> list[str]:
        return self._walk(url)[1]
