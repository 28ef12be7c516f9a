"""X.509 certificates among the files that `file.managed` states manage, and which expire soon.

    paths = managed_paths(lowstate)                  # names of file.managed chunks
    certs = find_certificates(paths)                 # every PEM certificate in those files
    soon  = expiring(certs, now=time.time())         # within 21 days (or already expired)

Reads only regular files, at most 1 MiB each, and parses only CERTIFICATE blocks (a managed
private key is read but never parsed, kept or logged).
"""
from __future__ import annotations

import logging
import os
import re
import stat
from dataclasses import dataclass
from typing import Any, Iterable

from core.drift import ExpiringCert

log = logging.getLogger(__name__)

DEFAULT_WINDOW_DAYS = 21.0
MAX_FILE_BYTES = 1024 * 1024
_PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----\s.*?-----END CERTIFICATE-----", re.S)


@dataclass(frozen=True)
class CertInfo:
    path: str
    subject: str
    not_after: float       # epoch seconds


def managed_paths(lowstate: Iterable[Any]) -> list[str]:
    """The paths of `file.managed` chunks (LowChunk objects or Salt-style dicts), in plan order."""
    out: list[str] = []
    for chunk in lowstate:
        state = _field(chunk, "state")
        fun = _field(chunk, "fun")
        name = _field(chunk, "name")
        if state == "file" and fun == "managed" and isinstance(name, str) and name not in out:
            out.append(name)
    return out


def find_certificates(paths: Iterable[str]) -> list[CertInfo]:
    """Every PEM certificate in these files; missing, unreadable or non-regular files are skipped."""
    found: list[CertInfo] = []
    for path in paths:
        data = _read_small_regular(path)
        if data is None or b"-----BEGIN CERTIFICATE-----" not in data:
            continue
        found.extend(_parse_pem_certs(path, data))
    return found


def expiring(certs: Iterable[CertInfo], now: float, window_days: float = DEFAULT_WINDOW_DAYS) -> list[ExpiringCert]:
    """Certificates whose expiry is within `window_days` of `now` (already expired ones included)."""
    out = []
    for cert in certs:
        days_left = (cert.not_after - now) / 86400.0
        if days_left <= window_days:
            out.append(ExpiringCert(path=cert.path, subject=cert.subject, not_after=cert.not_after,
                                    days_left=round(days_left, 2)))
    return sorted(out, key=lambda c: c.days_left)


def _parse_pem_certs(path: str, data: bytes) -> list[CertInfo]:
    from cryptography import x509

    out = []
    for block in _PEM_CERT.findall(data):
        try:
            cert = x509.load_pem_x509_certificate(block)
        except ValueError as exc:
            log.warning("certificate in %s does not parse: %s", path, exc)
            continue
        out.append(CertInfo(path=path, subject=cert.subject.rfc4514_string(),
                            not_after=cert.not_valid_after_utc.timestamp()))
    return out


def _read_small_regular(path: str) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE_BYTES:
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(MAX_FILE_BYTES)
    except OSError:
        return None
    finally:
        os.close(fd)


def _field(chunk: Any, key: str) -> Any:
    if isinstance(chunk, dict):
        return chunk.get(key)
    return getattr(chunk, key, None)
