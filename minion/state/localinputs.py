"""The inputs of a masterless compile: grains from a file (or a minimal set), local pillar.

Shared by `lpminion show` and `lpminion apply --local`.
"""
from __future__ import annotations

import os
from typing import Any

from core.errors import ConfigError

DEFAULT_STATE_TREE = "states"


def default_minion_id() -> str:
    return os.uname().nodename


def load_grains(path: str | None, minion_id: str) -> dict[str, Any]:
    """Grains from a YAML/JSON file (a mapping), else a minimal set; `id` is always `minion_id`."""
    if path:
        from core.errors import RenderError
        from core.yamlload import load_yaml
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            raise ConfigError(f"cannot read grains file {path}: {exc.strerror}") from None
        try:
            data = load_yaml(text, path) or {}
        except RenderError as exc:
            raise ConfigError(f"grains file: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"grains file {path} must hold a mapping")
        return {**data, "id": minion_id}
    return {**minimal_grains(), "id": minion_id}


def minimal_grains() -> dict[str, Any]:
    """A few grains read without running anything: kernel, os, os_family, osrelease, host."""
    uname = os.uname()
    grains: dict[str, Any] = {"kernel": uname.sysname, "host": uname.nodename.split(".")[0],
                              "nodename": uname.nodename, "cpuarch": uname.machine}
    release = _os_release()
    if release:
        name = release.get("ID", "")
        grains["os"] = {"debian": "Debian", "ubuntu": "Ubuntu"}.get(name, name.capitalize())
        like = release.get("ID_LIKE", name).split()[0] if release.get("ID_LIKE") or name else ""
        debian_like = "debian" in (name, like) or like == "ubuntu"
        grains["os_family"] = "Debian" if debian_like else like.capitalize()
        grains["osrelease"] = release.get("VERSION_ID", "")
        grains["oscodename"] = release.get("VERSION_CODENAME", "")
    return grains


def _os_release() -> dict[str, str]:
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        if os.path.exists(path):
            out: dict[str, str] = {}
            with open(path, encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    key, sep, value = line.strip().partition("=")
                    if sep:
                        out[key] = value.strip().strip('"')
            return out
    return {}


def load_pillar(pillar_tree: str | None, minion_id: str, grains: dict[str, Any],
                opts: dict[str, Any] | None = None) -> dict[str, Any]:
    """The local pillar (compiled from `pillar_tree`), or {} when no tree is given."""
    if not pillar_tree:
        return {}
    from core.pillar import compile_pillar
    return compile_pillar(pillar_tree, minion_id, grains, opts=opts)
