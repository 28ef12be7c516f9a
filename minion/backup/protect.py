"""What a files restore leaves alone: in place, the host's identity and the running minion's
own config, key and state (a drill restoring SOURCE's /etc onto SCRATCH must not turn SCRATCH
into SOURCE); always, the job's `exclude:` and the restore's own `exclude=` patterns.

    rules = Rules.for_restore(in_place=True, own=[cfg.root, cfg.pki_dir, config_path],
                              job_exclude=job.exclude, exclude=["/etc/myapp/local.conf"])
    excludes, skipped = rules.plan(paths)   # restic --exclude values, [{path, why}]

Each skipped node is named once (its topmost skipped ancestor) and handed to restic as an
exact, escaped, anchored path, so restic leaves out exactly what the result reports.
User patterns follow restic's: `/`-anchored or matching at any depth, `*`, `?`, `[..]`, `**`.
"""
from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from core.errors import ConfigError

HOST_IDENTITY = (
    ("/etc/linkpeek-ops", "this host's linkpeek-ops config and minion key"),
    ("/var/lib/linkpeek-ops", "this host's linkpeek-ops state and keys"),
    ("/etc/hostname", "this host's identity"),
    ("/etc/hosts", "this host's identity"),
    ("/etc/machine-id", "this host's identity"),
    ("/var/lib/dbus/machine-id", "this host's identity"),
    ("/etc/ssh/ssh_host_*", "this host's SSH host keys"),
)
OWN_WHY = "the running minion's own config, key or state"
MAX_PATTERN = 4096


@dataclass(frozen=True)
class Rule:
    pattern: str
    why: str
    literal: bool = False
    want: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "want", tuple(p for p in self.pattern.split("/") if p))

    def matches(self, path: str) -> bool:
        """True when this rule selects `path` or one of its ancestors (as restic's filter does)."""
        return self.matches_parts(path.split("/")[1:])

    def matches_parts(self, parts: list[str]) -> bool:
        """`matches` for a path already split (its parts after the leading `/`)."""
        want = self.want
        if self.literal:
            return tuple(parts[:len(want)]) == want
        starts = [0] if self.pattern.startswith("/") else range(len(parts))
        return any(_prefix_match(want, parts[i:]) for i in starts)


@dataclass(frozen=True)
class Rules:
    rules: tuple[Rule, ...]

    @classmethod
    def for_restore(cls, *, in_place: bool, own: Iterable[str] = (), job_exclude: Sequence[str] = (),
                    exclude: Sequence[str] = ()) -> Rules:
        rules: list[Rule] = []
        if in_place:
            rules += [Rule(p, why) for p, why in HOST_IDENTITY]
            rules += [Rule(os.path.normpath(p), OWN_WHY, literal=True)
                      for p in own if p and os.path.isabs(p) and os.path.normpath(p) != "/"]
        rules += [Rule(p, f"the job's exclude: {p}") for p in check_patterns(job_exclude, "the job's exclude:")]
        rules += [Rule(p, f"exclude={p}") for p in check_patterns(exclude, "exclude=")]
        return cls(tuple(rules))

    def plan(self, paths: Iterable[str]) -> tuple[list[str], list[dict[str, str]]]:
        """(restic --exclude values, [{path, why}]) for the snapshot's node `paths`."""
        skipped: list[dict[str, str]] = []
        tops: list[str] = []
        top_set: set[str] = set()
        for path in sorted(set(paths)):
            if under_any(path, top_set):
                continue
            parts = path.split("/")[1:]
            rule = next((r for r in self.rules if r.matches_parts(parts)), None)
            if rule is not None:
                tops.append(path)
                top_set.add(path)
                skipped.append({"path": path, "why": rule.why})
        return [exact_pattern(p) for p in tops], skipped


def parse_exclude(value: Any) -> list[str]:
    """`exclude=` from a job's arguments: a list, or one comma-separated string."""
    if value in (None, "", [], ()):
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ConfigError("exclude= must be a list of paths or patterns (or one comma-separated string)")


def check_patterns(patterns: Sequence[str], where: str) -> list[str]:
    out = []
    for p in patterns:
        if not isinstance(p, str) or not p.strip() or "\x00" in p or len(p) > MAX_PATTERN:
            raise ConfigError(f"{where} holds an unusable pattern {str(p)[:200]!r}")
        if any(part in (".", "..") for part in p.split("/")):
            raise ConfigError(f"{where} pattern {p[:200]!r} may not hold `.` or `..` parts")
        out.append(p)
    return out


def _prefix_match(want: Sequence[str], parts: list[str]) -> bool:
    if not want:
        return True
    if want[0] == "**":
        return any(_prefix_match(want[1:], parts[i:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], want[0]) and _prefix_match(want[1:], parts[1:])


def under_any(path: str, tops: set[str]) -> bool:
    """Whether `path` is one of `tops` or lies under one."""
    parts = path.split("/")
    return any("/".join(parts[:i]) in tops for i in range(2, len(parts) + 1))


def exact_pattern(path: str) -> str:
    """`path` as a restic --exclude pattern that matches that path only (glob characters escaped)."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in path)
