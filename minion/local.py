"""Masterless runs: compile a local state tree and converge this host (`apply --local`).

    results, code = apply_local("states", "pillar", {"roles": ["web"]}, "web1", sls=[], test=False,
                                cachedir="/var/cache/lpminion")
    code: 0 every state succeeded, 1 some state failed, 2 the tree or pillar did not compile
          (then `results` is Salt's list of error strings and nothing ran).

Order (SECURITY.md rule 9): grains, pillar, compile; any render or compile error returns before
the lock is taken and before a single state touches the host. The run itself holds the host's
state-run lock (minion.state.lock).
"""

from __future__ import annotations

import logging
import os
from typing import Any, Mapping, Sequence

from core.errors import CompileError, ConfigError, RenderError, StateArgError

log = logging.getLogger("lp.minion.state")  # the state run's logger, local or remote

EXIT_OK = 0
EXIT_STATE_FAILED = 1
EXIT_NOT_COMPILED = 2


def default_cachedir() -> str:
    """/var/cache/lpminion for root, ~/.cache/lpminion otherwise."""
    if os.geteuid() == 0:
        return "/var/cache/lpminion"
    return os.path.join(os.path.expanduser("~"), ".cache", "lpminion")


def make_context(
    state_tree: str,
    minion_id: str,
    grains: Mapping[str, Any],
    pillar: Mapping[str, Any],
    opts: Mapping[str, Any],
    test: bool,
    files: Any = None,
    mask: Any = None,
) -> Any:
    """The ExecContext of a run (local or, with the remote client as `files`, from the master):
    the file client (default: the local tree's), one template context built once, the masker."""
    from core.render import render_template, sls_context
    from minion.state.contract import ExecContext
    from minion.state.fileclient import LocalFileClient

    from minion.state.tree import StateTree

    root = os.path.realpath(state_tree)
    file_list = getattr(files, "master_files", None) or StateTree(root).list_files
    base = sls_context(minion_id, grains, pillar, opts, "", file_list=file_list)

    def render(text: str, context: dict[str, Any], source: str) -> str:
        extra = {"source": source} if source.startswith("salt://") else {}  # as Salt gives it
        return render_template(text, source, {**base, **extra, **(context or {})}, tree_root=root)

    ctx = ExecContext(
        grains=grains,
        pillar=pillar,
        files=files or LocalFileClient(root),
        log=log,
        test=test,
        render=render,
        opts=opts,
    )
    if mask is not None:
        ctx.mask = mask
    return ctx


def apply_local(
    state_tree: str,
    pillar_tree: str | None,
    grains: Mapping[str, Any] | str | None,
    minion_id: str | None,
    sls: Sequence[str] | None,
    test: bool,
    cachedir: str | None,
    *,
    failhard: bool = False,
    opts: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any] | list[str], int]:
    """Compile `state_tree` (highstate from top.sls, or the named `sls`) and run it on this host.

    `grains`: a mapping, a path to a YAML grains file (as `lpminion show --grains` reads it), or
    None for this host's grains (minion.grains.collect). Returns (Salt's state return, exit code);
    when the tree or pillar
    does not compile: (list of error strings, 2) and nothing ran. Raises RunLockedError when
    another state run holds the lock.
    """
    from minion.state.compiler import compile_plan
    from minion.state.lock import state_run_lock
    from minion.state.runner import run_plan
    from minion.state.tree import StateTree

    if not os.path.isdir(state_tree):
        raise ConfigError(f"the state tree {state_tree} is not a directory")
    from minion.state.localinputs import default_minion_id, load_grains, load_pillar

    if isinstance(grains, Mapping):
        mid = minion_id or str(grains.get("id") or "") or default_minion_id()
        all_grains = {**dict(grains), "id": mid}
    else:  # a grains file, or None: this host's
        mid = minion_id or default_minion_id()
        all_grains = load_grains(grains, mid)
    options = {
        "id": mid,
        "cachedir": cachedir or default_cachedir(),
        "test": test,
        "failhard": failhard,
        **dict(opts or {}),
    }
    from core import rendercache

    with rendercache.using(str(options["cachedir"])):  # renders only: every check reads the host
        try:
            pillar = load_pillar(pillar_tree, mid, all_grains, options)
            plan = compile_plan(StateTree(state_tree), mid, all_grains, pillar, sls, options)
        except CompileError as exc:
            return list(exc.errors), EXIT_NOT_COMPILED
        except (RenderError, StateArgError) as exc:
            return [str(exc)], EXIT_NOT_COMPILED
        ctx = make_context(state_tree, mid, all_grains, pillar, options, test)
        what = f"apply --local{' --test' if test else ''} {' '.join(sls or ['(highstate)'])}"
        with state_run_lock(str(options["cachedir"]), what):
            results = run_plan(plan.chunks, ctx, failhard=bool(failhard or options.get("failhard")))
    failed = any(r["result"] is False for r in results.values())
    return results, EXIT_STATE_FAILED if failed else EXIT_OK
