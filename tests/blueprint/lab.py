"""A blueprint lab: a real master on the test bridge serving states/ and a re-keyed pillar/,
and whole test hosts each running a real `lpminion` that registers, is accepted, and
converges on boot, as a user provisions a VPS. For the blueprint tests and bench/blueprint.py.

    with Lab(Path(tmp)) as lab:
        host = lab.add_host("dev1", roles=["web", "db"])     # init, start, accept
        ret = lab.wait_boot_converge("dev1")                 # the converge on boot's return
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

from core import secrets
from tests.blueprint.kit import REPO, STATES, WHEELHOUSE, write_pillar
from tests.cluster import Cluster, wait_for
from tests.hostlib import GATEWAY, Host
from tests.hostlib.offline import use_offline_apt

LPMINION = str(REPO / ".venv" / "bin" / "lpminion")


def prepare_caches() -> None:
    """The wheelhouse and offline .debs (scripts/setup.sh runs the same script)."""
    proc = subprocess.run(["bash", str(REPO / "scripts" / "blueprint-cache.sh")],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not any(WHEELHOUSE.glob("pyramid-*.whl")):
        raise RuntimeError(f"scripts/blueprint-cache.sh failed: {proc.stderr}")


class Lab(Cluster):
    """The master (on the bridge's gateway address) and the hosts its minions run in."""

    def __init__(self, root: Path, secret_values: dict[str, str] | None = None,
                 pillar_files: dict[str, str] | None = None) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.pillar_dir = root / "pillar"
        super().__init__(root, master_args=["--interface", GATEWAY, "--states", str(STATES),
                                            "--pillar", str(self.pillar_dir)])
        assert self.cli("secret", "keygen").returncode == 0
        self.public_key = secrets.load_public_key(str(self.master_dir / "pki" / "secrets" / "secrets.pub"))
        self.secrets = write_pillar(self.pillar_dir, self.public_key, secret_values, pillar_files)
        self.hosts: dict[str, Host] = {}
        self.start_master()

    def encrypt(self, pillar_path: str, value: str) -> str:
        return secrets.encrypt(self.public_key, pillar_path, value.encode())

    def add_host(self, minion_id: str, roles: list[str] | None = None, accept: bool = True) -> Host:
        """Start a bare host, `lpminion init` and `start` inside it, accept its key."""
        host = Host.start(minion_id)
        self.hosts[minion_id] = host
        use_offline_apt(host)
        grains = ["--grain", f"roles={','.join(roles)},"] if roles else []
        host.run([LPMINION, "init", "--dir", "/etc/lp", "--id", minion_id,
                  "--master", f"{GATEWAY}:{self.req_port}", "--key-port", str(self.key_port),
                  "--master-finger", self.finger, *grains], check=True)
        # 2 cores shared by every test session: give a request more than the default 5 s
        # before the link is reset (a reset fails every request then in flight).
        with open(host.path("/etc/lp/minion.yaml"), "a", encoding="utf-8") as fh:
            fh.write("request_timeout: 30\n")
        self.start_minion_in(host)
        if accept:
            self.wait_pending(minion_id, timeout=60)
            self.accept_keys(minion_id)
        return host

    @staticmethod
    def start_minion_in(host: Host) -> None:
        host.spawn([LPMINION, "-c", "/etc/lp/minion.yaml", "--log-level", "info", "start"],
                   log_name="lpminion")

    def restart_minion(self, minion_id: str) -> float:
        """Stop the host's lpminion (by its pid) and start it again, as after a reboot; the
        time it was started again (its converge on boot comes after)."""
        host = self.hosts[minion_id]
        pids = [pid for pid, cmd in host.processes().items() if f"{LPMINION} -c /etc/lp/minion.yaml" in cmd]
        for pid in pids:
            host.run(["kill", "--", str(pid)])
        wait_for(lambda: not any(p in host.processes() for p in pids), 30, what="lpminion to stop")
        started = time.time()
        self.start_minion_in(host)
        return started

    def mine(self, fun: str = "network.ip_addrs") -> dict[str, Any]:
        """{minion: value} of `fun` in the master's mine table."""
        from master.mine.store import MineStore

        store = MineStore(str(self.master_dir / "master.db"), readonly=True)
        try:
            return {mid: e.value for mid, e in store.entries(fun, sorted(self.hosts)).items()}
        finally:
            store.close()

    # -- jobs -----------------------------------------------------------------------------
    def jobs(self) -> list[dict[str, Any]]:
        return json.loads(self.cli("jobs", "list", "--json").stdout)

    def job(self, jid: str) -> dict[str, Any]:
        return json.loads(self.cli("jobs", "show", jid, "--json").stdout)

    def wait_boot_converge(self, minion_id: str, timeout: float = 600, after: float = 0) -> dict[str, Any]:
        """The return of the converge on boot (the first highstate job of that minion created
        after `after`)."""
        def returned() -> dict[str, Any] | None:
            for job in reversed(self.jobs()):
                if job["fun"] == "state.highstate" and job["minions"] == [minion_id] \
                        and job["created"] > after and job["returned"]:
                    return self.job(job["jid"])["returns"][minion_id]
            return None
        try:
            return wait_for(returned, timeout, what=f"{minion_id}'s converge on boot", step=0.5)
        except AssertionError:
            raise AssertionError(f"{minion_id} did not converge on boot; its log:\n"
                                 f"{self.hosts[minion_id].log('lpminion')[-4000:]}") from None

    def apply(self, target: str, *extra: str, timeout: float = 600) -> tuple[int, dict[str, Any]]:
        """`lpmaster apply TARGET --json`: (exit code, {minion: {state key: return}})."""
        proc = self.cli("apply", target, "--json", "--timeout", str(timeout), *extra, timeout=timeout + 30)
        data = json.loads(proc.stdout) if proc.stdout.strip() else {}
        return proc.returncode, {mid: ret for mid, ret in data.items() if isinstance(ret, dict)} or data

    def close(self) -> None:
        for mid, host in self.hosts.items():
            try:  # kept beside the master's log (LP_KEEP_TMP=1 keeps the lab's directory)
                (self.root / f"{mid}-lpminion.log").write_text(host.log("lpminion"))
            except OSError:
                pass
            host.stop()
        super().close()


def failed_states(ret: Any) -> dict[str, Any]:
    """{state key: comment} of every state that did not succeed (or the compile errors)."""
    if not isinstance(ret, dict):
        return {"compile": ret}
    return {key: r.get("comment") for key, r in ret.items()
            if isinstance(r, dict) and r.get("result") is not True}


def changed_states(ret: dict[str, Any]) -> dict[str, Any]:
    return {key: r["changes"] for key, r in ret.items() if isinstance(r, dict) and r.get("changes")}


def https_get(host: Host, path: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """curl inside `host` against its own nginx (the certificate is self-signed: -k)."""
    return host.run(["curl", "-sk", "-o", "-", "-w", "\n%{http_code}", *extra,
                     f"https://127.0.0.1{path}"], timeout=30)


def wait(predicate: Any, what: str, timeout: float = 60) -> Any:
    return wait_for(predicate, timeout, what=what, step=0.2)


__all__ = ["Lab", "changed_states", "failed_states", "https_get", "prepare_caches", "wait"]
