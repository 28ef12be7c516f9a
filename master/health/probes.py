"""The master's side of a health check: one HTTP request, or one TCP connection, bounded."""
from __future__ import annotations

import http.client
import socket
import ssl
from urllib.parse import urlsplit

from master.health.checks import HttpCheck, TcpCheck

MAX_BODY = 64 * 1024


def _tls_context(check: HttpCheck) -> ssl.SSLContext:
    if not check.verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=check.ca_file, cadata=check.ca_pem)


class _Connection(http.client.HTTPSConnection):
    """HTTPS to an address, with TLS SNI and hostname checking against `server_name`."""

    def __init__(self, host: str, port: int | None, timeout: float, context: ssl.SSLContext,
                 server_name: str | None) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._server_name = server_name

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self._server_name or self.host)


def http_probe(check: HttpCheck, url: str) -> tuple[bool, str]:
    """(healthy, what was seen) for one GET of `url` (redirects are not followed)."""
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.hostname or ""
    try:
        if parts.scheme == "https":
            conn: http.client.HTTPConnection = _Connection(host, parts.port, check.timeout,
                                                           _tls_context(check), check.server_name)
        else:
            conn = http.client.HTTPConnection(host, parts.port, timeout=check.timeout)
        try:
            headers = {"User-Agent": "lpmaster-health", "Connection": "close"}
            if check.server_name:
                headers["Host"] = check.server_name
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read(MAX_BODY).decode("utf-8", "replace")
        finally:
            conn.close()
    except ssl.SSLCertVerificationError as exc:
        return False, f"TLS verification failed: {exc.verify_message or exc}"
    except (OSError, http.client.HTTPException) as exc:
        return False, f"{type(exc).__name__}: {exc}"
    if response.status != check.status:
        return False, f"status {response.status}, expected {check.status}"
    if check.text is not None and check.text not in body:
        return False, f"status {response.status} but {check.text!r} is not in the body"
    return True, f"status {response.status}" + (f", body has {check.text!r}" if check.text else "")


def tcp_probe(check: TcpCheck, host: str) -> tuple[bool, str]:
    try:
        with socket.create_connection((host, check.port), check.timeout):
            return True, f"{host}:{check.port} accepts connections"
    except OSError as exc:
        return False, f"{host}:{check.port}: {exc.strerror or exc}"
