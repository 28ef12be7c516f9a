"""The story of the project, told on one machine: a LinkPeek server is lost and comes back with
one command, rehearsed before. scripts/demo.py narrates it; tests/drills/test_story.py checks it.

    story = Story(Path(tmp), say=print)
    story.provision()          # a master here, an off-site repository host, dev1 converged
    story.store_links(3)       # links stored through HTTPS
    story.back_up()            # dev1's database dump into the off-site repository
    story.drill()              # rehearsed onto scratch1, timed by phase
    story.lose_dev1()          # dev1's test host deleted, disk and all
    story.rebuild()            # fresh1 becomes dev1
    story.links_served()       # what dev1 (fresh1 now) serves over HTTPS
    story.close()

Every step runs the real commands a user would (`lpmaster ...`), through a real master and real
minions inside whole test hosts (tests/hostlib), with packages from the offline caches.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

from tests.blueprint.lab import LPMINION, Lab, failed_states, prepare_caches
from tests.hostlib import GATEWAY, Host, ensure_bridge
from tests.hostlib.offline import use_offline_apt
from tests.hostlib.vault import Vault

SERVER_NAME = "linkpeek.test"
DB_PASSWORD = "demo-db-password-7c41"
REPO_PASSWORD = "demo-restic-password-2f9e"


class StoryLab(Lab):
    """The blueprint lab with hosts that may carry more grains and skip the converge on boot."""

    def add_minion_host(self, minion_id: str, grains: dict[str, str], startup: str = "highstate") -> Host:
        host = Host.start(minion_id)
        self.hosts[minion_id] = host
        use_offline_apt(host)
        args = [arg for key, value in grains.items() for arg in ("--grain", f"{key}={value}")]
        host.run([LPMINION, "init", "--dir", "/var/lib/lp", "--id", minion_id,
                  "--master", f"{GATEWAY}:{self.req_port}", "--key-port", str(self.key_port),
                  "--master-finger", self.finger, "--heartbeat", "2", "--startup-states", startup, *args],
                 check=True)
        host.spawn([LPMINION, "-c", "/var/lib/lp/minion.yaml", "--log-level", "info", "start"], log_name="lpminion")
        self.wait_pending(minion_id, timeout=60)
        self.accept_keys(minion_id)
        return host


class Story:
    def __init__(self, root: Path, say: Callable[[str], None] = print,
                 show: Callable[[str], None] = print) -> None:
        self.root = root
        self.say, self.show = say, show
        self.vault: Vault | None = None
        self.lab: StoryLab | None = None
        self.links: list[str] = []
        self.timings: dict[str, float] = {}

    # -- the steps ------------------------------------------------------------------------
    def provision(self) -> dict[str, Any]:
        self.say("an off-site backup host (Debian's sshd, restic repositories over SFTP)")
        ensure_bridge()
        prepare_caches()
        self.vault = Vault.start("vault")
        self.show(f"vault: {self.vault.address}, repositories at {self.vault.repository('NAME')}")
        self.say("the master on this machine, serving the blueprint (states/, pillar/ with this demo's secrets)")
        self.lab = StoryLab(self.root / "lab", {"linkpeek:db:password": DB_PASSWORD,
                                                "backup:password": REPO_PASSWORD})
        self._backups_off_site()
        self.say("dev1: a bare Debian host; lpminion init + keys accept, and it converges itself on boot "
                 "(web and database together, as the lost server was)")
        started = time.monotonic()
        self.lab.add_minion_host("dev1", {"roles": "web,db,"})
        boot = self.lab.wait_boot_converge("dev1")
        self.timings["dev1 first converge"] = time.monotonic() - started
        if not boot["success"]:
            raise StoryError(f"dev1 did not converge: {failed_states(boot['ret'])}")
        self.show(f"dev1 converged from bare Debian in {self.timings['dev1 first converge']:.0f}s: "
                  f"{len(boot['ret'])} states")
        return boot

    def _backups_off_site(self) -> None:
        assert self.lab is not None and self.vault is not None
        key = self.lab.encrypt("backup:ssh:key", self.vault.private_key)
        (self.lab.pillar_dir / "backup" / "dev.sls").write_text(
            "# the demo's dev1 backs up off-site, to the vault host over SFTP\n"
            "backup:\n"
            f"  repository: {self.vault.repository('dev1')}\n"
            "  ssh:\n"
            f"    key: {key}\n"
            f"    known_hosts: {json.dumps(self.vault.known_hosts.strip())}\n"
            "  jobs:\n"
            "    db-nightly: {source: postgres, database: linkpeek, cron: '0 3 * * *', keep: {daily: 7}}\n")

    def address(self, minion_id: str) -> str:
        assert self.lab is not None
        return self.lab.hosts[minion_id].address

    def https(self, minion_id: str, path: str, *extra: str) -> tuple[int, str]:
        """curl from this machine to the host's nginx, by the site's name (-k: self-signed)."""
        proc = subprocess.run(["curl", "-sk", "--max-time", "20", "--resolve",
                               f"{SERVER_NAME}:443:{self.address(minion_id)}", "-o", "-", "-w",
                               "\n%{http_code}", *extra, f"https://{SERVER_NAME}{path}"],
                              capture_output=True, text=True, timeout=30)
        body, _, code = proc.stdout.rpartition("\n")
        return int(code or 0), body

    def store_links(self, count: int) -> list[str]:
        self.say(f"storing {count} links through HTTPS (POST https://{SERVER_NAME}/links)")
        for n in range(count):
            url = f"https://example.org/article/{n}"
            code, body = self.https("dev1", "/links", "-X", "POST", "-H", "Content-Type: application/json",
                                    "--data", json.dumps({"url": url}))
            if code != 201:
                raise StoryError(f"POST /links answered {code}: {body[:200]}")
            self.links.append(url)
        self.show(f"stored: {', '.join(self.links)}")
        return self.links

    def links_served(self, minion_id: str = "dev1") -> list[str]:
        code, body = self.https(minion_id, "/links.json")
        if code != 200:
            raise StoryError(f"GET /links.json answered {code}: {body[:200]}")
        return sorted(link["url"] for link in json.loads(body))

    def back_up(self) -> dict[str, Any]:
        self.say("backing dev1 up: its database dump into the off-site repository")
        proc = self.cli("run", "dev1", "backup.run", "db-nightly", "--timeout", "300", "--json")
        data = json.loads(proc.stdout or "{}").get("dev1") or {}
        if proc.returncode != 0 or not data.get("success"):
            raise StoryError(f"backup failed: {proc.stdout[-2000:]} {proc.stderr[-2000:]}")
        self.show(f"snapshot {data.get('snapshot_id')} in {self.vault.repository('dev1') if self.vault else ''}")
        return data

    def drift(self, target: str = "dev1") -> subprocess.CompletedProcess[str]:
        return self.cli("drift", target, "--refresh", "--timeout", "120")

    def drill(self) -> dict[str, Any]:
        assert self.lab is not None
        self._bare_scratch_host("scratch1", "another bare host, marked scratch (a grain), no role of its own")
        self.say("lpmaster drill dev1 --onto scratch1: converge as dev1, restore dev1's backups, verify")
        return self._drill_command("drill", "dev1", "--onto", "scratch1")

    def lose_dev1(self) -> None:
        assert self.lab is not None
        self.say("dev1 is lost: its test host is deleted, disk and all")
        self.lab.hosts.pop("dev1").stop()

    def rebuild(self) -> dict[str, Any]:
        assert self.lab is not None
        self._bare_scratch_host("fresh1", "a new bare host (marked scratch until it takes over)")
        self.say("lpmaster rebuild dev1 --onto fresh1: the drill's phases, then fresh1 becomes dev1")
        result = self._drill_command("rebuild", "dev1", "--onto", "fresh1")
        self.lab.hosts["dev1"] = self.lab.hosts.pop("fresh1")
        return result

    def _bare_scratch_host(self, minion_id: str, what: str) -> None:
        assert self.lab is not None
        self.say(f"{minion_id}: {what}")
        self.lab.add_minion_host(minion_id, {"scratch": "true"}, startup="none")
        self.lab.wait_answering(minion_id, timeout=60, ping_timeout=3)

    def _drill_command(self, *args: str) -> dict[str, Any]:
        proc = self.cli(*args, "--yes", "--json", timeout=3600)
        if not proc.stdout.strip():
            raise StoryError(f"lpmaster {args[0]} printed nothing: {proc.stderr[-2000:]}")
        result: dict[str, Any] = json.loads(proc.stdout)
        from master.drills.view import result_text
        self.show(result_text(result))
        if proc.returncode != 0:
            raise StoryError(f"{args[0]} failed in phase {result.get('failed_phase')}: {result.get('reason')}")
        return result

    def cli(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        assert self.lab is not None
        return self.lab.cli(*args, timeout=timeout)

    def close(self) -> None:
        if self.lab is not None:
            if os.environ.get("LP_KEEP_TMP") == "1":   # the hosts' logs, kept for a post-mortem
                for mid, host in self.lab.hosts.items():
                    (self.root / f"{mid}-lpminion.log").write_text(host.log("lpminion"))
            self.lab.close()
        if self.vault is not None:
            self.vault.stop()


class StoryError(RuntimeError):
    """A step of the story did not go as it should (the message says which and why)."""
