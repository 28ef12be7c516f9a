"""saltutil.*: Salt's housekeeping functions, as far as they mean something here.

    lpmaster run '*' saltutil.refresh_pillar      True once this minion's pillar compiles on the master
    lpmaster run '*' saltutil.sync_all            nothing to sync (says so)

Every job fetches the pillar and the state tree fresh from the master; refresh_pillar checks
the master can compile this minion's pillar now, and then (as in Salt) the daemon re-reads the
pillar's `schedule:` (and backup jobs), so a changed schedule applies at once.
"""
from __future__ import annotations

from typing import Any

from minion.functions import FunctionResult

SYNC_KINDS = ("tops", "clouds", "beacons", "modules", "states", "sdb", "grains", "renderers", "returners",
              "output", "utils", "log_handlers", "executors", "proxymodules", "engines", "thorium",
              "serializers", "matchers", "resources", "pillar", "wrapper")  # Salt 3008's sync_all keys


def refresh_pillar(ctx: Any) -> FunctionResult:
    """Ask the master for this minion's pillar now: True when it compiles (the minion's
    pillar schedule is then re-read), else the error."""
    from core.errors import LinkpeekError
    from minion.functions.pillar import fetch

    try:
        fetch(ctx)
    except LinkpeekError as exc:
        return FunctionResult(f"Error: {exc}", success=False, retcode=1)
    return FunctionResult(True)


def sync_all(ctx: Any, refresh: bool = True, saltenv: str | None = None) -> dict[str, Any]:
    """Salt's sync_all shape, every list empty: modules, states and grains are built into
    linkpeek-ops (no custom `_modules` are synced), and state trees are fetched at each run."""
    ret: dict[str, Any] = {kind: [] for kind in SYNC_KINDS}
    ret["comment"] = ("nothing to sync: execution and state modules are built in (custom _modules, "
                      "_states and _grains are not supported); the state tree and pillar are fetched "
                      "from the master at every run")
    return ret
