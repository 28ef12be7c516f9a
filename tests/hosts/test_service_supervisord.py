"""service states with the supervisord provider, on a host running a real supervisord.

A real program (Python's http.server) is defined from the state, started, reached from the test
process over the bridge, restarted when a watched state changed (its pid changes) and stopped.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from tests.hostlib import Host
from tests.hosts.conftest import apply_states, assert_test_predicts_run, state

pytestmark = pytest.mark.host


def wait_for(predicate, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def answers(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=2) as conn:
            conn.sendall(b"GET /hostname HTTP/1.0\r\n\r\n")
            return conn.makefile("rb").read().endswith(b"\n")
    except OSError:
        return False


@pytest.fixture(scope="module")
def sv_host(bridge) -> Iterator[Host]:
    with Host.start("svc1") as host:
        host.start_supervisord()
        yield host


def web(name: str, port: int, **extra) -> dict:
    return state(
        "service.running",
        name,
        provider="supervisord",
        command=f"python3 -m http.server {port} --bind 0.0.0.0 -d /etc",
        directory="/",
        environment={"LINKPEEK_ROLE": "web"},
        **extra,
    )


def program_pid(host: Host, port: int) -> int | None:
    for pid, cmd in host.processes().items():
        if f"http.server {port}" in cmd:
            return pid
    return None


def test_running_starts_a_program_defined_by_the_state(sv_host):
    real = assert_test_predicts_run(sv_host, [web("lpweb", 8081)])
    assert real[0]["changes"]["running"] == {"old": False, "new": True}
    assert real[0]["changes"]["config"]["new"]["command"].startswith("python3 -m http.server")
    assert answers(sv_host.address, 8081)
    conf = sv_host.read_text("/etc/supervisor/conf.d/lpweb.conf")
    assert "[program:lpweb]" in conf and 'LINKPEEK_ROLE="web"' in conf
    assert sv_host.path("/etc/supervisor/conf.d/lpweb.conf").stat().st_mode & 0o077 == 0  # env


def test_watch_restarts_the_program_and_its_pid_changes(sv_host):
    def run(contents: str):
        return apply_states(
            sv_host,
            [
                {**state("file.managed", "/etc/lpwatch.conf", contents=contents), "id": "appconf"},
                web("lpwatch", 8082, watch=[{"file": "appconf"}]),
            ],
        )

    first = run("v1")
    assert first[1]["changes"]["running"] == {"old": False, "new": True}
    before = program_pid(sv_host, 8082)
    assert before
    res = run("v2")[1]  # the watched file changed: restart
    assert res["result"] is True, res
    after = program_pid(sv_host, 8082)
    assert after and after != before
    assert res["changes"]["restarted"]["old"] != res["changes"]["restarted"]["new"]
    wait_for(lambda: answers(sv_host.address, 8082), "the restarted program to answer")
    res = run("v2")[1]  # nothing changed: no restart
    assert res["changes"] == {} and program_pid(sv_host, 8082) == after


def test_config_change_is_applied_and_dead_stops(sv_host):
    apply_states(sv_host, [web("lpcfg", 8083)])
    real = assert_test_predicts_run(sv_host, [web("lpcfg", 8083, stopsignal="INT")])
    assert real[0]["changes"] == {
        "config": {"old": {"stopsignal": "TERM"}, "new": {"stopsignal": "INT"}}
    }
    assert "stopsignal=INT" in sv_host.read_text("/etc/supervisor/conf.d/lpcfg.conf")
    real = assert_test_predicts_run(
        sv_host, [state("service.dead", "lpcfg", provider="supervisord")]
    )
    assert real[0]["changes"] == {"running": {"old": True, "new": False}}
    assert program_pid(sv_host, 8083) is None
    assert not answers(sv_host.address, 8083)


def test_disabled_turns_autostart_off(sv_host):
    apply_states(sv_host, [web("lpauto", 8084)])
    real = assert_test_predicts_run(
        sv_host, [state("service.disabled", "lpauto", provider="supervisord")]
    )
    assert real[0]["changes"] == {"enabled": {"old": True, "new": False}}
    assert "autostart=false" in sv_host.read_text("/etc/supervisor/conf.d/lpauto.conf")


def test_program_that_exits_at_once_fails_and_the_run_goes_on(sv_host):
    results = apply_states(
        sv_host,
        [
            state(
                "service.running",
                "lpcrash",
                provider="supervisord",
                command="python3 -c \"import sys; print('lpcrash: no config'); sys.exit(3)\"",
            ),
            web("lpafter", 8085),
        ],
    )
    assert results[0]["result"] is False
    comment = results[0]["comment"]
    assert "could not be kept running" in comment and "Check its command" in comment
    assert "lpcrash: no config" in comment  # the program's own output, to say why
    assert results[1]["result"] is True and answers(sv_host.address, 8085)
    # no restart loop left behind, and the section itself was written whole
    assert all("lpcrash" not in cmd for cmd in sv_host.processes().values())
    assert (
        sv_host.read_text("/etc/supervisor/conf.d/lpcrash.conf")
        .rstrip()
        .endswith("redirect_stderr=true")
    )


def test_unknown_program_without_command_says_what_to_do(sv_host):
    res = apply_states(sv_host, [state("service.running", "nosuchprog", provider="supervisord")])[0]
    assert res["result"] is False and "give `command:`" in res["comment"]


def test_salt_spelling_supervisord_running(sv_host):
    apply_states(sv_host, [web("lpalias", 8086)])
    res = apply_states(sv_host, [state("supervisord.running", "lpalias")])[0]
    assert res["result"] is True and res["changes"] == {}
    apply_states(sv_host, [state("supervisord.dead", "lpalias")])
    res = apply_states(sv_host, [state("supervisord.running", "lpalias")])[0]
    assert res["changes"] == {"running": {"old": False, "new": True}}
    assert answers(sv_host.address, 8086)


RELOADABLE = (
    "import signal, time\n"
    "def hup(*_):\n"
    "    open('/run/lpreload.count', 'a').write('x')\n"
    "signal.signal(signal.SIGHUP, hup)\n"
    "while True:\n"
    "    time.sleep(60)\n"
)


def test_watch_with_reload_signals_instead_of_restarting(sv_host):
    sv_host.write_text("/srv/lpreload.py", RELOADABLE)

    def run(contents: str):
        return apply_states(
            sv_host,
            [
                {**state("file.managed", "/etc/lpreload.conf", contents=contents), "id": "conf"},
                state(
                    "service.running",
                    "lpreload",
                    provider="supervisord",
                    command="python3 /srv/lpreload.py",
                    reload=True,
                    watch=[{"file": "conf"}],
                ),
            ],
        )

    run("v1")
    pid = program_pid_of(sv_host, "/srv/lpreload.py")
    res = run("v2")[1]
    assert res["result"] is True and res["changes"] == {"reloaded": True}
    sv_host.wait_for(lambda: sv_host.exists("/run/lpreload.count"), "the program to get SIGHUP")
    assert program_pid_of(sv_host, "/srv/lpreload.py") == pid


def program_pid_of(host: Host, needle: str) -> int | None:
    return next((pid for pid, cmd in host.processes().items() if needle in cmd), None)
