"""`state.apply` / `state.highstate` on a minion, from the master's tree and pillar.

    outcome = apply_remote(request, "web1", grains, cachedir, sls=["web"], test=False)
    outcome.ret        Salt's state return {tag: {...}}, or a list of errors when nothing ran
    outcome.success    no state failed and the plan compiled
    outcome.retcode    0 ok, 1 the pillar or the tree did not compile (nothing ran), 2 a state failed

`prepare_remote` does the first half (pillar, tree, compile) for callers that run the
plan themselves, e.g. the drift check in test mode.

Order, as SECURITY.md rule 9 wants it: pillar (own, over the authenticated channel), then
the tree's template files synced into the cache, then the compile; any error there
aborts before a single state runs. Every secret value the master listed with the pillar
is masked (diffs that would show one are replaced whole) BEFORE the return leaves here.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from core.errors import LinkpeekError, RunLockedError, TransportError

log = logging.getLogger("lp.minion.state")

Request = Callable[[dict[str, Any]], dict[str, Any]]

RETCODE_OK = 0
RETCODE_NOT_COMPILED = 1
RETCODE_STATE_FAILED = 2
LOCK_WAIT_S = 60.0  # an apply waits this long for a drift check or another apply to finish


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
        with state_run_lock(cachedir, f"state.apply{' (test)' if test else ''}", wait=LOCK_WAIT_S):
            return _apply_locked(request, minion_id, dict(grains), cachedir, sls, test,
                                 dict(opts or {}), masker)
    except RunLockedError as exc:
        return ApplyOutcome([str(exc)], False, RETCODE_NOT_COMPILED)


@dataclass
class PreparedRun:
    """A compiled remote run, not yet executed (drift checks run it in test mode)."""
    plan: Any                 # minion.state.compiler.Plan
    pillar: dict[str, Any]
    masker: Any               # core.masking.Masker with this minion's secrets
    ctx_for: Callable[[bool], Any]  # test flag -> ExecContext
    reading: Callable[[], Any]      # a context in which templates read the master's mine

    def run(self, chunks: Sequence[Any] | None = None, test: bool = False,
            failhard: bool = False) -> dict[str, Any]:
        """Run the plan (or these chunks); Salt's state return, masked."""
        from minion.state.runner import run_plan

        with self.reading():
            results = run_plan(self.plan.chunks if chunks is None else chunks, self.ctx_for(test),
                               failhard=failhard)
        return self.masker.mask_state_return(results)


def prepare_remote(request: Request, minion_id: str, grains: Mapping[str, Any], cachedir: str,
                   sls: Sequence[str] | None = None, opts: Mapping[str, Any] | None = None,
                   masker: Any = None) -> PreparedRun:
    """Fetch this minion's pillar, sync the tree, compile. Raises LinkpeekError (RenderError,
    CompileError, PillarError when the master could not give a pillar, TransportError when
    it did not answer); nothing runs."""
    from core.masking import Masker
    from minion.local import make_context
    from minion.state.compiler import compile_plan
    from minion.state.remote_fileclient import RemoteFileClient
    from minion.state.tree import StateTree

    masker = masker if masker is not None else Masker()
    reply = _request(request, {"type": "pillar"})
    if "error" in reply or not isinstance(reply.get("pillar"), dict):
        error = reply.get("error", "the master sent no pillar")
        raise PillarError(f"Pillar failed to render: {error}")
    pillar: dict[str, Any] = reply["pillar"]
    secrets = [s for s in reply.get("secrets", []) if isinstance(s, str)]
    masker.add(secrets)
    _log_masker().add(secrets)

    from minion import mine

    files = RemoteFileClient(request, cachedir)
    grains = dict(grains)
    if isinstance(reply.get("as_minion"), dict):  # a drill's job: this host renders as SOURCE
        minion_id, grains = rendering_as(reply["as_minion"], minion_id, grains)
    run_opts = {"id": minion_id, "cachedir": cachedir, **dict(opts or {})}
    if isinstance(reply.get("nodegroups"), dict):  # N@ in top.sls: the master's nodegroups
        run_opts["nodegroups"] = reply["nodegroups"]
    root = files.sync_tree()
    with mine.reading(request):
        plan = compile_plan(StateTree(root, listing=files.master_files, label="the master's state tree"), minion_id, grains, pillar, sls,
                        run_opts)
    return PreparedRun(plan, pillar, masker,
                       lambda test: make_context(root, minion_id, grains, pillar, run_opts, test,
                                                 files=files, mask=masker.mask_for_users),
                       lambda: mine.reading(request))


