"""The demo's story on whole test hosts, with a small app instead of the whole blueprint:
app1 serves links over HTTP from files it backs up off-site (restic over SFTP to a real sshd
host); a drill onto scratch1 passes and serves the same links there; app1's host is deleted;
`lpmaster rebuild app1 --onto fresh1` brings the links back on fresh1, now app1, with its old
key revoked, and drift clean. The full blueprint's story is scripts/demo.py (minutes long).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path

import pytest

from tests.cluster import Cluster, wait_for
from tests.hostlib import GATEWAY, Host, ensure_bridge
from tests.hostlib.vault import Vault
from tests.hosts.conftest import LPMINION

pytestmark = pytest.mark.host

APP_KEY = "canary-story-app-4b7e"
REPO_PASSWORD = "canary-story-restic-91d0"
LINKS = "https://example.org/article/0\nhttps://example.org/article/1\n"
PORT = 8080

STATES = {
    "top.sls": "base:\n  'app*':\n    - app\n",
    "app.sls": (
        "/srv/app/public:\n"
        "  file.directory:\n"
        "    - makedirs: True\n"
        "/srv/app/app.ini:\n"
        "  file.managed:\n"
        "    - contents: \"key={{ pillar['app']['key'] }}\"\n"
        "    - mode: '0600'\n"
        "app-server:\n"
        "  cmd.run:\n"
        f"    - name: setsid python3 -m http.server {PORT} --directory /srv/app/public >/dev/null 2>&1 </dev/null &\n"
        f"    - unless: python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {PORT}), 1)'\n"
        "    - require:\n"
        "      - file: /srv/app/public\n"),
}


def http_get(address: str, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://{address}:{PORT}{path}", timeout=10) as resp:
            return resp.status, resp.read().decode()
    except OSError as exc:
        return 0, str(exc)


class StoryFleet(Cluster):
    def __init__(self, root: Path) -> None:
        super().__init__(root, master_args=["--interface", GATEWAY])
        self.hosts: dict[str, Host] = {}

    def add_host(self, mid: str, *grains: str) -> Host:
        host = Host.start(mid)
        self.hosts[mid] = host
        args = [a for g in grains for a in ("--grain", g)]
        host.run([LPMINION, "init", "--dir", "/var/lib/lp", "--id", mid, "--master", f"{GATEWAY}:{self.req_port}",
                  "--key-port", str(self.key_port), "--master-finger", self.finger, "--heartbeat", "1",
                  "--startup-states", "none", *args], check=True)
        with host.path("/var/lib/lp/minion.yaml").open("a") as fh:
            fh.write("request_timeout: 30\ndrift:\n  enabled: false\n")
        host.spawn([LPMINION, "-c", "/var/lib/lp/minion.yaml", "--log-level", "info", "start"], log_name="lpminion")
        return host

    def close(self) -> None:
        for host in self.hosts.values():
            host.stop()
        super().close()


@pytest.fixture(scope="module")
def story():
    ensure_bridge()
    root = Path(tempfile.mkdtemp(prefix="lp-story-"))
    vault = Vault.start("vault")
    fleet = StoryFleet(root)
    try:
        assert fleet.cli("secret", "keygen").returncode == 0
        fleet.write_states(STATES)
        pillar = fleet.master_dir / "pillar"
        (pillar / "top.sls").write_text("base:\n  'app1':\n    - app\n")
        (pillar / "app.sls").write_text(
            f"app:\n  key: {fleet.secret('app:key', APP_KEY)}\n"
            "backup:\n"
            f"  repository: {vault.repository('app1')}\n"
            f"  password: {fleet.secret('backup:password', REPO_PASSWORD)}\n"
            "  ssh:\n"
            f"    key: {fleet.secret('backup:ssh:key', vault.private_key)}\n"
            f"    known_hosts: {json.dumps(vault.known_hosts.strip())}\n"
            "  jobs:\n"
            "    public: {source: files, paths: [/srv/app/public], cron: '0 3 * * *'}\n"
            "health:\n"
            "  checks:\n"
            f"    links: {{type: http, url: 'http://{{address}}:{PORT}/links.txt', status: 200, text: article}}\n")
        fleet.start_master()
        for mid, grains in (("app1", ()), ("scratch1", ("scratch=true",)), ("fresh1", ("scratch=true",))):
            fleet.add_host(mid, *grains)
        fleet.wait_pending("app1", "scratch1", "fresh1", timeout=60)
        fleet.accept_keys("*")
        fleet.wait_answering("app1", "scratch1", "fresh1", timeout=90, ping_timeout=3)
        fleet.vault = vault
        yield fleet
    finally:
        fleet.close()
        vault.stop()
        if os.environ.get("LP_KEEP_TMP") != "1":
            shutil.rmtree(root, ignore_errors=True)


def test_drill_then_rebuild_after_the_host_is_deleted(story):
    app1 = story.hosts["app1"]
    assert story.cli("apply", "app1", "--timeout", "120").returncode == 0
    app1.write_text("/srv/app/public/links.txt", LINKS)
    wait_for(lambda: http_get(app1.address, "/links.txt") == (200, LINKS), 30, "app1 serving its links")
    code, data, err = story.run_json("app1", "backup.run", "public", "--timeout", "120")
    assert code == 0 and data["app1"]["success"], (data, err)
    repo = story.vault.files("app1")
    source_mtime = app1.path("/srv/app/public/links.txt").stat().st_mtime_ns

    # the drill: scratch1 converges as app1, restores app1's files, passes app1's checks
    res = story.cli("drill", "app1", "--onto", "scratch1", "--yes", "--json", timeout=600)
    drill = json.loads(res.stdout)
    assert res.returncode == 0 and drill["passed"], drill
    assert [p["name"] for p in drill["phases"]] == ["converge", "restore", "verify"]
    scratch = story.hosts["scratch1"]
    assert http_get(scratch.address, "/links.txt") == (200, LINKS)
    assert scratch.read_text("/srv/app/app.ini").strip() == f"key={APP_KEY}"
    assert story.vault.files("app1") == repo                               # only read
    assert app1.path("/srv/app/public/links.txt").stat().st_mtime_ns == source_mtime   # untouched

    # app1 is lost, disk and all; fresh1 takes its place
    old_key = (story.master_dir / "pki" / "minions" / "app1").read_text()
    story.hosts.pop("app1").stop()
    res = story.cli("rebuild", "app1", "--onto", "fresh1", "--yes", "--json", timeout=600)
    rebuild = json.loads(res.stdout)
    assert res.returncode == 0 and rebuild["passed"], rebuild
    assert [p["name"] for p in rebuild["phases"]] == ["converge", "restore", "verify", "takeover"]
    fresh = story.hosts["fresh1"]
    assert http_get(fresh.address, "/links.txt") == (200, LINKS)          # data from before the loss
    assert (story.master_dir / "pki" / "minions_rejected" / "app1").read_text() == old_key
    keys = story.keys()
    assert "fresh1" not in keys["accepted"] and "app1" in keys["accepted"]
    drift = story.cli("drift", "app1", "--refresh", "--timeout", "120", "--json")
    assert drift.returncode == 0, drift.stdout + drift.stderr
    assert json.loads(drift.stdout)["app1"]["status"] == "clean"
    for secret in (APP_KEY, REPO_PASSWORD):
        assert secret not in res.stdout + drift.stdout
        for path in list(story.master_dir.glob("master.db*")) + story.logs():
            assert secret.encode() not in path.read_bytes()
