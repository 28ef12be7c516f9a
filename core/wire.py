"""The wire protocol as pure code: a msgpack codec with hard limits, and the message types.

No sockets here. Every message on the wire is a msgpack map with a protocol version `v`
and a `type`; `decode` refuses anything oversized, too deep, with ext types or with
non-string keys, and raises WireError (never anything else) so a daemon can log and drop.

    >>> decode(encode({"v": PROTOCOL_VERSION, "type": "heartbeat"}))["type"]
    'heartbeat'

Typed messages are frozen dataclasses with `to_map()` and a validating `from_map()`:
`Job` (what the master publishes), `Return` (what a minion sends back). Request types a
later part adds (pillar, file, drift) can stay plain maps validated by their handler.
"""
from __future__ import annotations

import os
import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

import msgpack

from core.errors import ProtocolVersionError, WireError

PROTOCOL_VERSION = 1
MIN_PROTOCOL_VERSION = 1

MAX_MESSAGE_BYTES = 4 * 1024 * 1024   # also the sockets' MAXMSGSIZE
MAX_DEPTH = 32
MAX_CONTAINER_LEN = 100_000
MAX_STR_BYTES = MAX_MESSAGE_BYTES

# Minion ids: what a file name and a pub/sub topic can carry safely. Anchored with \Z, not
# `$` (which also matches before a trailing newline), so `.match` checks the whole string.
MINION_ID_RE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")
FUNCTION_RE = re.compile(r"\A[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*\Z")
JID_RE = re.compile(r"\A[0-9]{20}[0-9a-f]{6}\Z")

# How far a job's creation may lie in the future before a minion refuses it (clock skew).
MAX_CLOCK_SKEW_S = 300.0


def _ext_refused(code: int, data: bytes) -> Any:
    raise WireError(f"msgpack ext type {code} not allowed")


