"""Run state functions inside a test host through the contract (parse, check, apply/watch).

A stand-in for `lpminion apply --local` while it is being built: reads JSON from stdin
  {"test": false, "file_root": "/srv/salt",
   "states": [{"state": "pkg", "fun": "installed", "name": "hello", "args": {}, "watch": false}]}
and prints one JSON list of {"result", "changes", "comment"} (Salt's result, as the runner
makes it: True / None in test mode with pending changes / False with the failure comment).
A state with "watch": true has its watch() called after it converged (a watched state changed).
"""
from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

from minion.state.contract import ExecContext, StateFailed
from minion.states import lookup


class LocalFiles:
    """salt://path -> file_root/path (a test stand-in for the master's file server)."""

    def __init__(self, root: str) -> None:
        self.root = root

    def cache_file(self, url: str) -> str:
        rel = url.removeprefix("salt://")
        path = os.path.join(self.root, rel)
        if not os.path.isfile(path):
            raise StateFailed(f"{url} does not exist on the file server")
        return path

    def list_dir(self, url: str) -> list[str]:
        base = os.path.join(self.root, url.removeprefix("salt://"))
        return sorted(os.path.relpath(os.path.join(d, f), base)
                      for d, _, files in os.walk(base) for f in files)


def run_one(ctx: ExecContext, item: dict[str, Any], test: bool) -> dict[str, Any]:
    try:
        function = lookup(item["state"], item["fun"])
        spec = function.parse(item["name"], item.get("args", {}))
        pending = function.check(ctx, spec)
        if not pending.changes:
            changes: dict[str, Any] = {}
            if item.get("watch") and not test:
                changes = function.watch(ctx, spec)
            return {"result": True, "changes": changes, "comment": pending.comment}
        if test:
            return {"result": None, "changes": pending.changes, "comment": pending.comment}
        changes = function.apply(ctx, spec, pending)
        if item.get("watch"):
            changes = {**changes, **function.watch(ctx, spec)}
        return {"result": True, "changes": changes, "comment": pending.comment}
    except StateFailed as exc:
        return {"result": False, "changes": exc.changes, "comment": exc.comment}
    except Exception as exc:  # the runner turns anything else into a failed state too
        return {"result": False, "changes": {}, "comment": f"{type(exc).__name__}: {exc}"}


def main() -> None:
    request = json.load(sys.stdin)
    ctx = ExecContext(grains=request.get("grains", {}), pillar={},
                      files=LocalFiles(request.get("file_root", "/srv/salt")),
                      log=logging.getLogger("driver"), test=bool(request.get("test")),
                      opts=request.get("opts", {}))
    results = [run_one(ctx, item, bool(request.get("test"))) for item in request["states"]]
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
