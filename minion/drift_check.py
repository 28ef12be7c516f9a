"""The minion's drift check: highstate in test mode, certificates, backups -> a DriftReport.

    ledger = DriftLedger(os.path.join(cachedir, "drift.json"))
    ledger.record_apply(plan_fingerprint(chunks, pillar), state_return)   # after a real highstate
    report = run_drift_check(minion_id, compile_plan=..., run_test=..., ledger=ledger)

`compile_plan()` returns the compiled chunks and the pillar they were compiled with (or raises
RenderError/CompileError, which the report carries as compile errors); `run_test(chunks)`
runs them in test mode and returns Salt's state return. Both are handed in by the daemon,
so this module knows nothing of channels or file clients.
"""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field, is_dataclass, replace
from typing import Any, Callable, Iterable, Mapping, Sequence

from core.drift import DriftReport, StaleBackup, build_report, revision_of
from core.errors import CompileError, LinkpeekError, TransportError
from minion.certs import DEFAULT_WINDOW_DAYS, expiring, find_certificates, managed_paths
from minion.statefile import read_json, write_json_atomic

log = logging.getLogger(__name__)

LEDGER_VERSION = 1

CompilePlan = Callable[[], "tuple[Sequence[Any], Mapping[str, Any]]"]
RunTest = Callable[[Sequence[Any]], Mapping[str, Mapping[str, Any]]]


@dataclass(frozen=True)
class Fingerprint:
    """What a plan wants: `revision` for the whole (states + pillar + sources), and a digest per
    state tag, so one state's drift can be called corrective while another state changed."""
    revision: str
    states: Mapping[str, str] = field(default_factory=dict)


FingerprintFor = Callable[[Sequence[Any], Mapping[str, Any]], Fingerprint]


@dataclass(frozen=True)
class LedgerState:
    seq: int = 0
    applied_revision: str | None = None
    applied_at: float | None = None
    applied_states: Mapping[str, str] = field(default_factory=dict)


class DriftLedger:
    """What the minion remembers for drift reports: the last sequence number and the revision
    of the last successful apply (every state True, not test mode)."""

    def __init__(self, path: str) -> None:
        self.path = path
        data = read_json(path)
        if isinstance(data, dict) and data.get("version") == LEDGER_VERSION:
            states = data.get("applied_states")
            self.state = LedgerState(seq=int(data.get("seq") or 0),
                                     applied_revision=data.get("applied_revision"),
                                     applied_at=data.get("applied_at"),
                                     applied_states=dict(states) if isinstance(states, dict) else {})
        else:
            self.state = LedgerState()

    @property
    def applied_revision(self) -> str | None:
        return self.state.applied_revision

    def next_seq(self, now: float | None = None) -> int:
        """A sequence number above every earlier one, even if this file was lost (time-based floor)."""
        seq = self._seq_after(time.time() if now is None else now)
        self._save(replace(self.state, seq=seq))
        return seq

    def _seq_after(self, when: float) -> int:
        return max(self.state.seq + 1, int(when * 1000))

    @property
    def applied_states(self) -> Mapping[str, str]:
        return self.state.applied_states

    def record_apply(self, fingerprint: Fingerprint, state_return: Mapping[str, Mapping[str, Any]],
                     now: float | None = None) -> bool:
        """Remember the plan's fingerprint as applied when every state succeeded; return whether it did."""
        if not all_succeeded(state_return):
            return False
        self._save(LedgerState(self.state.seq, fingerprint.revision, time.time() if now is None else now,
                               dict(fingerprint.states)))
        return True

    def record_converged(self, fingerprint: Fingerprint, state_return: Mapping[str, Mapping[str, Any]],
                         now: float | None = None) -> int | None:
        """record_apply and next_seq in one durable write (a converged highstate's report
        needs both): the report's sequence number, or None when nothing was recorded."""
        when = time.time() if now is None else now
        if not all_succeeded(state_return):
            return None
        seq = self._seq_after(when)
        self._save(LedgerState(seq, fingerprint.revision, when, dict(fingerprint.states)))
        return seq

    def _save(self, state: LedgerState) -> None:
        write_json_atomic(self.path, {"version": LEDGER_VERSION, "seq": state.seq,
                                      "applied_revision": state.applied_revision,
                                      "applied_at": state.applied_at,
                                      "applied_states": dict(state.applied_states)})
        self.state = state