def _unique_pairs(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    """A map from msgpack's pairs; a key given twice is refused (no last-one-wins)."""
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[Any] = set()
        for key, _ in pairs:
            if key in seen:
                raise WireError(f"map has a duplicate key {str(key)[:40]!r}")
            seen.add(key)
    return out


def encode(message: Mapping[str, Any]) -> bytes:
    """Pack a map; refuse what `decode` on the other side would refuse (size)."""
    try:
        data = msgpack.packb(message, use_bin_type=True, strict_types=False)
    except (TypeError, ValueError, OverflowError) as exc:
        raise WireError(f"cannot encode message: {exc}") from exc
    if len(data) > MAX_MESSAGE_BYTES:
        raise WireError(f"message of {len(data)} bytes exceeds the {MAX_MESSAGE_BYTES}-byte limit")
    return data


def decode(data: bytes) -> dict[str, Any]:
    """Unpack one message map with hard limits; check its version and type.

    Raises WireError (ProtocolVersionError for a refused version) and nothing else.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise WireError("message is not bytes")
    if len(data) > MAX_MESSAGE_BYTES:
        raise WireError(f"message of {len(data)} bytes exceeds the {MAX_MESSAGE_BYTES}-byte limit")
    try:
        obj = msgpack.unpackb(
            bytes(data), raw=False, strict_map_key=True, ext_hook=_ext_refused,
            object_pairs_hook=_unique_pairs,
            max_str_len=MAX_STR_BYTES,
            max_bin_len=MAX_STR_BYTES, max_array_len=MAX_CONTAINER_LEN,
            max_map_len=MAX_CONTAINER_LEN, max_ext_len=0, timestamp=0,
        )
    except WireError:
        raise
    except Exception as exc:  # msgpack raises several types (ExtraData, ValueError, ...)
        raise WireError(f"malformed msgpack: {type(exc).__name__}") from exc
    if not isinstance(obj, dict):
        raise WireError("message is not a map")
    check_shape(obj)
    version = obj.get("v")
    if not isinstance(version, int) or isinstance(version, bool):
        raise WireError("message has no protocol version")
    if version < MIN_PROTOCOL_VERSION:
        raise ProtocolVersionError(f"protocol version {version} is below the minimum {MIN_PROTOCOL_VERSION}")
    if version > PROTOCOL_VERSION:
        raise ProtocolVersionError(f"protocol version {version} is above this side's {PROTOCOL_VERSION}; "
                                   "upgrade linkpeek-ops here")
    mtype = obj.get("type")
    if not isinstance(mtype, str) or not mtype:
        raise WireError("message has no type")
    return obj


def check_shape(obj: Any) -> None:
    """Depth limit and string-only map keys, checked without recursion."""
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise WireError(f"message nested deeper than {MAX_DEPTH}")
        if isinstance(node, dict):
            for key, value in node.items():
                if not isinstance(key, str):
                    raise WireError("map keys must be strings")
                if isinstance(value, (dict, list)):
                    stack.append((value, depth + 1))
        elif isinstance(node, list):
            for value in node:
                if isinstance(value, (dict, list)):
                    stack.append((value, depth + 1))


def message(mtype: str, **fields: Any) -> dict[str, Any]:
    """A message map with the current protocol version."""
    return {"v": PROTOCOL_VERSION, "type": mtype, **fields}


def error_reply(text: str, rid: Any = None) -> dict[str, Any]:
    """The reply for a refused or failed request."""
    reply = message("error", error=text)
    if rid is not None:
        reply["rid"] = rid
    return reply


def check_minion_id(minion_id: Any) -> str:
    """Validate a minion id (safe as a file name and a topic); return it."""
    if not isinstance(minion_id, str) or not MINION_ID_RE.fullmatch(minion_id):
        raise WireError(f"invalid minion id {str(minion_id)[:80]!r}: use letters, digits, '.', '_', '-'")
    return minion_id


def new_jid(now: float | None = None) -> str:
    """A unique, sortable job id: UTC time to the microsecond plus 24 random bits."""
    now = time.time() if now is None else now
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(now)) + f"{int(now % 1 * 1_000_000):06d}"
    return stamp + os.urandom(3).hex()


def job_topic(minion_id: str) -> bytes:
    """The pub/sub topic that reaches exactly one minion (the NUL stops prefix matches)."""
    return b"j/" + minion_id.encode() + b"\x00"


@dataclass(frozen=True)
class Job:
    """A job as published: never carries secrets (every targeted minion sees it)."""

    jid: str
    fun: str
    arg: tuple[Any, ...] = ()
    kwarg: Mapping[str, Any] = field(default_factory=dict)
    tgt: str = "*"
    tgt_type: str = "glob"
    created: float = 0.0
    expires: float = 0.0

    def to_map(self) -> dict[str, Any]:
        data = asdict(self)
        data["arg"] = list(self.arg)
        data["kwarg"] = dict(self.kwarg)
        return message("job", **data)

    @classmethod
    def from_map(cls, data: Mapping[str, Any]) -> "Job":
        if data.get("type") != "job":
            raise WireError("not a job")
        jid, fun = data.get("jid"), data.get("fun")
        if not isinstance(jid, str) or not JID_RE.fullmatch(jid):
            raise WireError("job has an invalid jid")
        if not isinstance(fun, str) or not FUNCTION_RE.fullmatch(fun):
            raise WireError(f"job has an invalid function name {str(fun)[:80]!r}")
        arg, kwarg = data.get("arg", []), data.get("kwarg", {})
        if not isinstance(arg, list) or not isinstance(kwarg, dict):
            raise WireError("job arg must be a list and kwarg a map")
        created, expires = data.get("created"), data.get("expires")
        if not isinstance(created, (int, float)) or not isinstance(expires, (int, float)):
            raise WireError("job has no created/expires times")
        tgt, tgt_type = data.get("tgt", ""), data.get("tgt_type", "glob")
        if not isinstance(tgt, str) or not isinstance(tgt_type, str):
            raise WireError("job target must be a string")
        return cls(jid=jid, fun=fun, arg=tuple(arg), kwarg=dict(kwarg), tgt=tgt,
                   tgt_type=tgt_type, created=float(created), expires=float(expires))

    def freshness_error(self, now: float | None = None) -> str | None:
        """Why a minion must refuse this job now (expired, or dated too far ahead), or None."""
        now = time.time() if now is None else now
        if self.expires <= now:
            return f"job {self.jid} expired {now - self.expires:.1f}s ago"
        if self.created > now + MAX_CLOCK_SKEW_S:
            return f"job {self.jid} is dated {self.created - now:.0f}s in the future"
        if self.expires - self.created > 7 * 86400:
            return f"job {self.jid} claims an expiry more than a week after its creation"
        return None


@dataclass(frozen=True)
class Return:
    """What a minion returns for a job. `success` False means the function failed."""

    jid: str
    fun: str
    success: bool
    ret: Any = None
    retcode: int = 0

    def to_map(self) -> dict[str, Any]:
        return message("return", jid=self.jid, fun=self.fun, success=self.success,
                       ret=self.ret, retcode=self.retcode)

    @classmethod
    def from_map(cls, data: Mapping[str, Any]) -> "Return":
        jid, fun, success = data.get("jid"), data.get("fun"), data.get("success")
        if not isinstance(jid, str) or not JID_RE.fullmatch(jid):
            raise WireError("return has an invalid jid")
        if not isinstance(fun, str) or len(fun) > 200:
            raise WireError("return has an invalid function name")
        if not isinstance(success, bool):
            raise WireError("return has no success flag")
        retcode = data.get("retcode", 0)
        if not isinstance(retcode, int) or isinstance(retcode, bool):
            raise WireError("return has an invalid retcode")
        return cls(jid=jid, fun=fun, success=success, ret=data.get("ret"), retcode=retcode)
