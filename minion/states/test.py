"""The `test` state module: states that do nothing, for trying requisites and output.

always-fails:
  test.fail_without_changes

pretend:
  test.succeed_with_changes:
    - watch_in:
      - service: nginx
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from minion.state.contract import ExecContext, Pending, StateFailed
from minion.states.specargs import check_known

PRETEND = {"testing": {"old": "Unchanged", "new": "Something pretended to change"}}


@dataclass(frozen=True)
class TestSpec:
    name: str
    comment: str | None = None


class _TestFunction:
    """Common parse: `name` plus an optional `comment`."""

    fun = ""

    def parse(self, name: str, args: Mapping[str, Any]) -> TestSpec:
        check_known(f"test.{self.fun}", args, ("comment", "changes", "result"))
        comment = args.get("comment")
        return TestSpec(name=name, comment=None if comment is None else str(comment))

    def apply(self, ctx: ExecContext, spec: TestSpec, pending: Pending) -> dict[str, Any]:
        return dict(pending.changes)


class Nop(_TestFunction):
    """Does nothing; result True, no changes."""

    fun = "nop"

    def check(self, ctx: ExecContext, spec: TestSpec) -> Pending:
        return Pending(comment=spec.comment or "Success!")


class SucceedWithoutChanges(Nop):
    """Succeeds with no changes."""

    fun = "succeed_without_changes"


class SucceedWithChanges(_TestFunction):
    """Always reports a change (test mode: result None with that change)."""

    fun = "succeed_with_changes"

    def check(self, ctx: ExecContext, spec: TestSpec) -> Pending:
        return Pending(changes=dict(PRETEND), comment=spec.comment or "Success!")


class FailWithoutChanges(_TestFunction):
    """Always fails, with no changes (test mode too: a dry run says it will fail)."""

    fun = "fail_without_changes"

    def check(self, ctx: ExecContext, spec: TestSpec) -> Pending:
        raise StateFailed(spec.comment or "Failure!")


class FailWithChanges(_TestFunction):
    """Fails after pretending a change; test mode predicts the change (result None)."""

    fun = "fail_with_changes"

    def check(self, ctx: ExecContext, spec: TestSpec) -> Pending:
        return Pending(
            changes=dict(PRETEND),
            comment="If we weren't testing, this would be a failure with changes",
        )

    def apply(self, ctx: ExecContext, spec: TestSpec, pending: Pending) -> dict[str, Any]:
        raise StateFailed(spec.comment or "Failure!", changes=pending.changes)


FUNCTIONS = {
    "nop": Nop(),
    "succeed_without_changes": SucceedWithoutChanges(),
    "succeed_with_changes": SucceedWithChanges(),
    "fail_without_changes": FailWithoutChanges(),
    "fail_with_changes": FailWithChanges(),
}
