"""`state.apply` / `state.highstate` on a minion, from the master's tree and pillar.

    outcome = apply_remote(request, "web1", grains, cachedir, sls=["web"], test=False)
    outcome.ret        Salt's state return {tag: {...}}, or a list of errors when nothing ran
    outcome.success    no state failed and the plan compiled
    outcome.retcode    0 ok, 1 the pillar or the tree did not compile (nothing ran), 2 a state failed

Order, as SECURITY.md rule 9 wants it: pillar (own, over the authenticated channel), then
the tree's template files synced into the cache, then the compile; any error there
aborts before a single state runs. Every secret value the master listed with the pillar
is masked (diffs that would show one are replaced whole) BEFORE the return leaves here.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from core.errors import LinkpeekError, RunLockedError

log = logging.getLogger("lp.minion.state")

Request = Callable[[dict[str, Any]], dict[str, Any]]

RETCODE_OK = 0
RETCODE_NOT_COMPILED = 1
RETCODE_STATE_FAILED = 2


@dataclass(frozen=True)
class ApplyOutcome:
    """What a remote state run returns to the master (already masked)."""
    ret: Any
    success: bool
    retcode: int


def apply_remote(request: Request, minion_id: str, grains: Mapping[str, Any], cachedir: str,
                 sls: Sequence[str] | None = None, test: bool = False,
                 opts: Mapping[str, Any] | None = None) -> ApplyOutcome:
    """Fetch pillar and tree from the master, compile, run; return the masked outcome."""
    from core.masking import Masker
    from minion.state.lock import state_run_lock

    masker = Masker()
    try:
        with state_run_lock(cachedir, f"state.apply{' (test)' if test else ''}"):
            return _apply_locked(request, minion_id, dict(grains), cachedir, sls, test,
                                 dict(opts or {}), masker)
    except RunLockedError as exc:
        return ApplyOutcome([str(exc)], False, RETCODE_NOT_COMPILED)


def _apply_locked(request: Request, minion_id: str, grains: dict[str, Any], cachedir: str,
                  sls: Sequence[str] | None, test: bool, opts: dict[str, Any],
                  masker: Any) -> ApplyOutcome:
    from minion.state.remote_fileclient import RemoteFileClient

    reply = _request(request, {"type": "pillar"})
    if "error" in reply or not isinstance(reply.get("pillar"), dict):
        error = reply.get("error", "the master sent no pillar")
        return _not_compiled(masker, f"Pillar failed to render: {error}")
    pillar: dict[str, Any] = reply["pillar"]
    masker.add(s for s in reply.get("secrets", []) if isinstance(s, str))

    files = RemoteFileClient(request, cachedir)
    opts = {"id": minion_id, "cachedir": cachedir, **opts}
    try:
        root = files.sync_tree()
        plan = _compile(root, minion_id, grains, pillar, sls, opts)
    except LinkpeekError as exc:
        return _not_compiled(masker, str(exc))

    ctx = _context(minion_id, grains, pillar, files, root, test, opts, masker)
    from minion.state.runner import run_plan

    results = run_plan(plan.chunks, ctx)
    results = masker.mask_state_return(results)
    failed = any(r.get("result") is False for r in results.values())
    return ApplyOutcome(results, not failed, RETCODE_STATE_FAILED if failed else RETCODE_OK)


def _request(request: Request, message: dict[str, Any]) -> dict[str, Any]:
    try:
        reply = request(message)
    except LinkpeekError as exc:
        return {"error": f"the master did not answer: {exc}"}
    return reply if isinstance(reply, dict) else {"error": "malformed reply from the master"}


def _compile(root: str, minion_id: str, grains: dict[str, Any], pillar: dict[str, Any],
             sls: Sequence[str] | None, opts: dict[str, Any]) -> Any:
    from minion.state.compiler import compile_highstate, compile_sls
    from minion.state.tree import StateTree

    tree = StateTree(root)
    if sls:
        return compile_sls(tree, list(sls), grains, pillar, opts)
    return compile_highstate(tree, minion_id, grains, pillar, opts)


def _context(minion_id: str, grains: dict[str, Any], pillar: dict[str, Any], files: Any,
             root: str, test: bool, opts: dict[str, Any], masker: Any) -> Any:
    from core.render import render_template
    from core.templatecontext import sls_context
    from minion.state.contract import ExecContext

    def render(text: str, context: dict[str, Any], source: str) -> str:
        variables = sls_context(minion_id, grains, pillar, opts, "")
        variables.update(context or {})
        return render_template(text, source, variables, tree_root=root)

    return ExecContext(grains=grains, pillar=pillar, files=files, log=log, test=test,
                       render=render, mask=masker.mask_for_users, opts=opts)


def _not_compiled(masker: Any, message: str) -> ApplyOutcome:
    """Nothing ran: Salt returns a list of error strings in this case."""
    return ApplyOutcome([masker.mask(line) for line in message.splitlines() or [message]],
                        False, RETCODE_NOT_COMPILED)
