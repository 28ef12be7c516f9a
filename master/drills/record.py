"""A drill's result: each phase with its time, the total, passed or failed, and why.

    result = DrillResult(kind="drill", source="web1", onto="scratch1", started=time.time())
    result.phases.append(Phase("converge", started, duration, passed=True, detail="34 states"))
    result.finish(time.time())
    result.as_dict()          # what the store keeps and `--json` prints
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

DRILL = "drill"
REBUILD = "rebuild"
PHASES = ("converge", "restore", "verify", "takeover")


@dataclass
class Phase:
    """One phase of a drill: its name, when it started, how long it took, and what it found."""
    name: str
    started: float
    duration: float = 0.0
    passed: bool = False
    detail: str = ""        # what it did ("34 states, 12 changed"; "2 backups restored")
    error: str = ""         # why it failed (empty when it passed)
    items: list[dict[str, Any]] = field(default_factory=list)   # per backup job / health check


@dataclass
class DrillResult:
    """A drill or rebuild: SOURCE (or LOST) recovered onto another host."""
    kind: str               # drill | rebuild
    source: str
    onto: str
    started: float
    trigger: str = "manual"          # manual | schedule
    user: str = ""
    finished: float | None = None
    phases: list[Phase] = field(default_factory=list)
    id: int | None = None

    @property
    def total(self) -> float:
        """The measured time to recover: the phases' durations added up."""
        return sum(p.duration for p in self.phases)

    @property
    def passed(self) -> bool:
        return bool(self.phases) and all(p.passed for p in self.phases)

    @property
    def failed_phase(self) -> Phase | None:
        return next((p for p in self.phases if not p.passed), None)

    def finish(self, now: float) -> None:
        self.finished = now

    def as_dict(self) -> dict[str, Any]:
        failed = self.failed_phase
        return {"id": self.id, "kind": self.kind, "source": self.source, "onto": self.onto,
                "trigger": self.trigger, "user": self.user, "started": self.started,
                "finished": self.finished, "total": round(self.total, 3), "passed": self.passed,
                "failed_phase": failed.name if failed else None,
                "reason": failed.error if failed else "",
                "phases": [asdict(p) for p in self.phases]}


def result_from_dict(data: Mapping[str, Any]) -> DrillResult:
    """The inverse of as_dict (for what the store read back)."""
    phases = [Phase(name=str(p["name"]), started=float(p["started"]), duration=float(p["duration"]),
                    passed=bool(p["passed"]), detail=str(p.get("detail", "")), error=str(p.get("error", "")),
                    items=list(p.get("items") or []))
              for p in data.get("phases") or []]
    return DrillResult(kind=str(data["kind"]), source=str(data["source"]), onto=str(data["onto"]),
                       started=float(data["started"]), trigger=str(data.get("trigger", "manual")),
                       user=str(data.get("user", "")), finished=data.get("finished"), phases=phases,
                       id=data.get("id"))
