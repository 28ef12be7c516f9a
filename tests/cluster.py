"""A real master and its minions as processes on loopback, for tests and benches.

`Cluster` lays out one directory: ROOT/master (made by `lpmaster init` with free random
ports), ROOT/<id> for each minion (`lpminion init`), ROOT/<name>.log for each process.
It starts and stops the processes, accepts keys, waits until minions answer and runs
`lpmaster` commands. `close()` stops every process it started, also after a failure.
Every wait polls with a deadline; nothing sleeps a fixed time to pass.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

STARTUP_TIMEOUT = 30.0
VENV_BIN = Path(sys.executable).parent


def free_ports(n: int) -> list[int]:
    """`n` distinct TCP ports free on 127.0.0.1 right now."""
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def wait_for(predicate: Callable[[], Any], timeout: float = STARTUP_TIMEOUT, what: str = "condition",
             step: float = 0.05) -> Any:
    """Poll `predicate` until it returns something true (returned); fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(step)


class Cluster:
    """A master and its minions as real processes under one directory.

    `master_args` go to `lpmaster init`; `minion_args` to every `lpminion init` and
    `minion_config` is appended to every minion.yaml. `log_level` is passed to the daemons
    (None: their default).
    """

    def __init__(self, root: Path, lpmaster: str | None = None, lpminion: str | None = None, *,
                 master_args: Sequence[str] = (), minion_args: Sequence[str] = (),
                 minion_config: str = "", log_level: str | None = "info") -> None:
        self.root = Path(root)
        self.lpmaster = lpmaster or str(VENV_BIN / "lpmaster")
        self.lpminion = lpminion or str(VENV_BIN / "lpminion")
        self.minion_args, self.minion_config, self.log_level = list(minion_args), minion_config, log_level
        self.pub_port, self.req_port, self.key_port = free_ports(3)
        self.master_dir = self.root / "master"
        self.master_cfg = str(self.master_dir / "master.yaml")
        self.master_proc: subprocess.Popen[bytes] | None = None
        self.minions: dict[str, subprocess.Popen[bytes]] = {}
        self.others: list[subprocess.Popen[bytes]] = []
        self.log_paths: dict[str, Path] = {}
        out = self.cli("init", "--dir", str(self.master_dir), "--interface", "127.0.0.1",
                       "--publish-port", str(self.pub_port), "--request-port", str(self.req_port),
                       "--key-port", str(self.key_port), *master_args, config=False)
        assert out.returncode == 0, out.stderr
        self.finger = self.cli("keys", "finger", "--master").stdout.strip()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- commands ------------------------------------------------------------------------

    def cli(self, *args: str, config: bool = True, input: str | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run one `lpmaster` command (with this master's config) and capture its output."""
        argv = [self.lpmaster] + (["-c", self.master_cfg] if config else []) + list(args)
        return subprocess.run(argv, capture_output=True, text=True, input=input, timeout=timeout)

    def run_json(self, *args: str) -> tuple[int, dict[str, Any], str]:
        """`lpmaster run ARGS --out json` (Salt's {minion: return}): (exit code, parsed returns, stderr)."""
        res = self.cli("run", *args, "--out", "json")
        data = json.loads(res.stdout) if res.stdout.strip() else {}
        return res.returncode, data, res.stderr

    def keys(self) -> dict[str, list[str]]:
        return json.loads(self.cli("keys", "list", "--json").stdout)

    def events(self) -> list[dict[str, Any]]:
        """`lpmaster events --json --limit 1000`: the event log, oldest first."""
        proc = self.cli("events", "--json", "--limit", "1000")
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    def add_master_config(self, text: str) -> None:
        """Append YAML lines to master.yaml (before the master starts)."""
        with open(self.master_cfg, "a", encoding="utf-8") as fh:
            fh.write(text)

    def write_states(self, files: Mapping[str, str]) -> None:
        """Write {path relative to the master's state tree: text} into it."""
        self._write_under("states", files)

    def write_pillar(self, files: Mapping[str, str]) -> None:
        """Write {path relative to the master's pillar tree: text} into it."""
        self._write_under("pillar", files)

    def _write_under(self, tree: str, files: Mapping[str, str]) -> None:
        for rel, text in files.items():
            path = self.master_dir / tree / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)

    def secret(self, key: str, value: str) -> str:
        """`lpmaster secret encrypt --key KEY` of `value` (on stdin): the ENC token for pillar."""
        proc = self.cli("secret", "encrypt", "--key", key, input=value)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    # -- processes -----------------------------------------------------------------------

    def start_process(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        """Start another process (output to ROOT/<name>.log) that `close()` stops too."""
        proc = self._spawn(name, argv)
        self.others.append(proc)
        return proc

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        path = self.log_paths.setdefault(name, self.root / f"{name}.log")
        log = open(path, "ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        try:
            return subprocess.Popen(argv, stdout=log, stderr=log, env=env)
        finally:
            log.close()

    def _daemon(self, binary: str, cfg: str, command: str) -> list[str]:
        level = ["--log-level", self.log_level] if self.log_level else []
        return [binary, "-c", cfg, *level, command]

    def start_master(self, wrap: Sequence[str] = ()) -> None:
        """Start `lpmaster serve` (after `wrap`, e.g. a profiler's argv); return once its
        control socket answers."""
        self.master_proc = self._spawn("master", [*wrap, *self._daemon(self.lpmaster, self.master_cfg, "serve")])
        sock = str(self.master_dir / "run" / "master.sock")
        wait_for(lambda: os.path.exists(sock) and self._control_ok(sock), what="master control socket")

    @staticmethod
    def _control_ok(path: str) -> bool:
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path)
            s.sendall(b'{"op": "ping"}\n')
            return b"done" in s.recv(100)
        except OSError:
            return False
        finally:
            s.close()

    def stop_master(self, sig: int = signal.SIGTERM) -> int:
        """Signal the master and return its exit code."""
        assert self.master_proc is not None
        self.master_proc.send_signal(sig)
        code = self.master_proc.wait(timeout=30)
        self.master_proc = None
        return code

    def minion_dir(self, mid: str) -> Path:
        return self.root / mid

    def init_minion(self, mid: str, *extra: str, finger: str | None = None, config: str = "") -> str:
        """`lpminion init` for `mid` (trusting this master unless --trust-first-use); its config path."""
        d = self.minion_dir(mid)
        trust = ["--master-finger", finger or self.finger] if "--trust-first-use" not in extra else []
        res = subprocess.run([self.lpminion, "init", "--dir", str(d), "--id", mid,
                              "--master", f"127.0.0.1:{self.req_port}", "--key-port", str(self.key_port),
                              *self.minion_args, *trust, *extra], capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stderr
        if self.minion_config or config:
            with open(d / "minion.yaml", "a", encoding="utf-8") as fh:
                fh.write(self.minion_config + config)
        return str(d / "minion.yaml")

    def start_minion(self, mid: str) -> subprocess.Popen[bytes]:
        """Start `lpminion start` for an initialised minion; output to ROOT/<id>.log."""
        proc = self._spawn(mid, self._daemon(self.lpminion, str(self.minion_dir(mid) / "minion.yaml"), "start"))
        self.minions[mid] = proc
        return proc

    def stop_minion(self, mid: str) -> None:
        """SIGTERM one minion and wait for it (killed if it does not stop)."""
        self._stop([self.minions.pop(mid)], timeout=20)

    def add_minions(self, *mids: str, accept: bool = True,
                    args: Callable[[str], Sequence[str]] = lambda mid: ()) -> None:
        """Init and start minions; wait until their keys are pending; accept them and wait
        until they answer a ping (unless accept=False). `args(mid)` adds `lpminion init` options."""
        for mid in mids:
            self.init_minion(mid, *args(mid))
            self.start_minion(mid)
        self.wait_pending(*mids)
        if accept:
            self.accept_keys(*mids)
            self.wait_answering(*mids)

    def wait_pending(self, *mids: str, timeout: float = STARTUP_TIMEOUT) -> None:
        wait_for(lambda: set(mids) <= set(self.keys()["pending"]), timeout, what=f"keys {mids} pending",
                 step=0.1)

    def accept_keys(self, *targets: str) -> None:
        """`lpmaster keys accept TARGET --yes` for each id or glob."""
        for target in targets:
            res = self.cli("keys", "accept", target, "--yes")
            assert res.returncode == 0, res.stderr

    def wait_answering(self, *mids: str, timeout: float = STARTUP_TIMEOUT, ping_timeout: float = 1) -> None:
        """Wait until one `lpmaster run` of test.ping gets True from every one of `mids`."""
        def all_answer() -> bool:
            code, data, _ = self.run_json(",".join(mids), "test.ping", "-t", "list",
                                          "--timeout", str(ping_timeout))
            return code == 0 and data == {m: True for m in mids}
        wait_for(all_answer, timeout, what=f"minions {mids} answering", step=0.1)

    def minion_log(self, mid: str) -> str:
        return self.log_paths[mid].read_text(errors="replace")

    def master_log(self) -> str:
        return self.log_paths["master"].read_text(errors="replace")

    def logs(self) -> list[Path]:
        """Every log file written so far (master and minions)."""
        return list(self.log_paths.values())

    @staticmethod
    def _stop(procs: list[subprocess.Popen[bytes]], timeout: float) -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def close(self) -> None:
        """Stop every process this cluster started (SIGTERM, then SIGKILL after 20 s)."""
        procs = list(self.minions.values()) + self.others + ([self.master_proc] if self.master_proc else [])
        self._stop(procs, timeout=20)
