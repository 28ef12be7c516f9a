"""The inputs of a masterless compile: grains from a file (or this host's), local pillar.

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
    """Grains from a YAML/JSON file (a mapping), else this host's (minion.grains, what
    `apply --local` and the daemon use); `id` is always `minion_id`."""
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
    from minion.grains import collect

    return collect(minion_id)


def load_pillar(pillar_tree: str | None, minion_id: str, grains: dict[str, Any],
                opts: dict[str, Any] | None = None) -> dict[str, Any]:
    """The local pillar (compiled from `pillar_tree`), or {} when no tree is given."""
    if not pillar_tree:
        return {}
    from core.pillar import compile_pillar
    return compile_pillar(pillar_tree, minion_id, grains, opts=opts)
