"""pkgrepo.managed / pkgrepo.absent: an apt source (one-line or deb822) and its signing key.

    linkpeek-apt:
      pkgrepo.managed:
        - name: deb [signed-by=/etc/apt/keyrings/linkpeek.asc] https://apt.example.com bookworm main
        - file: /etc/apt/sources.list.d/linkpeek.list
        - key_url: salt://apt/linkpeek.asc
        - refresh: True
    linkpeek-apt-822:
      pkgrepo.managed:
        - uris: https://apt.example.com
        - suites: bookworm
        - components: main
        - file: /etc/apt/sources.list.d/linkpeek.sources
        - key_url: salt://apt/linkpeek.asc
        - signed_by: /etc/apt/keyrings/linkpeek.asc

The key is fetched from `key_url` (salt:// or a local path) into the `signed-by` path, never
into apt's global trusted keyring. Both files are replaced atomically. Changes: `source` and
`key` (sha256 prefixes of old and new key).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import StateArgError
from minion.providers import apt
from minion.providers.atomic import write_atomic
from minion.state.contract import ExecContext, Pending, StateFailed
from minion.states.specargs import as_bool, check_known, one_line

SOURCES_DIR = "/etc/apt/sources.list.d/"
SIGNED_BY = re.compile(r"signed-by=([^\s\]]+)")
WORD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/~+@%=-]*$")


@dataclass(frozen=True)
class RepoSpec:
    file: str
    text: str  # the source file's full content
    key_url: str | None
    signed_by: str | None
    refresh: bool


def _words(args: Mapping[str, Any], key: str, default: list[str] | None = None) -> list[str]:
    raw = args.get(key, default)
    if raw is None:
        raise StateArgError(f"{key} is required for a deb822 source")
    items = raw.split() if isinstance(raw, str) else list(raw)
    if not items or not all(isinstance(i, str) and WORD.match(i) for i in items):
        raise StateArgError(f"{key} must be one or more plain words")
    return items


class Managed:
    """pkgrepo.managed."""

    def parse(self, name: str, args: Mapping[str, Any]) -> RepoSpec:
        allowed = {
            "file",
            "key_url",
            "signed_by",
            "refresh",
            "types",
            "uris",
            "suites",
            "components",
        }
        check_known("pkgrepo.managed", args, allowed)
        file = args.get("file")
        if (
            not isinstance(file, str)
            or not file.startswith(SOURCES_DIR)
            or ".." in file
            or not file.endswith((".list", ".sources"))
        ):
            raise StateArgError(f"file must be a .list or .sources file in {SOURCES_DIR}")
        line = one_line("name", name)
        signed_by = args.get("signed_by")
        if line.startswith(("deb ", "deb-src ")):
            if not file.endswith(".list"):
                raise StateArgError("a one-line source goes in a .list file")
            found = SIGNED_BY.search(line)
            if found:
                signed_by = signed_by or found.group(1)
            elif signed_by:
                kind, rest = line.split(" ", 1)
                line = f"{kind} [signed-by={signed_by}] {rest}"
            text = line + "\n"
        else:
            if not file.endswith(".sources"):
                raise StateArgError(
                    "a deb822 source (uris/suites/components) goes in a .sources "
                    "file; or give a one-line `deb ...` name"
                )
            fields = [
                ("Types", _words(args, "types", ["deb"])),
                ("URIs", _words(args, "uris")),
                ("Suites", _words(args, "suites")),
                ("Components", _words(args, "components", []) or []),
            ]
            text = "".join(f"{k}: {' '.join(v)}\n" for k, v in fields if v)
            if signed_by:
                text += f"Signed-By: {signed_by}\n"
        key_url = args.get("key_url")
        if key_url is not None and not signed_by:
            raise StateArgError(
                "key_url needs a signed-by path (signed_by:, or [signed-by=...] "
                "in the line) so the key is trusted for this source only"
            )
        if signed_by is not None and (not str(signed_by).startswith("/") or ".." in str(signed_by)):
            raise StateArgError("signed_by must be an absolute path (e.g. /etc/apt/keyrings/x.asc)")
        refresh = as_bool("pkgrepo.managed", "refresh", args.get("refresh"))
        return RepoSpec(
            file,
            text,
            None if key_url is None else str(key_url),
            None if signed_by is None else str(signed_by),
            refresh,
        )

    def check(self, ctx: ExecContext, spec: RepoSpec) -> Pending:
        changes: dict[str, Any] = {}
        facts: dict[str, Any] = {}
        if spec.key_url:
            source = ctx.files.cache_file(spec.key_url)
            with open(source, "rb") as fh:
                key = fh.read()
            if not key.strip():
                raise StateFailed(f"{spec.key_url} is empty: it should hold the repository's key")
            old = _digest_of(spec.signed_by or "")
            new = hashlib.sha256(key).hexdigest()[:16]
            if old != new:
                changes["key"] = {"old": old, "new": new}
                facts["key"] = key
        current = _read(spec.file)
        if current != spec.text:
            changes["source"] = {"old": current or "", "new": spec.text}
        if not changes:
            return Pending(comment=f"{spec.file} is up to date")
        return Pending(changes=changes, facts=facts)

    def apply(self, ctx: ExecContext, spec: RepoSpec, pending: Pending) -> dict[str, Any]:
        if "key" in pending.facts and spec.signed_by:
            os.makedirs(os.path.dirname(spec.signed_by), mode=0o755, exist_ok=True)
            write_atomic(spec.signed_by, pending.facts["key"], mode=0o644)
        if "source" in pending.changes:
            os.makedirs(os.path.dirname(spec.file), exist_ok=True)
            write_atomic(spec.file, spec.text, mode=0o644)
        if spec.refresh:
            apt.refresh()
        return dict(pending.changes)


class Absent:
    """pkgrepo.absent: the source file is gone (its key file is left: others may share it)."""

    def parse(self, name: str, args: Mapping[str, Any]) -> str:
        check_known("pkgrepo.absent", args, ("file",))
        file = args.get("file")
        if not isinstance(file, str) or not file.startswith(SOURCES_DIR) or ".." in file:
            raise StateArgError(f"pkgrepo.absent takes file: (a file in {SOURCES_DIR})")
        return file

    def check(self, ctx: ExecContext, spec: str) -> Pending:
        current = _read(spec)
        if current is None:
            return Pending(comment=f"{spec} is absent")
        return Pending(changes={"source": {"old": current, "new": ""}})

    def apply(self, ctx: ExecContext, spec: str, pending: Pending) -> dict[str, Any]:
        os.unlink(spec)
        return dict(pending.changes)


def _read(path: str) -> str | None:
    try:
        with open(path) as fh:
            return fh.read()
    except FileNotFoundError:
        return None


def _digest_of(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()[:16]
    except FileNotFoundError:
        return None


FUNCTIONS = {"managed": Managed(), "absent": Absent()}
