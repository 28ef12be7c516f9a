"""Scheduled jobs as Salt spells them (`schedule:` in the minion config or pillar), and when they are due.

Pure code over a clock you pass in: nothing here sleeps, reads the host or writes a file.

    schedule:
      nightly_highstate:
        function: state.highstate
        cron: '30 3 * * *'        # cron expression (croniter), in the host's local time
        splay: 600                # start up to 600 s after the slot (or {start: 10, end: 20})
      ping:
        function: test.ping
        minutes: 5                # or seconds / hours / days, added up as Salt does
        run_on_start: true        # also run once each time the minion starts
        job_args: [hello]         # `args` also accepted
        kwargs: {test: true}      # `job_kwargs` also accepted

Missed slots follow anacron, not cron: a job whose slot passed while the host was down runs
once at the next start, however many slots it missed, because the next slot is always
computed from the last one served (see `JobRecord`, `due_at`, `mark_started`).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Mapping

from core.cronexpr import check_cron
from core.errors import ConfigError

INTERVAL_UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
DRIFT_JOB_NAME = "__drift_check"
DRIFT_FUNCTION = "drift.check"
DEFAULT_DRIFT_INTERVAL = 1800.0
DEFAULT_DRIFT_SPLAY = 300.0
MINE_JOB_NAME = "__mine_interval"
MINE_FUNCTION = "mine.update"
DEFAULT_MINE_INTERVAL = 60.0       # minutes, as Salt's mine_interval
_KNOWN_KEYS = frozenset({"function", "args", "job_args", "kwargs", "job_kwargs", "cron", "splay",
                         "run_on_start", "enabled", *INTERVAL_UNITS})


@dataclass(frozen=True)
class ScheduledJob:
    """One job of the schedule. Exactly one of `interval` (seconds) and `cron` is set."""
    name: str
    function: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    interval: float | None = None
    cron: str | None = None
    splay: tuple[float, float] = (0.0, 0.0)   # (start, end): a delay in [start, end] after each slot
    run_on_start: bool = False
    enabled: bool = True
    source: str = "config"                   # config | pillar | builtin


@dataclass(frozen=True)
class JobRecord:
    """What the scheduler remembers of one job across restarts.

    `baseline` is when the job was first seen (the origin of its first slot), `last_slot` the
    nominal time of the slot last served, `last_run` when it last started.
    """
    baseline: float
    last_slot: float | None = None
    last_run: float | None = None


def parse_schedule(data: Any, source: str = "config") -> list[ScheduledJob]:
    """Turn a `schedule:` mapping into jobs, reporting every bad entry at once (ConfigError).

    Salt's `enabled: False` at the top level disables the whole schedule.
    """
    if data is None:
        return []
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source} schedule: must be a mapping of job name to job, not {type(data).__name__}")
    if data.get("enabled") is False:
        return []
    jobs: list[ScheduledJob] = []
    errors: list[str] = []
    for name, body in data.items():
        if name == "enabled" and isinstance(body, bool):
            continue
        try:
            jobs.append(parse_job(str(name), body, source))
        except ConfigError as exc:
            errors.append(str(exc))
    if errors:
        raise ConfigError("; ".join(errors))
    return jobs


def parse_job(name: str, body: Any, source: str = "config") -> ScheduledJob:
    """One job; ConfigError naming the job and what is wrong."""
    where = f"{source} schedule job {name!r}"
    if not isinstance(body, Mapping):
        raise ConfigError(f"{where}: must be a mapping")
    unknown = sorted(set(map(str, body)) - _KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unsupported keys {', '.join(unknown)}")
    function = body.get("function")
    if not isinstance(function, str) or "." not in function:
        raise ConfigError(f"{where}: needs `function: module.function`")
    args = body.get("job_args", body.get("args", ()))
    if isinstance(args, (str, bytes)) or not isinstance(args, (list, tuple)):
        raise ConfigError(f"{where}: job_args must be a list")
    kwargs = body.get("job_kwargs", body.get("kwargs", {})) or {}
    if not isinstance(kwargs, Mapping) or not all(isinstance(k, str) for k in kwargs):
        raise ConfigError(f"{where}: kwargs must be a mapping with string keys")
    interval = _interval(body, where)
    cron = body.get("cron")
    if cron is not None:
        cron = check_cron(cron, where)
    if (interval is None) == (cron is None):
        raise ConfigError(f"{where}: needs exactly one of `cron:` or seconds/minutes/hours/days")
    return ScheduledJob(
        name=name, function=function, args=tuple(args), kwargs=dict(kwargs), interval=interval,
        cron=cron, splay=_splay(body.get("splay"), where),
        run_on_start=_bool(body.get("run_on_start", False), where, "run_on_start"),
        enabled=_bool(body.get("enabled", True), where, "enabled"), source=source)


def merge_jobs(*groups: list[ScheduledJob]) -> list[ScheduledJob]:
    """Later groups override earlier ones by name (config, then pillar); disabled jobs dropped."""
    by_name: dict[str, ScheduledJob] = {}
    for group in groups:
        for job in group:
            by_name[job.name] = job
    return [job for job in by_name.values() if job.enabled]


def drift_job(config: Mapping[str, Any] | None = None) -> ScheduledJob | None:
    """The built-in drift check (highstate in test mode plus cert/backup checks), or None if off.

    Minion config: `drift: {interval: 1800, splay: 300}`; `drift: false` turns it off.
    """
    conf: Any = {} if config is None else config
    if conf is False:
        return None
    if not isinstance(conf, Mapping):
        raise ConfigError("minion config `drift:` must be a mapping or false")
    unknown = sorted(set(map(str, conf)) - {"interval", "splay", "cert_window_days", "enabled"})
    if unknown:
        raise ConfigError(f"minion config `drift:` has unknown keys {', '.join(unknown)}")
    if conf.get("enabled") is False:
        return None
    interval = _positive(conf.get("interval", DEFAULT_DRIFT_INTERVAL), "drift interval")
    splay = _splay(conf.get("splay", DEFAULT_DRIFT_SPLAY), "drift")
    return ScheduledJob(name=DRIFT_JOB_NAME, function=DRIFT_FUNCTION, interval=interval,
                        splay=splay, source="builtin")


def mine_job(minutes: Any = DEFAULT_MINE_INTERVAL) -> ScheduledJob:
    """The built-in mine update (Salt's `mine_interval`, in minutes): every `minutes` (the
    update at start is the lifecycle's, with the pillar it reads). Minion config: `mine_interval: 60`."""
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not minutes > 0 \
            or minutes == float("inf"):
        raise ConfigError(f"minion config mine_interval must be a number of minutes above 0 "
                          f"(like `mine_interval: 60`), not {repr(minutes)[:40]}")
    return ScheduledJob(name=MINE_JOB_NAME, function=MINE_FUNCTION, interval=float(minutes) * 60.0,
                        source="builtin")


def splay_offset(job: ScheduledJob, slot: float, salt: str = "") -> float:
    """The delay after `slot` at which `job` starts: stable for a (minion, job, slot), spread over the fleet.

    Derived from a hash instead of a random draw so that the plan is a pure function and a
    restart does not move a job's start time.
    """
    start, end = job.splay
    if end <= start:
        return start
    digest = hashlib.sha256(f"{salt}\x00{job.name}\x00{slot:.3f}".encode()).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2**64
    return start + fraction * (end - start)


def next_slot(job: ScheduledJob, record: JobRecord, started_at: float) -> float:
    """The nominal time of the job's next slot (before splay).

    - run_on_start, and not run yet since this process started: the start time.
    - otherwise the regular slot (see `regular_slot`).
    One missed slot or a hundred, the result is one time in the past: the job runs once.
    """
    if job.run_on_start and (record.last_run is None or record.last_run < started_at):
        return started_at
    return regular_slot(job, record)


def regular_slot(job: ScheduledJob, record: JobRecord) -> float:
    """cron: the first cron time after the last slot served (or after the baseline);
    interval: the last slot served (or the baseline) plus the interval."""
    base = record.last_slot if record.last_slot is not None else record.baseline
    if job.cron is not None:
        return _cron_next(job.cron, base)
    assert job.interval is not None
    return base + job.interval


def due_at(job: ScheduledJob, record: JobRecord, started_at: float, salt: str = "") -> float:
    """When the job should next start: its next slot plus its splay (no splay for a start run)."""
    slot = next_slot(job, record, started_at)
    if slot == started_at and job.run_on_start:
        return slot
    return slot + splay_offset(job, slot, salt)


def mark_started(job: ScheduledJob, record: JobRecord, now: float) -> JobRecord:
    """The record after starting the job at `now`.

    The slot served becomes the latest slot at or before `now`, so slots missed while the host
    was down are folded into this one run. A run_on_start run before the regular slot leaves the
    cadence as it was.
    """
    regular = regular_slot(job, record)
    if regular > now:
        served = record.last_slot
    elif job.cron is not None:
        served = max(regular, _cron_prev(job.cron, now))
    else:
        assert job.interval is not None
        served = regular if regular + job.interval > now else now
    return replace(record, last_slot=served, last_run=now)


def _cron_next(expr: str, after: float) -> float:
    from croniter import croniter
    return float(croniter(expr, _local(after)).get_next(float))


def _cron_prev(expr: str, before: float) -> float:
    """The latest cron time at or before `before`."""
    from croniter import croniter
    nxt = float(croniter(expr, _local(before - 1e-3)).get_next(float))
    if nxt <= before:
        return nxt
    return float(croniter(expr, _local(before)).get_prev(float))


def _local(ts: float) -> datetime:
    return datetime.fromtimestamp(ts).astimezone()


def _interval(body: Mapping[str, Any], where: str) -> float | None:
    total = 0.0
    seen = False
    for unit, factor in INTERVAL_UNITS.items():
        if unit in body:
            seen = True
            value = body[unit]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ConfigError(f"{where}: {unit} must be a non-negative number")
            total += float(value) * factor
    if not seen:
        return None
    if total <= 0:
        raise ConfigError(f"{where}: the interval must be longer than 0 seconds")
    return total


def _splay(value: Any, where: str) -> tuple[float, float]:
    if value is None:
        return (0.0, 0.0)
    if isinstance(value, Mapping):
        start = _non_negative(value.get("start", 0), f"{where}: splay start")
        end = _non_negative(value.get("end", start), f"{where}: splay end")
        if end < start:
            raise ConfigError(f"{where}: splay end is before its start")
        return (start, end)
    return (0.0, _non_negative(value, f"{where}: splay"))


def _non_negative(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"{what} must be a non-negative number of seconds")
    return float(value)


def _positive(value: Any, what: str) -> float:
    number = _non_negative(value, what)
    if number <= 0:
        raise ConfigError(f"{what} must be longer than 0 seconds")
    return number


def _bool(value: Any, where: str, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {key} must be true or false")
    return value
