"""The fleet summary of a remote apply, and its exit code. Pure: returns in, counts out.

    fleet = FleetSummary(targeted=["web1", "web2"])
    fleet.add("web1", success=True, ret={...state return...})
    fleet.missing = {"web2": "not connected"}
    print(fleet.text()); sys.exit(fleet.exit_code(detailed=False))

Exit codes: 0 every minion answered and no state failed, 1 a state failed (or a minion's
tree/pillar did not compile), 2 a minion did not answer. With `detailed` (Puppet's
--detailed-exitcodes): 0 nothing changed, 2 changes (pending ones in test mode), 4
failures, 6 both; a minion that did not answer counts as a failure.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass
class FleetSummary:
    """Per-minion outcomes of one apply, summed up."""
    targeted: list[str]
    succeeded: list[str] = field(default_factory=list)   # answered, no state failed
    failed: list[str] = field(default_factory=list)      # a state failed or nothing compiled
    changed: list[str] = field(default_factory=list)     # had (or, in test mode, would have) changes
    missing: dict[str, str] = field(default_factory=dict)
    states_changed: int = 0
    states_failed: int = 0
    states_total: int = 0

    def add(self, minion_id: str, success: bool, ret: Any) -> None:
        """Count one minion's return (Salt's state return, or a list of errors)."""
        failed_here = not success
        if isinstance(ret, Mapping):
            changed_here = False
            for state in ret.values():
                if not isinstance(state, Mapping):
                    continue
                self.states_total += 1
                if state.get("result") is False:
                    self.states_failed += 1
                    failed_here = True
                elif state.get("changes"):
                    self.states_changed += 1
                    changed_here = True
            if changed_here:
                self.changed.append(minion_id)
        else:
            failed_here = True
        (self.failed if failed_here else self.succeeded).append(minion_id)

    def exit_code(self, detailed: bool = False) -> int:
        if detailed:
            code = 2 if self.changed else 0
            if self.failed or self.missing:
                code |= 4
            return code
        if self.missing:
            return 2
        return 1 if self.failed else 0

    def as_dict(self) -> dict[str, Any]:
        return {"targeted": len(self.targeted), "succeeded": sorted(self.succeeded),
                "failed": sorted(self.failed), "changed": sorted(self.changed),
                "did_not_answer": dict(sorted(self.missing.items())),
                "states": {"total": self.states_total, "changed": self.states_changed,
                           "failed": self.states_failed}}

    def text(self, test: bool = False) -> str:
        """The block printed after every minion's output."""
        def names(ids: list[str]) -> str:
            return f"  ({', '.join(sorted(ids))})" if ids else ""

        verb = "would change" if test else "changed"
        lines = ["", "Fleet summary", "=============",
                 f"Minions targeted:   {len(self.targeted)}",
                 f"Succeeded:          {len(self.succeeded)}",
                 f"  {verb + ':':<17} {len(self.changed)}{names(self.changed)}",
                 f"Failed:             {len(self.failed)}{names(self.failed)}",
                 f"Did not answer:     {len(self.missing)}{names(list(self.missing))}",
                 f"States {verb}: {self.states_changed}, failed: {self.states_failed}, "
                 f"total: {self.states_total}"]
        return "\n".join(lines)