def rendering_as(source: Mapping[str, Any], minion_id: str, grains: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The id and grains a drill's job compiles with: SOURCE's id, this host's own grains (its
    addresses, OS, init), and SOURCE's grains this host lacks (custom ones such as `roles`),
    without the scratch mark. A malformed `as_minion` leaves this minion as it is."""
    from core.wire import MINION_ID_RE

    sid, sgrains = source.get("id"), source.get("grains")
    if not isinstance(sid, str) or not MINION_ID_RE.match(sid) or not isinstance(sgrains, dict):
        return minion_id, grains
    merged = {**sgrains, **grains, "id": sid}
    merged.pop("scratch", None)
    return sid, merged


_LOG_MASKING: list[Any] = []  # logging is process-wide, so is the masker its filter uses


def _log_masker() -> Any:
    """The minion process's log masker, installed on the root handlers at first use."""
    from core.masking import Masker, install_log_masking

    if not _LOG_MASKING:
        masker = Masker()
        install_log_masking(masker)
        _LOG_MASKING.append(masker)
    return _LOG_MASKING[0]


class PillarError(LinkpeekError):
    """The master could not give this minion its pillar (render or secret error, no answer)."""


def _apply_locked(request: Request, minion_id: str, grains: dict[str, Any], cachedir: str,
                  sls: Sequence[str] | None, test: bool, opts: dict[str, Any],
                  masker: Any) -> ApplyOutcome:
    try:
        prepared = prepare_remote(request, minion_id, grains, cachedir, sls, opts, masker)
    except LinkpeekError as exc:
        return _not_compiled(masker, str(exc))
    results = prepared.run(test=test, failhard=bool(opts.get("failhard")))
    if not test:  # drift: remember what was applied, tell the master it converged (issue 6)
        from minion.drift_remote import after_apply
        try:
            after_apply(request, cachedir, prepared, results, highstate=not sls, minion_id=minion_id)
        except Exception:  # bookkeeping only: the states ran, their return must not be lost
            log.exception("recording the apply for drift reports failed")
    failed = any(r.get("result") is False for r in results.values())
    return ApplyOutcome(results, not failed, RETCODE_STATE_FAILED if failed else RETCODE_OK)


def _request(request: Request, message: dict[str, Any]) -> dict[str, Any]:
    """The reply, an error reply for a refusal; TransportError (no answer) is raised, so a
    drift check that could not reach the master makes no report (an apply still says why)."""
    try:
        reply = request(message)
    except TransportError:
        raise
    except LinkpeekError as exc:
        return {"error": f"the master did not answer: {exc}"}
    return reply if isinstance(reply, dict) else {"error": "malformed reply from the master"}


def _not_compiled(masker: Any, message: str) -> ApplyOutcome:
    """Nothing ran: Salt returns a list of error strings in this case."""
    return ApplyOutcome([masker.mask(line) for line in message.splitlines() or [message]],
                        False, RETCODE_NOT_COMPILED)


# What an apply imports on its way (pillar, mine, file client, compile, run, drift report),
# beyond what warm_up's own calls load; tests/remote/test_warm_up.py keeps this complete.
WARM_MODULES = (
    "core.masking", "core.mine", "core.top", "core.targeting", "core.hostlookups", "core.stateoutput",
    "minion.mine", "minion.local", "minion.grains", "minion.functions.network",
    "minion.functions.context", "minion.functions.state", "minion.state.fileclient",
    "minion.state.remote_fileclient", "minion.state.lock", "minion.state.saltorder",
    "minion.state.compiler", "minion.state.runner", "minion.drift_remote",
)


def warm_up() -> None:
    """Import the state machinery and build the Jinja environment ahead of the first apply.

    The daemon calls this once, in a worker thread, after it connects: the first
    `lpmaster apply` then costs what later ones cost (about 4 MB more RSS per minion, which
    the converge on boot would pay anyway).
    """
    import importlib

    try:
        from core.render import render_sls_located
        from minion import functions
        from minion.states import lookup

        for name in WARM_MODULES:
            importlib.import_module(name)
        functions.lookup("state.apply")
        lookup("file", "managed")
        render_sls_located("warm-up:\n  test.nop:\n    - name: {{ 'up' }}\n", "warm-up", {}, None)
    except Exception:  # an optimisation only: never let it disturb the daemon
        log.debug("state machinery warm-up failed", exc_info=True)
