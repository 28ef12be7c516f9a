"""Drift reports: what a minion found when it checked itself against the blueprint.

A minion runs its highstate in test mode, looks at its backups and certificates, and sends a
`DriftReport`; the master keeps the latest per minion and `summarize` turns reports into the
status `lpmaster drift` shows. Pure code: frozen dataclasses, plain-dict wire form with a
version, validated on the way in (`report_from_wire`, for data a minion sent).

Each drifted state is classified as Puppet's corrective_change does:
    corrective  the blueprint revision is the one last applied successfully, or at least this
                state's own desired state is (its digest did not change): the host moved away
                from it (someone changed it by hand)
    pending     the blueprint changed since the last successful apply (or there was none):
                the change is waiting to be applied
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any, Callable, Iterable, Mapping

from core.errors import WireError
from core.stateoutput import split_tag

REPORT_VERSION = 1
CORRECTIVE = "corrective"
PENDING = "pending"

CLEAN = "clean"
DRIFTED = "drifted"
FAILING = "failing"
STALE = "stale report"
NEVER = "never reported"
UNREACHABLE = "unreachable"       # did not answer a refresh: its stored report proves nothing now
NOT_CHECKED = "not checked"       # answered a refresh, but its check failed (no new report)
STATUSES = (CLEAN, DRIFTED, FAILING, STALE, NEVER, UNREACHABLE, NOT_CHECKED)

# Hard limits on what a minion may send (SECURITY.md rule 9).
MAX_ITEMS = 5000
MAX_TEXT = 256 * 1024

Mask = Callable[[str], str]


@dataclass(frozen=True)
class DriftedState:
    """A state that would change if applied now."""
    tag: str                 # Salt's key, "file_|-motd_|-/etc/motd_|-managed"
    name: str
    sls: str
    kind: str                # corrective | pending
    diff: str                # a unified diff, or `key: old -> new` lines; secrets masked
    comment: str = ""
    changes: Mapping[str, Any] = field(default_factory=dict)   # masked


@dataclass(frozen=True)
class FailedState:
    tag: str
    name: str
    sls: str
    comment: str


@dataclass(frozen=True)
class StaleBackup:
    job: str
    last_snapshot_at: float | None    # None: never a good snapshot
    max_age: float                    # seconds


@dataclass(frozen=True)
class ExpiringCert:
    path: str
    subject: str
    not_after: float                  # epoch seconds
    days_left: float


@dataclass(frozen=True)
class DriftReport:
    """One minion's check. `minion_id` is set by the master from the authenticated key."""
    minion_id: str
    reported_at: float
    seq: int                          # strictly increasing per minion (freshness)
    revision: str                     # hash of the rendered states + pillar checked now
    applied_revision: str | None      # revision of the last successful apply, if any
    drifted: tuple[DriftedState, ...] = ()
    failed: tuple[FailedState, ...] = ()
    compile_errors: tuple[str, ...] = ()
    stale_backups: tuple[StaleBackup, ...] = ()
    expiring_certs: tuple[ExpiringCert, ...] = ()
    version: int = REPORT_VERSION

    @property
    def status(self) -> str:
        """failing (failed states or compile errors), drifted (anything else to look at), or clean."""
        if self.failed or self.compile_errors:
            return FAILING
        if self.drifted or self.stale_backups or self.expiring_certs:
            return DRIFTED
        return CLEAN


@dataclass(frozen=True)
class MasterCheck:
    """A check the master makes itself about a minion (e.g. `drill`: recovery not rehearsed)."""
    name: str                         # drill
    kind: str                         # e.g. "never drilled", "stale drill"
    message: str


@dataclass(frozen=True)
class MinionDrift:
    """One row of `lpmaster drift`: a targeted minion, its status and its latest report (if any)."""
    minion_id: str
    status: str
    report: DriftReport | None
    age: float | None                 # seconds since the report, None if never reported
    checks: tuple[MasterCheck, ...] = ()   # the master's own findings (master/drills/checks.py)


def with_checks(row: MinionDrift, checks: Iterable[MasterCheck]) -> MinionDrift:
    """The row with the master's failed checks added: a clean minion becomes drifted."""
    found = tuple(checks)
    if not found:
        return row
    from dataclasses import replace
    return replace(row, checks=row.checks + found, status=DRIFTED if row.status == CLEAN else row.status)


