"""cron states: present, absent, env_present, env_absent (a user's crontab, managed section).

    nightly-backup:
      cron.present:
        - name: /usr/local/bin/lpbackup --all
        - user: root
        - minute: 15
        - hour: 3
    MAILTO:
      cron.env_present:
        - value: ops@example.com

Each entry carries an identifier (`identifier:`, default the command) so that a changed
schedule or command replaces its line. Changes: `entry: {old: line, new: line}`.

Salt's `random` (and `a:b`, a random value in that range) for minute, hour, daymonth, month
and dayweek: a value this entry already has there is kept (as Salt does, so a crontab Salt
wrote is not drift); a new entry gets a value derived from the minion id and the identifier,
so it is stable across runs and rebuilds of that minion, and differs between minions.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from core.errors import StateArgError
from minion.providers import crontab
from minion.providers.accounts import check_account_name
from minion.state.contract import ExecContext, Pending
from minion.states.specargs import check_known, one_line

FIELDS = ("minute", "hour", "daymonth", "month", "dayweek")
SPECIALS = (
    "@reboot",
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
)
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class CronSpec:
    user: str
    key: str  # identifier (jobs) or variable name (env)
    line: str  # the crontab line wanted ("" for absent); with `schedule`, what follows it
    schedule: tuple[str, ...] = ()  # the five fields when some are random: resolved in check
    disabled: bool = False


_RANGES = {"minute": (0, 59), "hour": (0, 23), "daymonth": (1, 28), "month": (1, 12),
           "dayweek": (0, 6)}


def _random_range(field: str, value: str) -> tuple[int, int] | None:
    """The range a `random` or `a:b` field picks from, or None for a plain field."""
    if value.lower() == "random":
        return _RANGES[field]
    low, sep, high = value.partition(":")
    if sep and low.strip().isdigit() and high.strip().isdigit():
        a, b = sorted((int(low), int(high)))
        return a, b
    return None


def resolve_schedule(spec: CronSpec, minion_id: str, old_line: str) -> CronSpec:
    """The spec with its random fields made concrete (see the module's docstring)."""
    if not spec.schedule:
        return spec
    old = old_line.removeprefix("#DISABLED#").split()
    if len(old) <= 5 or old[0].startswith("@"):
        old = []
    month = spec.schedule[3]
    parts: list[str] = []
    for pos, (field, value) in enumerate(zip(FIELDS, spec.schedule)):
        span = _random_range(field, value)
        if span is None:
            parts.append(value)
            continue
        if field == "daymonth" and value.lower() == "random" and month.isdigit():
            span = (1, 31 if int(month) in (1, 3, 5, 7, 8, 10, 12) else 30 if int(month) != 2 else 28)
        have = old[pos] if old else "*"
        if (value.lower() == "random" and have != "*") or (
                have.isdigit() and span[0] <= int(have) <= span[1]):
            parts.append(have)  # as Salt: what the entry already has satisfies `random`
            continue
        seed = hashlib.sha256(f"{minion_id}\0{spec.key}\0{field}".encode()).digest()
        parts.append(str(span[0] + int.from_bytes(seed[:8], "big") % (span[1] - span[0] + 1)))
    line = f"{' '.join(parts)} {spec.line}"
    return replace(spec, line=f"#DISABLED#{line}" if spec.disabled else line, schedule=())


def _user(args: Mapping[str, Any]) -> str:
    return one_line("user", args.get("user", "root"))


def _schedule(args: Mapping[str, Any]) -> str:
    special = args.get("special")
    if special is not None:
        if special not in SPECIALS:
            raise StateArgError(f"special must be one of {', '.join(SPECIALS)}")
        return str(special)
    parts = _fields(args)
    if any(" " in p for p in parts):
        raise StateArgError("schedule fields must not contain spaces")
    expression = " ".join(
        str(span[0]) if (span := _random_range(f, p)) else p for f, p in zip(FIELDS, parts))
    from croniter import croniter

    if not croniter.is_valid(expression):
        raise StateArgError(f"invalid cron schedule {expression!r}")
    return expression


def _fields(args: Mapping[str, Any]) -> list[str]:
    return [one_line(f, args.get(f, "*")).strip() or "*" for f in FIELDS]


class Present:
    """cron.present: the command runs on the schedule, in the user's crontab."""

    kind = "job"  # crontab item kind this function manages
    in_place = "cron entry {key} is present for {user}"  # comment when nothing changes
    append = True  # a new item goes after the others (False: before them)

    def parse(self, name: str, args: Mapping[str, Any]) -> CronSpec:
        check_known(
            "cron.present", args, ("user", "identifier", "special", "comment", "commented", *FIELDS)
        )
        command = one_line("name", name).strip()
        if not command:
            raise StateArgError("the command (name) is empty")
        schedule = _schedule(args)
        tail = command
        if args.get("comment"):
            tail += f" # {one_line('comment', args['comment'])}"
        identifier = one_line("identifier", args.get("identifier") or command)
        disabled = bool(args.get("commented"))
        fields = _fields(args)
        if args.get("special") is None and any(_random_range(f, v) for f, v in zip(FIELDS, fields)):
            return CronSpec(_user(args), identifier, tail, tuple(fields), disabled)
        line = f"{schedule} {tail}"
        return CronSpec(_user(args), identifier, f"#DISABLED#{line}" if disabled else line)

    def check(self, ctx: ExecContext, spec: CronSpec) -> Pending:
        check_account_name("user", spec.user)
        tab = crontab.read(spec.user, ctx.opts.get("cron_spool", crontab.SPOOL))
        at = tab.find(self.kind, spec.key)
        old = "" if at is None else tab.items[at][2]
        spec = resolve_schedule(spec, str(ctx.opts.get("id") or ctx.grains.get("id") or ""), old)
        if old == spec.line:
            return Pending(comment=self.in_place.format(key=spec.key, user=spec.user))
        return Pending(changes={"entry": {"old": old, "new": spec.line}}, facts={"line": spec.line})

    def apply(self, ctx: ExecContext, spec: CronSpec, pending: Pending) -> dict[str, Any]:
        spool = ctx.opts.get("cron_spool", crontab.SPOOL)
        tab = crontab.read(spec.user, spool)
        at = tab.find(self.kind, spec.key)
        item = (self.kind, spec.key, pending.facts.get("line", spec.line))
        if at is None:
            tab.items.insert(len(tab.items) if self.append else 0, item)
        else:
            tab.items[at] = item
        crontab.write(spec.user, tab, spool)
        return dict(pending.changes)


class Absent:
    """cron.absent: no entry with this identifier (or command) in the user's crontab."""

    kind = "job"

    def parse(self, name: str, args: Mapping[str, Any]) -> CronSpec:
        check_known("cron.absent", args, ("user", "identifier", "special", *FIELDS))
        return CronSpec(_user(args), one_line("identifier", args.get("identifier") or name), "")

    def check(self, ctx: ExecContext, spec: CronSpec) -> Pending:
        check_account_name("user", spec.user)
        tab = crontab.read(spec.user, ctx.opts.get("cron_spool", crontab.SPOOL))
        at = tab.find(self.kind, spec.key)
        if at is None:
            return Pending(comment=f"no cron {self.kind} {spec.key} for {spec.user}")
        return Pending(changes={"entry": {"old": tab.items[at][2], "new": ""}})

    def apply(self, ctx: ExecContext, spec: CronSpec, pending: Pending) -> dict[str, Any]:
        spool = ctx.opts.get("cron_spool", crontab.SPOOL)
        tab = crontab.read(spec.user, spool)
        tab.items = [i for i in tab.items if not (i[0] == self.kind and i[1] == spec.key)]
        crontab.write(spec.user, tab, spool)
        return dict(pending.changes)


class EnvPresent(Present):
    """cron.env_present: NAME=value in the managed section (before the entries it affects)."""

    kind = "env"
    in_place = "cron variable {key} is set for {user}"
    append = False

    def parse(self, name: str, args: Mapping[str, Any]) -> CronSpec:
        check_known("cron.env_present", args, ("user", "value"))
        if not ENV_NAME.match(str(name)):
            raise StateArgError(f"{name!r} is not a valid variable name")
        return CronSpec(
            _user(args), str(name), f"{name}={one_line('value', args.get('value', ''))}"
        )


class EnvAbsent(Absent):
    """cron.env_absent: no NAME= line in the managed section."""

    kind = "env"

    def parse(self, name: str, args: Mapping[str, Any]) -> CronSpec:
        check_known("cron.env_absent", args, ("user",))
        return CronSpec(_user(args), str(name), "")


FUNCTIONS = {
    "present": Present(),
    "absent": Absent(),
    "env_present": EnvPresent(),
    "env_absent": EnvAbsent(),
}
