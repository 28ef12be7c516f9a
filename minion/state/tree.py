"""A state (or pillar) tree on disk: SLS names to files, safely inside the root.

    >>> tree = StateTree("/srv/states")
    >>> tree.sls_path("web.nginx")        # web/nginx.sls, or else web/nginx/init.sls
    '/srv/states/web/nginx.sls'
"""
from __future__ import annotations

import fnmatch
import os
from typing import Callable

from core.errors import CompileError, UnsafePathError
from core.safepath import safe_regular_file
from core.slsname import SLS_NAME



class SlsNotFound(CompileError):
    """No file for an SLS name (neither a/b.sls nor a/b/init.sls)."""

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        super().__init__([message])


class StateTree:
    """A directory of SLS files. Names are dotted (`web.nginx`); files never leave the root."""

    def __init__(self, root: str, listing: Callable[[], list[str]] | None = None, label: str | None = None) -> None:
        """`label` names the tree in errors (default its path; a mirror: "the master's state tree")."""
        if not os.path.isdir(root):
            raise CompileError([f"{root}: the tree is not a directory"])
        self.root = os.path.realpath(root)
        self._listing = listing  # the master's file list, when `root` mirrors only part of it
        self.label = label or self.root

    def list_files(self) -> list[str]:
        """Every file of the tree, relative to its root, sorted (Salt's cp.list_master)."""
        if self._listing is not None:
            return sorted(self._listing())
        found: list[str] = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            rel_dir = os.path.relpath(dirpath, self.root)
            found.extend(f if rel_dir == "." else f"{rel_dir}/{f}" for f in filenames
                         if not f.startswith("."))
        return sorted(found)

    def sls_path(self, name: str) -> str:
        """The file of SLS `name`: `a/b.sls`, else `a/b/init.sls`; SlsNotFound when neither is."""
        rel = self.sls_relpath(name)
        return os.path.join(self.root, rel)

    def sls_relpath(self, name: str) -> str:
        """Like sls_path, relative to the root (what error messages show)."""
        if not isinstance(name, str) or not SLS_NAME.match(name):
            raise SlsNotFound(str(name),
                              f"{name!r} is not a valid SLS name (dotted words, e.g. web.nginx)")
        base = name.replace(".", "/")
        for rel in (f"{base}.sls", f"{base}/init.sls"):
            try:
                safe_regular_file(self.root, rel)
            except (FileNotFoundError, NotADirectoryError):
                continue
            except UnsafePathError as exc:
                raise SlsNotFound(name, f"SLS {name!r}: {exc}") from None
            return rel
        raise SlsNotFound(
            name, f"SLS {name!r} not found in {self.label} (no {base}.sls or {base}/init.sls)")

    def read(self, name: str) -> tuple[str, str]:
        """(text, path relative to the root) of SLS `name`."""
        rel = self.sls_relpath(name)
        return self.read_file(rel), rel

    def read_file(self, relpath: str) -> str:
        """The text of a file in the tree (e.g. `top.sls`); FileNotFoundError when absent."""
        path = safe_regular_file(self.root, relpath)
        with open(path, encoding="utf-8") as handle:
            return handle.read()

    def has_file(self, relpath: str) -> bool:
        try:
            safe_regular_file(self.root, relpath)
        except (FileNotFoundError, NotADirectoryError, UnsafePathError):
            return False
        return True

    def sls_names(self) -> list[str]:
        """Every SLS name in the tree (sorted), `top` excluded; for include globs like `web.*`."""
        names: list[str] = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            rel_dir = os.path.relpath(dirpath, self.root)
            prefix = "" if rel_dir == "." else rel_dir.replace(os.sep, ".") + "."
            for filename in sorted(filenames):
                if not filename.endswith(".sls"):
                    continue
                if filename == "init.sls" and prefix:
                    names.append(prefix[:-1])
                elif filename != "init.sls":
                    names.append(prefix + filename[:-4])
        return sorted(n for n in set(names) if n != "top" and SLS_NAME.match(n))

    def glob(self, pattern: str) -> list[str]:
        return [n for n in self.sls_names() if fnmatch.fnmatchcase(n, pattern)]
