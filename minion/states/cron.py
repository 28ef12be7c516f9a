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
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
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
    line: str  # the crontab line wanted ("" for absent)


def _user(args: Mapping[str, Any]) -> str:
    return one_line("user", args.get("user", "root"))


def _schedule(args: Mapping[str, Any]) -> str:
    special = args.get("special")
    if special is not None:
        if special not in SPECIALS:
            raise StateArgError(f"special must be one of {', '.join(SPECIALS)}")
        return str(special)
    parts = [one_line(f, args.get(f, "*")).strip() or "*" for f in FIELDS]
    if any(" " in p for p in parts):
        raise StateArgError("schedule fields must not contain spaces")
    expression = " ".join(parts)
    from croniter import croniter

    if not croniter.is_valid(expression):
        raise StateArgError(f"invalid cron schedule {expression!r}")
    return expression


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
        line = f"{_schedule(args)} {command}"
        if args.get("comment"):
            line += f" # {one_line('comment', args['comment'])}"
        if args.get("commented"):
            line = f"#DISABLED#{line}"
        identifier = one_line("identifier", args.get("identifier") or command)
        return CronSpec(_user(args), identifier, line)

    def check(self, ctx: ExecContext, spec: CronSpec) -> Pending:
        check_account_name("user", spec.user)
        tab = crontab.read(spec.user, ctx.opts.get("cron_spool", crontab.SPOOL))
        at = tab.find(self.kind, spec.key)
        old = "" if at is None else tab.items[at][2]
        if old == spec.line:
            return Pending(comment=self.in_place.format(key=spec.key, user=spec.user))
        return Pending(changes={"entry": {"old": old, "new": spec.line}})

    def apply(self, ctx: ExecContext, spec: CronSpec, pending: Pending) -> dict[str, Any]:
        spool = ctx.opts.get("cron_spool", crontab.SPOOL)
        tab = crontab.read(spec.user, spool)
        at = tab.find(self.kind, spec.key)
        item = (self.kind, spec.key, spec.line)
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
