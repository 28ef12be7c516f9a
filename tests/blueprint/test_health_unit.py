"""Health checks against real servers on loopback: HTTP, HTTPS verified against a CA for a
server name, self-signed skipped, TCP; command checks through the services' runner."""

from __future__ import annotations

import http.server
import ssl
import threading

import pytest

from core.errors import ConfigError
from master.health.checks import parse_checks
from master.health.run import run_checks
from tests.blueprint.certs import ca_and_server


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/healthz":
            body, status = b"ok\n", 200
        elif self.path == "/down":
            body, status = b"database unavailable\n", 503
        else:
            body, status = b"", 301
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Host", self.headers.get("Host", ""))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    ca, cert, key = ca_and_server("linkpeek.example.org")
    d = tmp_path_factory.mktemp("tls")
    (d / "cert.pem").write_text(cert)
    (d / "key.pem").write_text(key)
    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tls = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(d / "cert.pem"), str(d / "key.pem"))
    tls.socket = context.wrap_socket(tls.socket, server_side=True)
    for server in (plain, tls):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"http": plain.server_address[1], "https": tls.server_address[1], "ca": ca}
    plain.shutdown()
    tls.shutdown()


class Services:
    def __init__(self):
        self.commands = []

    def address_of(self, target_id):
        return "127.0.0.1"

    def run_command(self, target_id, command, timeout):
        self.commands.append((target_id, command))
        return command == "true", "exit 0" if command == "true" else "exit 1"


def checks(**specs):
    return {"checks": specs}


def test_http_status_and_text(servers):
    port = servers["http"]
    report = run_checks(Services(), checks(
        up={"type": "http", "url": f"http://{{address}}:{port}/healthz", "text": "ok"},
        redirect={"type": "http", "url": f"http://{{address}}:{port}/", "status": 301},
        down={"type": "http", "url": f"http://{{address}}:{port}/down"},
        wrong_text={"type": "http", "url": f"http://{{address}}:{port}/healthz", "text": "nope"},
    ), "web1")
    results = {r.name: r for r in report.results}
    assert results["up"].healthy and results["redirect"].healthy
    assert not results["down"].healthy and "503" in results["down"].detail
    assert not results["wrong_text"].healthy
    assert not report.healthy


def test_https_verified_against_the_ca_for_the_server_name(servers):
    url = f"https://{{address}}:{servers['https']}/healthz"
    good = run_checks(Services(), checks(tls={"type": "http", "url": url, "ca_pem": servers["ca"],
                                              "server_name": "linkpeek.example.org"}), "web1")
    assert good.healthy, good.to_json()
    wrong_name = run_checks(Services(), checks(tls={"type": "http", "url": url, "ca_pem": servers["ca"],
                                                    "server_name": "other.example.org"}), "web1")
    assert not wrong_name.healthy and "TLS verification failed" in wrong_name.results[0].detail
    system_cas = run_checks(Services(), checks(tls={"type": "http", "url": url}), "web1")
    assert not system_cas.healthy
    skipped = run_checks(Services(), checks(tls={"type": "http", "url": url, "verify": False}), "web1")
    assert skipped.healthy


def test_tcp_and_command_checks(servers):
    services = Services()
    report = run_checks(services, checks(
        port={"type": "tcp", "port": servers["http"]},
        command_ok={"type": "command", "command": "true"},
        command_bad={"type": "command", "command": "false"},
    ), "db1", address="127.0.0.1")
    results = {r.name: r.healthy for r in report.results}
    assert results == {"port": True, "command_ok": True, "command_bad": False}
    assert services.commands == [("db1", "false"), ("db1", "true")]  # on the minion checked


def test_bad_declarations_are_reported_not_raised():
    report = run_checks(Services(), checks(x={"type": "ping"}), "web1")
    assert not report.healthy and "type must be one of" in report.error
    with pytest.raises(ConfigError):
        parse_checks({"checks": {"x": {"type": "http", "url": "ftp://a/"}}})
    with pytest.raises(ConfigError):
        parse_checks({"checks": {"x": {"type": "tcp", "port": 99999}}})
    assert run_checks(Services(), None, "web1").healthy  # nothing declared


@pytest.mark.parametrize("kind", [["http"], {"http": None}])
def test_a_type_that_is_a_list_or_mapping_is_a_clear_error_naming_the_check(kind):
    with pytest.raises(ConfigError, match=r"health check https-healthz: type must be one of http, tcp, command"):
        parse_checks({"checks": {"https-healthz": {"type": kind, "url": "https://{address}/"}}})
    report = run_checks(Services(), checks(web={"type": kind}), "web1")
    assert not report.healthy and "health check web: type must be one of" in report.error
