"""minion.adopt_id: this minion takes over another id (the last step of `lpmaster rebuild`).

    lpmaster rebuild web1 --onto fresh1      (runs `minion.adopt_id web1` on fresh1)

Rewrites the config file the daemon runs from (`lpminion start` records it in
$LPMINION_CONFIG; ROOT/minion.yaml otherwise) with the new id and without the `scratch` grain, then the daemon
restarts itself once the return is delivered (minion/daemon.py), registering under the new
id with its own key, which the master has by then accepted under that id.
"""
from __future__ import annotations

import os
from typing import Any

from core.errors import ConfigError, StateArgError

CONFIG_NAME = "minion.yaml"


def adopt_id(ctx: Any, new_id: Any, grains: Any = None) -> dict[str, Any]:
    """Write the new id (and `grains`, custom grains to add, e.g. the lost host's roles) into
    this minion's config; the daemon restarts under it after returning."""
    import yaml

    from core.wire import MINION_ID_RE
    from minion.providers.atomic import write_atomic

    if not isinstance(new_id, str) or not MINION_ID_RE.match(new_id):
        raise StateArgError(f"minion.adopt_id: {str(new_id)[:80]!r} is not a minion id")
    if grains is not None and (not isinstance(grains, dict) or not all(isinstance(k, str) for k in grains)):
        raise StateArgError("minion.adopt_id: grains must be a map")
    from core.cli import config_env_var

    path = os.environ.get(config_env_var("minion")) or os.path.join(ctx.config.root, CONFIG_NAME)
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    if not isinstance(data, dict) or data.get("id") != ctx.config.id:
        raise ConfigError(f"{path} is not the config this minion ({ctx.config.id}) runs from")
    old = data["id"]
    data["id"] = new_id
    own = data.get("grains") if isinstance(data.get("grains"), dict) else {}
    own = {**(grains or {}), **own}
    own.pop("scratch", None)
    own.pop("id", None)
    data["grains"] = own
    mode = os.stat(path).st_mode & 0o777
    write_atomic(path, yaml.safe_dump(data, sort_keys=False, default_flow_style=False), mode, sync_dir=True)
    return {"id": new_id, "was": old, "config": path, "restarting": True}