def revision_of(states: Any, pillar: Mapping[str, Any]) -> str:
    """A stable hash of the rendered states (low chunks or any JSON-able plan) and the pillar."""
    canonical = json.dumps({"states": _plain(states), "pillar": _plain(pillar)},
                           sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def classify(revision: str, applied_revision: str | None, tag: str | None = None,
             state_digests: Mapping[str, str] | None = None,
             applied_states: Mapping[str, str] | None = None) -> str:
    """corrective when the checked revision is the one last applied successfully, or when the
    state `tag` has the same digest as at that apply; else pending."""
    if applied_revision is not None and revision == applied_revision:
        return CORRECTIVE
    if tag is not None and state_digests and applied_states:
        digest = state_digests.get(tag)
        if digest is not None and applied_states.get(tag) == digest:
            return CORRECTIVE
    return PENDING


def build_report(minion_id: str, state_return: Mapping[str, Mapping[str, Any]], *, revision: str,
                 applied_revision: str | None, seq: int, reported_at: float,
                 compile_errors: Iterable[str] = (), stale_backups: Iterable[StaleBackup] = (),
                 expiring_certs: Iterable[ExpiringCert] = (), mask: Mask = lambda s: s,
                 state_digests: Mapping[str, str] | None = None,
                 applied_states: Mapping[str, str] | None = None) -> DriftReport:
    """A report from a test-mode state return (Salt's `{tag: {result, changes, comment, ...}}`).

    A state with `result: None` or with changes has drifted; `result: False` failed. Every text
    goes through `mask`, so a secret embedded in a diff or comment never leaves the minion.
    `state_digests` (now) and `applied_states` (at the last successful apply) map tags to
    per-state digests, for the per-state corrective/pending call.
    """
    drifted: list[DriftedState] = []
    failed: list[FailedState] = []
    ordered = sorted(state_return.items(), key=lambda kv: (kv[1].get("__run_num__", 0), kv[0]))
    for tag, ret in ordered:
        name = str(ret.get("name", split_tag(tag)[2]))
        sls = str(ret.get("__sls__", ""))
        comment = mask(_text(ret.get("comment", "")))
        changes = ret.get("changes") or {}
        if ret.get("result") is False:
            failed.append(FailedState(tag=tag, name=name, sls=sls, comment=comment))
        elif ret.get("result") is None or changes:
            masked = mask_deep(changes, mask)
            kind = classify(revision, applied_revision, tag, state_digests, applied_states)
            drifted.append(DriftedState(tag=tag, name=name, sls=sls, kind=kind, diff=changes_text(masked),
                                        comment=comment, changes=masked))
    return DriftReport(minion_id=minion_id, reported_at=reported_at, seq=seq, revision=revision,
                       applied_revision=applied_revision, drifted=tuple(drifted), failed=tuple(failed),
                       compile_errors=tuple(mask(e) for e in compile_errors),
                       stale_backups=tuple(stale_backups), expiring_certs=tuple(expiring_certs))


def describe_tag(tag: str) -> str:
    """A state's key for people: `file_|-motd_|-/etc/motd_|-managed` -> `file.managed /etc/motd (motd)`."""
    state, sid, name, fun = split_tag(tag)
    if not state:
        return tag
    return f"{state}.{fun} {name}" + (f" ({sid})" if sid != name else "")


def changes_text(changes: Mapping[str, Any]) -> str:
    """The diff a user reads: `changes['diff']` when the state made one, else `key: old -> new` lines."""
    if isinstance(changes.get("diff"), str):
        rest = {k: v for k, v in changes.items() if k != "diff"}
        return changes["diff"] + ("\n" + changes_text(rest) if rest else "")
    lines = []
    for key, value in changes.items():
        if isinstance(value, Mapping) and set(value) <= {"old", "new"} and value:
            lines.append(f"{key}: {_short(value.get('old'))} -> {_short(value.get('new'))}")
        else:
            lines.append(f"{key}: {_short(value)}")
    return "\n".join(lines)


def summarize(reports: Mapping[str, DriftReport | None], targeted: Iterable[str], now: float,
              max_age: float, unreachable: Iterable[str] = (),
              not_checked: Iterable[str] = ()) -> list[MinionDrift]:
    """Each targeted minion's status, sorted by id: unreachable (did not answer a refresh),
    not checked (answered it, but its check failed), never reported, stale report, failing,
    drifted, clean."""
    rows = []
    unreachable, not_checked = set(unreachable), set(not_checked)
    for minion_id in sorted(set(targeted)):
        report = reports.get(minion_id)
        if minion_id in unreachable or minion_id in not_checked:
            age = None if report is None else max(0.0, now - report.reported_at)
            status = UNREACHABLE if minion_id in unreachable else NOT_CHECKED
            rows.append(MinionDrift(minion_id, status, report, age))
            continue
        if report is None:
            rows.append(MinionDrift(minion_id, NEVER, None, None))
            continue
        age = max(0.0, now - report.reported_at)
        status = STALE if age > max_age else report.status
        rows.append(MinionDrift(minion_id, status, report, age))
    return rows


def is_newer(new: DriftReport, old: DriftReport | None) -> bool:
    """Whether `new` may replace `old` (sequence numbers only go up; a replay is refused)."""
    return old is None or new.seq > old.seq


def report_to_wire(report: DriftReport) -> dict[str, Any]:
    """The report as a plain dict (msgpack/JSON), without the minion id (the channel says who sent it)."""
    data = asdict(report)
    data.pop("minion_id")
    return data


def report_from_wire(minion_id: str, data: Any) -> DriftReport:
    """Validate a report a minion sent; `minion_id` comes from the authenticated key, never the body."""
    if not isinstance(data, Mapping):
        raise WireError("drift report must be a map")
    if data.get("version") != REPORT_VERSION:
        raise WireError(f"drift report version {data.get('version')!r} not supported")
    try:
        return DriftReport(
            minion_id=minion_id,
            reported_at=_num(data["reported_at"]),
            seq=_int(data["seq"]),
            revision=_str(data["revision"]),
            applied_revision=None if data.get("applied_revision") is None else _str(data["applied_revision"]),
            drifted=tuple(DriftedState(tag=_str(d["tag"]), name=_str(d["name"]), sls=_str(d["sls"]),
                                       kind=_kind(d["kind"]), diff=_str(d["diff"]),
                                       comment=_str(d.get("comment", "")),
                                       changes=_map(d.get("changes", {})))
                          for d in _list(data.get("drifted", ()))),
            failed=tuple(FailedState(tag=_str(f["tag"]), name=_str(f["name"]), sls=_str(f["sls"]),
                                     comment=_str(f["comment"])) for f in _list(data.get("failed", ()))),
            compile_errors=tuple(_str(e) for e in _list(data.get("compile_errors", ()))),
            stale_backups=tuple(StaleBackup(job=_str(b["job"]),
                                            last_snapshot_at=None if b.get("last_snapshot_at") is None
                                            else _num(b["last_snapshot_at"]),
                                            max_age=_num(b["max_age"]))
                                for b in _list(data.get("stale_backups", ()))),
            expiring_certs=tuple(ExpiringCert(path=_str(c["path"]), subject=_str(c["subject"]),
                                              not_after=_num(c["not_after"]), days_left=_num(c["days_left"]))
                                 for c in _list(data.get("expiring_certs", ()))),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise WireError(f"malformed drift report: {exc!r}") from exc


def report_to_json(report: DriftReport) -> dict[str, Any]:
    """The report for `--json` and the store: the wire form plus the minion id and status."""
    data = report_to_wire(report)
    data["minion_id"] = report.minion_id
    data["status"] = report.status
    return data


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def mask_deep(value: Any, mask: Mask) -> Any:
    """Every string inside `value` (maps, lists), map keys included, passed through `mask`."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, Mapping):
        return {mask(str(k)): mask_deep(v, mask) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_deep(v, mask) for v in value]
    return value


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 200 else text[:197] + "..."


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "\n".join(map(str, value))
    return str(value)


def _str(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise WireError("drift report: expected a string of bounded size")
    return value


def _num(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise WireError("drift report: expected a number")
    return float(value)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise WireError("drift report: expected an integer")
    return value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, (list, tuple)) or len(value) > MAX_ITEMS:
        raise WireError("drift report: expected a list of bounded length")
    return list(value)


def _map(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise WireError("drift report: expected a map")
    return {_str(k): v for k, v in value.items()}


def _kind(value: Any) -> str:
    if value not in (CORRECTIVE, PENDING):
        raise WireError(f"drift report: kind must be {CORRECTIVE} or {PENDING}")
    return str(value)
