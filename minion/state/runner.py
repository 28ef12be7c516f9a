"""The state runner: executes a compiled plan and returns Salt's state return shape.

    results = run_plan(plan.chunks, ctx)          # ctx.test=True runs `check` only
    results["file_|-motd_|-/etc/motd_|-managed"]
    {'name': '/etc/motd', 'result': True, 'changes': {...}, 'comment': '...',
     'duration': 1.2, 'start_time': '06:10:01.123456', '__run_num__': 0,
     '__sls__': 'base', '__id__': 'motd'}

Requisites (Salt's semantics):
  require / watch    the dependent fails ("One or more requisite failed: ...") when a target
                     failed, transitively; `_any` forms fail only when every target failed.
  watch              after the state ran without changes, a watched target that changed calls
                     the module's `watch` (Salt's mod_watch), e.g. a restart.
  onchanges          runs only when a target changed; otherwise skipped with result True.
  onfail             runs only when a target failed (any; `onfail_all`: every one).
  prereq             A prereq B: before B runs, B is checked read-only; A runs only when B
                     would change, and B does not run when A failed.
  listen             like watch, but the watch action runs once at the end of the run, as its
                     own `<state>_|-listener_<id>_|-<name>_|-mod_watch` entry.
  use                compile time only.
failhard stops the run at the first failure of a failhard state; later states are absent.
Every state takes onlyif / unless / creates and retry (minion.state.universal); compile
warnings (unknown arguments) are the return's `warnings` list.
The runner never reads a module's test flag: test mode is "check only".
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping, Sequence

from core.errors import StateArgError
from minion.state import universal
from minion.state.argcheck import collecting_unknown
from minion.state.contract import ExecContext, LowChunk, Pending, StateFailed
from minion.state.universal import Universal

Result = dict[str, Any]
Lookup = Callable[[str, str], Any]

_FAIL_KINDS = ("require", "watch")  # a failed target fails the dependent
_NOT_ORDERING = ("prereq", "use", "listen")  # edges whose target need not run first
_SKIP_COMMENT_ONCHANGES = "State was not run because none of the onchanges reqs changed"
_SKIP_COMMENT_ONFAIL = "State was not run because onfail req did not change"


def _default_lookup(state: str, fun: str) -> Any:
    from minion.states import lookup

    return lookup(state, fun)


class _Failhard(Exception):
    """Internal: a failhard state failed; stop the run."""


class Runner:
    """Runs chunks in order, resolving requisites on demand (a target always runs first)."""

    def __init__(
        self,
        chunks: Sequence[LowChunk],
        ctx: ExecContext,
        *,
        lookup: Lookup | None = None,
        failhard: bool = False,
    ) -> None:
        self.chunks = list(chunks)
        self.ctx = ctx
        self.lookup = lookup or _default_lookup
        self.failhard = failhard
        self.by_tag = {c.tag: c for c in self.chunks}
        self.results: dict[str, Result] = {}
        self.run_num = 0
        self._running: set[str] = set()
        # prereq_of[B] = chunks A that hold `prereq: B` (A runs before B when B would change).
        self.prereq_of: dict[str, list[LowChunk]] = {}
        for chunk in self.chunks:
            for edge in chunk.edges:
                if edge.kind == "prereq":
                    self.prereq_of.setdefault(edge.target, []).append(chunk)

    # -- public ----------------------------------------------------------------------------
    def run(self) -> dict[str, Result]:
        try:
            for chunk in self.chunks:
                self._run(chunk)
            for chunk in self.chunks:
                self._listener(chunk)
        except _Failhard:
            pass
        mask = self.ctx.mask
        return {mask(tag): res for tag, res in self.results.items()}  # a tag holds the name

    def _listener(self, chunk: LowChunk) -> None:
        """Salt's `listen`: at the end of the run, a listened state that changed calls `watch`
        once, reported as its own `..._|-listener_<id>_|-<name>_|-mod_watch` entry."""
        targets = [e.target for e in chunk.edges if e.kind == "listen"]
        own = self.results.get(chunk.tag)
        if not targets or own is None or own["result"] is False:
            return
        if not any(
            self.results.get(t, {}).get("changes") and self.results[t]["result"] is not False
            for t in targets
        ):
            return
        start = _now()
        t0 = time.perf_counter()
        listener = replace(chunk, id=f"listener_{chunk.id}", fun="mod_watch", edges=())
        try:
            fun, spec, _ = self._prepare(chunk)
            if not hasattr(fun, "watch"):
                self._finish(listener, True, {}, "No watch action for this state", t0, start)
            else:
                result, changes, comment = self._watch(fun, spec)
                self._finish(listener, result, changes, comment or "No changes", t0, start)
        except StateFailed as exc:
            self._finish(listener, False, exc.changes, exc.comment, t0, start)
        except _Failhard:
            raise
        except Exception as exc:
            self._finish(listener, False, {}, f"{type(exc).__name__}: {exc}", t0, start)

    # -- one chunk -------------------------------------------------------------------------
    def _run(self, chunk: LowChunk) -> Result:
        tag = chunk.tag
        if tag in self.results:
            return self.results[tag]
        if tag in self._running:  # the compiler refuses cycles; stay safe anyway
            return self._record(chunk, False, {}, "Recursive requisite found", 0.0, _now())
        self._running.add(tag)
        try:
            result = self._run_requisites_then_state(chunk)
        finally:
            self._running.discard(tag)
        return result

    def _run_requisites_then_state(self, chunk: LowChunk) -> Result:
        edges = [e for e in chunk.edges if e.kind not in _NOT_ORDERING and e.target in self.by_tag]
        targets: dict[str, list[Result]] = {}
        for edge in edges:
            targets.setdefault(edge.kind, []).append(self._run(self.by_tag[edge.target]))
        if chunk.tag in self.results:  # a prereq holder, run while its target ran
            return self.results[chunk.tag]
        start = _now()
        t0 = time.perf_counter()

        failed_names = self._failed_requisites(edges)
        if failed_names:
            return self._finish(
                chunk,
                False,
                {},
                "One or more requisite failed: " + ", ".join(failed_names),
                t0,
                start,
            )

        # States holding `prereq: <this>` run first, and only when this one is about to change.
        for holder in self.prereq_of.get(chunk.tag, ()):
            if holder.tag not in self.results:
                self._run_prereq_holder(holder)
            if self.results[holder.tag]["result"] is False:
                return self._finish(
                    chunk,
                    False,
                    {},
                    "One or more requisite failed: " + _req_name(holder),
                    time.perf_counter(),
                    _now(),
                )
        if self.prereq_of.get(chunk.tag):  # the holders' time is theirs, not this state's
            start, t0 = _now(), time.perf_counter()

        skip = self._skip_reason(targets)
        if skip:
            return self._finish(chunk, True, {}, skip, t0, start)

        prereq_targets = [
            self.by_tag[e.target]
            for e in chunk.edges
            if e.kind == "prereq" and e.target in self.by_tag
        ]
        if prereq_targets:
            # A holder reached in order (as Salt orders a plan, its targets come later): check
            # them now, run this one only if one would change; they run at their own turn.
            self._run_prereq_holder(chunk)
            return self.results[chunk.tag]

        watched_changed = any(
            r["changes"]
            for kind in ("watch", "watch_any")
            for r in targets.get(kind, ())
            if r["result"] is not False
        )
        return self._call(chunk, t0, start, watched_changed)

    def _run_prereq_holder(self, holder: LowChunk) -> None:
        """Run `holder` (which has prereq edges) now: only if some prereq target would change."""
        edges = [e for e in holder.edges if e.kind not in _NOT_ORDERING and e.target in self.by_tag]
        for edge in edges:
            self._run(self.by_tag[edge.target])
        start = _now()
        t0 = time.perf_counter()
        failed = self._failed_requisites(edges)
        if failed:
            self._finish(
                holder, False, {}, "One or more requisite failed: " + ", ".join(failed), t0, start
            )
            return
        would_change = False
        for edge in holder.edges:
            if edge.kind != "prereq" or edge.target not in self.by_tag:
                continue
            target = self.by_tag[edge.target]
            target_edges = [e for e in target.edges
                            if e.kind not in _NOT_ORDERING and e.target in self.by_tag]
            for target_edge in target_edges:
                self._run(self.by_tag[target_edge.target])
            target_failed = self._failed_requisites(target_edges)
            if target_failed:  # as in Salt: the target's check fails first, then the holder
                if target.tag not in self.results:
                    self._finish(target, False, {}, "One or more requisite failed: "
                                 + ", ".join(target_failed), t0, start)
                self._finish(holder, False, {}, "One or more requisite failed: "
                             + _req_name(target), t0, start)
                return
            try:
                fun, spec, extra = self._prepare(target)
                pending = self._check(fun, spec, extra)
            except Exception:  # the target's own run will report its failure
                continue
            if pending.changes:
                would_change = True
        if not would_change:
            self._finish(holder, True, {}, "No changes detected", t0, start)
            return
        self._call(holder, t0, start, False)

    # -- requisite checks ------------------------------------------------------------------
    def _failed_requisites(self, edges: Iterable[Any]) -> list[str]:
        failed: list[str] = []
        any_groups: dict[str, list[bool]] = {}
        for edge in edges:
            res = self.results.get(edge.target)
            if res is None:
                continue
            bad = res["result"] is False
            if edge.kind in _FAIL_KINDS:
                if bad:
                    failed.append(_req_name(self.by_tag[edge.target]))
            elif edge.kind in ("require_any", "watch_any"):
                any_groups.setdefault(edge.kind, []).append(bad)
        for kind, flags in any_groups.items():
            if flags and all(flags):
                failed.append(f"all of {kind}")
        return failed

    @staticmethod
    def _skip_reason(targets: Mapping[str, list[Result]]) -> str:
        onchanges = targets.get("onchanges", []) + targets.get("onchanges_any", [])
        if onchanges and not any(r["changes"] and r["result"] is not False for r in onchanges):
            return _SKIP_COMMENT_ONCHANGES
        onfail_any = targets.get("onfail", []) + targets.get("onfail_any", [])
        if onfail_any and not any(r["result"] is False for r in onfail_any):
            return _SKIP_COMMENT_ONFAIL
        onfail_all = targets.get("onfail_all", [])
        if onfail_all and not all(r["result"] is False for r in onfail_all):
            return _SKIP_COMMENT_ONFAIL
        return ""

    # -- calling the module ----------------------------------------------------------------
    def _prepare(self, chunk: LowChunk) -> tuple[Any, Any, Universal]:
        """The chunk's state function, its spec, and the arguments every state takes. Unknown
        arguments were the compiler's to report (a warning, or an error in strict mode)."""
        fun = self.lookup(chunk.state, chunk.fun)
        args, extra = universal.split(fun, f"{chunk.state}.{chunk.fun}", self._args_for(chunk))
        with collecting_unknown():
            spec = fun.parse(chunk.name, args)
        return fun, spec, extra

    def _check(self, fun: Any, spec: Any, extra: Universal) -> Pending:
        """The module's check, unless onlyif/unless/creates say the state must not run."""
        skip = universal.guard_comment(extra, self.ctx)
        if skip is not None:
            return Pending(comment=skip, skip_watch=True)
        return fun.check(self.ctx, spec)

    def _call(self, chunk: LowChunk, t0: float, start: str, watched_changed: bool) -> Result:
        result, changes, comment, extra = self._attempt(chunk, watched_changed)
        retry = extra.retry if extra is not None else None
        if retry is not None and not self.ctx.test:
            tries = [(result, comment)]
            while result is not retry.until and len(tries) < retry.attempts:
                time.sleep(retry.delay())
                result, changes, comment, _ = self._attempt(chunk, watched_changed)
                tries.append((result, comment))
            if len(tries) > 1:  # each earlier attempt, then the last one's own comment
                comment = "\n".join([*(f"Attempt {n}: result {r}: {c}"
                                       for n, (r, c) in enumerate(tries[:-1], 1)), comment])
        return self._finish(chunk, result, changes, comment, t0, start)

    def _attempt(self, chunk: LowChunk, watched_changed: bool
                 ) -> tuple[bool | None, dict[str, Any], str, Universal | None]:
        """One run of the state: (result, changes, comment, its universal arguments)."""
        ctx = self.ctx
        extra: Universal | None = None
        try:
            fun, spec, extra = self._prepare(chunk)
            pending: Pending = self._check(fun, spec, extra)
            if pending.changes:
                if ctx.test:
                    return None, pending.changes, pending.comment or "The state would change", extra
                changes = fun.apply(ctx, spec, pending)
                comment = pending.applied_comment or pending.comment or "Changed"
                return True, dict(changes or {}), comment, extra
            if watched_changed and hasattr(fun, "watch") and not pending.skip_watch:
                result, changes, comment = self._watch(fun, spec)
                return result, changes, comment or pending.comment, extra
            return True, {}, pending.comment or "Already in the correct state", extra
        except StateFailed as exc:
            return False, exc.changes, exc.comment, extra
        except StateArgError as exc:  # a value Salt checks at run time: this state fails
            return False, {}, str(exc), extra
        except Exception as exc:  # any module error is that state's failure, never the run's
            ctx.log.debug("state %s raised", chunk.tag, exc_info=True)
            return False, {}, f"{type(exc).__name__}: {exc}", extra

    def _args_for(self, chunk: LowChunk) -> Mapping[str, Any]:
        """The chunk's args; a cleaning file state also gets the file names its requisites manage."""
        args = chunk.args
        if chunk.state == "file" and args.get("clean"):
            keep = [
                self.by_tag[e.target].name
                for e in chunk.edges
                if e.kind in ("require", "require_any", "watch")
                and e.target in self.by_tag
                and self.by_tag[e.target].state == "file"
            ]
            args = {**args, "__keep__": keep}
        return args

    def _watch(self, fun: Any, spec: Any) -> tuple[bool | None, dict[str, Any], str]:
        """Run a module's watch action (test mode: its check_watch, or a plain "would run")."""
        if self.ctx.test:
            check_watch = getattr(fun, "check_watch", None)
            if check_watch is None:
                return None, {}, "Would run the watch action"
            wp: Pending = check_watch(self.ctx, spec)
            return (None if wp.changes else True), dict(wp.changes), wp.comment
        changes = dict(fun.watch(self.ctx, spec) or {})
        return True, changes, "Ran the watch action" if changes else ""

    def _finish(
        self,
        chunk: LowChunk,
        result: bool | None,
        changes: Mapping[str, Any],
        comment: str,
        t0: float,
        start: str,
    ) -> Result:
        duration = round((time.perf_counter() - t0) * 1000.0, 3)
        res = self._record(chunk, result, changes, comment, duration, start)
        if result is False and (chunk.failhard or self.failhard):
            raise _Failhard()
        return res

    def _record(
        self,
        chunk: LowChunk,
        result: bool | None,
        changes: Mapping[str, Any],
        comment: str,
        duration: float,
        start: str,
    ) -> Result:
        mask = self.ctx.mask
        res: Result = {
            "name": mask(chunk.name),
            "result": result,
            "changes": _mask_data(dict(changes), mask),
            "comment": mask(str(comment)),
            "duration": duration,
            "start_time": start,
            "__run_num__": self.run_num,
            "__sls__": chunk.sls,
            "__id__": chunk.id,
        }
        if chunk.warnings:
            res["warnings"] = [mask(w) for w in chunk.warnings]
        self.run_num += 1
        self.results[chunk.tag] = res
        return res


def run_plan(
    chunks: Sequence[LowChunk],
    ctx: ExecContext,
    *,
    lookup: Lookup | None = None,
    failhard: bool = False,
) -> dict[str, Result]:
    """Execute `chunks` (in the compiler's order) and return {tag: Salt state return}.

    `ctx.test` True runs `check` only (result None with the pending changes). `failhard` applies
    to every state (Salt's global option); a chunk's own `failhard` always applies.
    """
    from minion.providers import walkcache

    with walkcache.using():
        return Runner(chunks, ctx, lookup=lookup, failhard=failhard).run()


def _req_name(chunk: LowChunk) -> str:
    """How Salt names a failed requisite in a comment: `<sls>.<id>`."""
    return f"{chunk.sls}.{chunk.id}"


def _now() -> str:
    return datetime.now().strftime("%H:%M:%S.%f")


def _mask_data(obj: Any, mask: Callable[[str], str]) -> Any:
    if isinstance(obj, str):
        return mask(obj)
    if isinstance(obj, dict):
        return {k: _mask_data(v, mask) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_mask_data(v, mask) for v in obj]
    return obj
