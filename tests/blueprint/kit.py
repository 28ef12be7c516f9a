"""The LinkPeek blueprint as tests use it: the repository's states/ and a copy of its pillar/
whose ENC[...] tokens are replaced by tokens of a test master's key (as pillar/README.md
tells a user to do with their own key), plus grains for each role."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from core import secrets

REPO = Path(__file__).resolve().parents[2]
STATES = REPO / "states"
PILLAR = REPO / "pillar"
WHEELHOUSE = STATES / "linkpeek" / "wheelhouse"

ROLE_HOSTS: dict[str, dict[str, Any]] = {  # minion id -> custom grains
    "dev1": {"roles": ["web", "db"]},
    "web1": {"roles": ["web"]},
    "db1": {"roles": ["db"]},
}


def _walk(node: Any, path: tuple[str, ...], out: dict[str, str]) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            _walk(value, (*path, str(key)), out)
    elif secrets.is_token(node):
        out[":".join(path)] = node


def secret_paths(text: str) -> dict[str, str]:
    """{pillar path: token} of every ENC[...] in one pillar file."""
    found: dict[str, str] = {}
    _walk(yaml.safe_load(text) or {}, (), found)
    return found


def write_pillar(dest: str | os.PathLike[str], public_key: bytes,
                 values: Mapping[str, str] | None = None,
                 extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Copy pillar/ to `dest` with every token re-made for `public_key`. A secret's value is
    `values[path]`, else `test-<path>`. `extra` adds files ({relpath: text}). Returns
    {pillar path: value} of the secrets written."""
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(PILLAR, dest, ignore=shutil.ignore_patterns("README.md"))
    written: dict[str, str] = {}
    for path in sorted(dest.rglob("*.sls")):
        text = path.read_text()
        if "ENC[" not in text:
            continue
        for pillar_path, token in secret_paths(text).items():
            value = (values or {}).get(pillar_path, f"test-{pillar_path.replace(':', '-')}")
            text = text.replace(token, secrets.encrypt(public_key, pillar_path, value.encode()))
            written[pillar_path] = value
        path.write_text(text)
    for rel, text in (extra or {}).items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return written
