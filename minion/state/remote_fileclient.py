"""A contract.FileClient that fetches `salt://` files from the master, cached by hash.

The minion keeps a mirror of the master's state tree under `<cachedir>/files/base/`,
with an index of each file's sha256. One `file_list` round trip gets every file's hash;
after that an unchanged file costs nothing, a changed template-like file (.sls, .jinja,
.yaml, ...) is fetched in batches, and any other file only when a state asks for it
(`cache_file`), in chunks when it is large. The mirror is a plain directory, so the
compiler reads it as a StateTree and Jinja's imports resolve inside it.

    client = RemoteFileClient(request, cachedir)   # request(dict) -> dict, sync
    tree_root = client.sync_tree()                 # mirror the SLS side of the tree
    path = client.cache_file("salt://web/nginx.conf")
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
from typing import Any, Callable, Iterable

from core.errors import LinkpeekError, TransportError, UnsafePathError
from core.safepath import check_relative, safe_join
from minion.providers.atomic import write_atomic
from minion.state.contract import StateFailed
from minion.state.fileclient import SCHEME, local_source, split_url

Request = Callable[[dict[str, Any]], dict[str, Any]]

# Files the compiler may read while rendering (top.sls, SLS, Jinja imports, import_yaml).
TEMPLATE_SUFFIXES = (".sls", ".jinja", ".j2", ".yaml", ".yml", ".json")
BATCH_BYTES = 512 * 1024
BATCH_FILES = 500
TRANSPORT_ATTEMPTS = 3


class RemoteFileClient:
    """Mirror of the master's state tree, filled on demand. Not thread-safe (one run at a time)."""

    def __init__(self, request: Request, cachedir: str) -> None:
        self._request = request
        self.root = os.path.join(cachedir, "files", "base")
        self._index_path = os.path.join(cachedir, "files", "base.index.json")
        os.makedirs(self.root, mode=0o700, exist_ok=True)
        self._real_root = os.path.realpath(self.root)
        self._index: dict[str, dict[str, Any]] = self._load_index()
        self._index_changed = False
        self._listing: dict[str, dict[str, Any]] | None = None  # master's view, from file_list
        self.round_trips = 0  # for tests and benchmarks: requests sent to the master
        self.fetched: list[str] = []  # paths whose bytes crossed the wire this run

    # --- contract.FileClient -----------------------------------------------------------------

    def cache_file(self, url: str) -> str:
        """A local path holding the file's bytes; StateFailed when the master has no such file."""
        if not (isinstance(url, str) and url.startswith(SCHEME)):
            return local_source(url)
        rel = self._rel(url)
        meta = self._master_stat(rel)
        if not self._is_current(rel, meta["sha256"]):
            self._fetch_chunked(rel)
            self._save_index()
        return self._local(rel)

    def list_dir(self, url: str) -> list[str]:
        """Every file below a salt:// directory, relative to it (for file.recurse)."""
        rel = "" if url in ("salt://", "salt:///") else self._rel(url)
        if self._listing is not None:
            prefix = f"{rel}/" if rel else ""
            found = sorted(p[len(prefix):] for p in self._listing if p.startswith(prefix))
            if found:
                return found
        reply = self._call({"type": "file_list", "path": rel})
        if "error" in reply:
            raise StateFailed(f"salt://{rel}: {reply['error']}")
        return sorted(reply.get("files", {}))

    def list_empty_dirs(self, url: str) -> list[str]:
        """Leaf directories below a salt:// directory, holding nothing (file.recurse include_empty)."""
        rel = "" if url in ("salt://", "salt:///") else self._rel(url)
        reply = self._call({"type": "file_list", "path": rel})
        if "error" in reply:
            raise StateFailed(f"salt://{rel}: {reply['error']}")
        below = list(reply.get("files", {})) + [d for d in reply.get("dirs", []) if isinstance(d, str)]
        return sorted(d for d in reply.get("dirs", [])
                      if isinstance(d, str) and not any(p.startswith(f"{d}/") for p in below))

    # --- mirroring --------------------------------------------------------------------------

    def sync_tree(self, suffixes: Iterable[str] = TEMPLATE_SUFFIXES) -> str:
        """Mirror every template-like file of the master's tree; return the mirror's root.

        One round trip when nothing changed. Files gone from the master leave the mirror,
        so an SLS deleted there is not compiled here.
        """
        reply = self._call({"type": "file_list", "path": ""})
        if "error" in reply:
            raise LinkpeekError(f"cannot list the master's state tree: {reply['error']}")
        listing: dict[str, dict[str, Any]] = {}
        for path, meta in reply.get("files", {}).items():
            try:
                listing[check_relative(path)] = meta
            except UnsafePathError:
                continue  # never write outside the mirror, whatever the master says
        self._listing = listing
        self._remove_stale(set(listing))
        wanted = sorted(p for p, meta in listing.items()
                        if p.endswith(tuple(suffixes)) and not self._is_current(p, meta["sha256"]))
        small = [p for p in wanted if listing[p].get("size", 0) <= BATCH_BYTES]
        for batch in _batches(small, listing):
            self._fetch_batch(batch)
        for path in wanted:
            if path not in small:
                self._fetch_chunked(path)
        if self._index_changed:   # an unchanged tree costs no write
            self._save_index()
        return self.root

    def master_files(self) -> list[str]:
        """Every file of the master's tree, as its last listing gave them (cp.list_master)."""
        return sorted(self._listing or ())

    # --- internals --------------------------------------------------------------------------

    def _rel(self, url: str) -> str:
        try:
            return check_relative(split_url(url))
        except UnsafePathError as exc:
            raise StateFailed(f"{url}: {exc}") from exc

    def _call(self, request: dict[str, Any]) -> dict[str, Any]:
        """One request; a transport failure (a reset link fails every request then in flight)
        is retried: file requests only read, so asking again is safe."""
        for attempt in range(1, TRANSPORT_ATTEMPTS + 1):
            self.round_trips += 1
            try:
                reply = self._request(request)
                break
            except TransportError as exc:
                if attempt == TRANSPORT_ATTEMPTS:
                    raise StateFailed(f"the master did not answer a {request['type']} request "
                                      f"({attempt} tries): {exc}") from exc
            except LinkpeekError as exc:
                raise StateFailed(f"the master did not answer a {request['type']} request: {exc}") from exc
        if not isinstance(reply, dict):
            raise StateFailed(f"the master sent a malformed {request['type']} reply")
        return reply

    def _master_stat(self, rel: str) -> dict[str, Any]:
        if self._listing is not None and rel in self._listing:
            return self._listing[rel]
        reply = self._call({"type": "file_stat", "paths": [rel]})
        meta = reply.get("files", {}).get(rel) if "error" not in reply else reply
        if not isinstance(meta, dict) or "error" in meta or "sha256" not in meta:
            error = meta.get("error") if isinstance(meta, dict) else "no answer"
            raise StateFailed(f"salt://{rel}: {error}")
        return meta

    def _is_current(self, rel: str, sha256: str) -> bool:
        entry = self._index.get(rel)
        if entry is None or entry.get("sha256") != sha256:
            return False
        try:
            st = os.lstat(self._local(rel))
        except (OSError, UnsafePathError):
            return False
        return (stat.S_ISREG(st.st_mode) and st.st_size == entry.get("size")
                and st.st_mtime_ns == entry.get("mtime_ns"))

    def _local(self, rel: str) -> str:
        """The mirror's copy of `rel`. Only this client writes the mirror, regular files only
        (`_store` refuses links), so a checked relative path needs no realpath per call."""
        return os.path.join(self._real_root, check_relative(rel))

    def _fetch_batch(self, paths: list[str]) -> None:
        reply = self._call({"type": "file_batch", "paths": paths})
        files = reply.get("files", {}) if "error" not in reply else {}
        for rel in paths:
            meta = files.get(rel)
            if not isinstance(meta, dict) or "data" not in meta:
                self._fetch_chunked(rel)  # too large after all, or changed: take the slow road
                continue
            data = bytes(meta["data"])
            if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
                self._fetch_chunked(rel)
                continue
            self._store(rel, data, meta["sha256"])

    def _fetch_chunked(self, rel: str, attempts: int = 3) -> None:
        """Fetch a file chunk by chunk; start over if it changed on the master meanwhile."""
        for _ in range(attempts):
            first = self._call({"type": "file", "path": rel, "chunk": 0})
            if "error" in first:
                raise StateFailed(f"salt://{rel}: {first['error']}")
            parts = [bytes(first["data"])]
            digest = first["sha256"]
            for n in range(1, int(first.get("chunks", 1))):
                reply = self._call({"type": "file", "path": rel, "chunk": n})
                if "error" in reply or reply.get("sha256") != digest:
                    break
                parts.append(bytes(reply["data"]))
            else:
                data = b"".join(parts)
                if hashlib.sha256(data).hexdigest() == digest:
                    self._store(rel, data, digest)
                    return
        raise StateFailed(f"salt://{rel}: the file kept changing on the master while it was fetched")

    def _store(self, rel: str, data: bytes, digest: str) -> None:
        target = safe_join(self.root, rel)
        os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
        if os.path.islink(target) or os.path.isdir(target):
            raise StateFailed(f"salt://{rel}: the cache holds something else at that path")
        write_atomic(target, data, sync=False)  # a cache: the index check catches a torn write
        st = os.stat(target)
        self._index[rel] = {"sha256": digest, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
        self._index_changed = True
        self.fetched.append(rel)

    def _remove_stale(self, present: set[str]) -> None:
        for rel in [p for p in self._index if p not in present]:
            try:
                os.unlink(safe_join(self.root, rel))
            except (OSError, UnsafePathError):
                pass
            del self._index[rel]
            self._index_changed = True

    def _load_index(self) -> dict[str, dict[str, Any]]:
        try:
            with open(self._index_path, encoding="utf-8") as fh:
                data = json.load(fh)
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _save_index(self) -> None:
        write_atomic(self._index_path, json.dumps(self._index), mode=0o600, sync=False)
        self._index_changed = False


def _batches(paths: list[str], listing: dict[str, dict[str, Any]]) -> list[list[str]]:
    """Group paths so each batch carries at most BATCH_BYTES of data and BATCH_FILES files."""
    batches: list[list[str]] = []
    current: list[str] = []
    size = 0
    for path in paths:
        n = int(listing[path].get("size", 0))
        if current and (size + n > BATCH_BYTES or len(current) >= BATCH_FILES):
            batches.append(current)
            current, size = [], 0
        current.append(path)
        size += n
    if current:
        batches.append(current)
    return batches