def all_succeeded(state_return: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether a real apply's return has states and every one of them is True."""
    return bool(state_return) and all(r.get("result") is True for r in state_return.values())


def plan_fingerprint(chunks: Sequence[Any], pillar: Mapping[str, Any], files: Any = None) -> Fingerprint:
    """The revision of a compiled plan and a digest per state: what `record_apply` keeps and
    the drift check compares.

    With a file client, the content hash of every `salt://` file the plan names is part of
    it, so editing a source file on the master makes the change `pending`, not `corrective`.
    A state's digest covers its own arguments and requisites and its sources; a templated
    state can depend on anything (pillar, imported macros), so its digest is the whole
    revision. Call it after the run (the files are cached by then).
    """
    sources = source_digests(chunks, files) if files is not None else {}
    revision = revision_of({"chunks": list(chunks), "sources": sources}, pillar)
    states: dict[str, str] = {}
    for chunk in chunks:
        plain = asdict(chunk) if is_dataclass(chunk) and not isinstance(chunk, type) else dict(chunk)
        for volatile in ("order", "source", "__run_num__"):
            plain.pop(volatile, None)
        args = plain.get("args") or {}
        tag = getattr(chunk, "tag", None) or _dict_tag(plain)
        if isinstance(args, Mapping) and args.get("template"):
            states[tag] = revision
            continue
        urls: set[str] = set()
        _collect_urls(args, urls)
        states[tag] = revision_of({"chunk": plain, "sources": {u: sources.get(u, "") for u in sorted(urls)}}, {})
    return Fingerprint(revision, states)


def _dict_tag(chunk: Mapping[str, Any]) -> str:
    return f"{chunk.get('state')}_|-{chunk.get('id', chunk.get('__id__'))}_|-{chunk.get('name')}_|-{chunk.get('fun')}"


def source_digests(chunks: Sequence[Any], files: Any) -> dict[str, str]:
    """sha256 of each `salt://` file named in the chunks' arguments ("unavailable" if not a file)."""
    import hashlib

    urls: set[str] = set()
    for chunk in chunks:
        _collect_urls(getattr(chunk, "args", None) or (chunk.get("args") if isinstance(chunk, dict) else {}),
                      urls)
    out: dict[str, str] = {}
    for url in sorted(urls):
        try:
            with open(files.cache_file(url), "rb") as fh:
                out[url] = hashlib.sha256(fh.read()).hexdigest()
        except (LinkpeekError, OSError):
            out[url] = "unavailable"
    return out


def _collect_urls(value: Any, urls: set[str]) -> None:
    if isinstance(value, str):
        if value.startswith("salt://"):
            urls.add(value.split("?", 1)[0])
    elif isinstance(value, Mapping):
        for item in value.values():
            _collect_urls(item, urls)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect_urls(item, urls)


def run_drift_check(minion_id: str, *, compile_plan: CompilePlan, run_test: RunTest, ledger: DriftLedger,
                    mask: Callable[[str], str] = lambda s: s, now: float | None = None,
                    cert_window_days: float = DEFAULT_WINDOW_DAYS,
                    stale_backups: Callable[[], Iterable[StaleBackup]] | None = None,
                    fingerprint_for: FingerprintFor = plan_fingerprint) -> DriftReport:
    """Check this host and build its report; a render, compile or pillar error becomes a
    compile error of the report (nothing runs then), never an exception. A host the highstate
    gives no states is clean; a master that could not be reached (TransportError) raises."""
    when = time.time() if now is None else now
    compile_errors: list[str] = []
    state_return: Mapping[str, Mapping[str, Any]] = {}
    fingerprint = Fingerprint("none")
    certs = []
    from minion.state.compiler import NoStatesError

    try:
        chunks, pillar = compile_plan()
    except NoStatesError:
        pass  # no states for this host yet: nothing can have drifted, and nothing failed
    except CompileError as exc:
        compile_errors = list(exc.errors)
    except TransportError:
        raise  # no blueprint, no report: a kept report from an earlier check must not be replaced
    except LinkpeekError as exc:
        compile_errors = [str(exc)]
    else:
        state_return = run_test(chunks)
        fingerprint = fingerprint_for(chunks, pillar)
        certs = expiring(find_certificates(managed_paths(chunks)), now=when, window_days=cert_window_days)
    backups = list(stale_backups()) if stale_backups is not None else []
    return build_report(minion_id, state_return, revision=fingerprint.revision,
                        applied_revision=ledger.applied_revision, seq=ledger.next_seq(when), reported_at=when,
                        compile_errors=compile_errors, stale_backups=backups, expiring_certs=certs, mask=mask,
                        state_digests=fingerprint.states, applied_states=ledger.applied_states)
