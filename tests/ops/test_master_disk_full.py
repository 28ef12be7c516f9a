"""Issue 17.1 with real processes: the master's database on a small tmpfs that fills up while
two minions run a job. Nothing is lost: each minion keeps its return until the master has
stored it, and the CLI and `status` say the storage is full.

The master runs in a private mount namespace (`unshare -m`) whose tmpfs holds its whole
directory, so nothing is mounted on the machine; every `lpmaster` command enters it
(`nsenter -m`), as a CLI on that host would see it."""
from __future__ import annotations

import json
import subprocess

import pytest

from tests.ops.conftest import OpsCluster, wait_for

TMPFS_SIZE = "16m"
BIG = 900_000   # bytes of output per minion: more than any slack the database files keep


class TmpfsMaster(OpsCluster):
    """The master's directory on a tmpfs of its own mount namespace."""

    def ns(self) -> list[str]:
        assert self.master_proc is not None
        return ["nsenter", "-t", str(self.master_proc.pid), "-m"]

    def cli(self, *args: str, config: bool = True, input: str | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        if self.master_proc is None:
            return super().cli(*args, config=config, input=input, timeout=timeout)
        argv = [*self.ns(), self.lpmaster, "-c", self.master_cfg, *args]
        return subprocess.run(argv, capture_output=True, text=True, input=input, timeout=timeout)

    def start_master(self) -> None:
        root = str(self.master_dir)
        script = (f"set -e; keep=$(mktemp -d); cp -a {root}/. $keep/; "
                  f"mount -t tmpfs -o size={TMPFS_SIZE},mode=0700 lp-test-db {root}; "
                  f"cp -a $keep/. {root}/; rm -rf $keep; exec \"$@\"")
        self.master_proc = self._spawn("master", ["unshare", "--mount", "--propagation", "private",
                                                  "sh", "-c", script, "sh",
                                                  *self._daemon(self.lpmaster, self.master_cfg, "serve")])
        wait_for(lambda: self.cli("status").returncode == 0, what="the master on its tmpfs")

    def fill_disk(self) -> None:
        subprocess.run([*self.ns(), "sh", "-c", f"cat /dev/zero > {self.master_dir}/filler 2>/dev/null; true"],
                       check=True, timeout=60)

    def free_disk(self) -> None:
        subprocess.run([*self.ns(), "rm", "-f", f"{self.master_dir}/filler"], check=True, timeout=60)


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory, lpmaster_bin: str, lpminion_bin: str):
    c = TmpfsMaster(tmp_path_factory.mktemp("diskfull"), lpmaster_bin, lpminion_bin)
    try:
        c.start_master()
        c.add("m1", "m2")
        yield c
    finally:
        c.close()


def test_returns_are_kept_on_the_minions_until_a_full_master_can_store_them(full):
    running = {m: full.minion_log(m).count("running job") for m in ("m1", "m2")}
    cmd = f"sleep 2; head -c {BIG} /dev/zero | tr '\\0' x"
    waiting = subprocess.Popen([*full.ns(), full.lpmaster, "-c", full.master_cfg, "run", "*", "cmd.run", cmd,
                                "--timeout", "30", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        wait_for(lambda: all(full.minion_log(m).count("running job") > n for m, n in running.items()),
                 20, "both minions to start the job")
        full.fill_disk()
        out, err = waiting.communicate(timeout=60)
    finally:
        if waiting.poll() is None:
            waiting.kill()
    returns = json.loads(out)
    assert set(returns) == {"m1", "m2"}, err           # both answered; neither "did not answer"
    assert "did not answer" not in err and "storage is full" in err, err
    status = full.cli("status")
    assert status.returncode == 1 and "storage is full" in status.stderr, status.stderr
    (job,) = [j for j in json.loads(full.cli("jobs", "list", "--json").stdout) if j["fun"] == "cmd.run"]
    refused = full.cli("run", "*", "test.ping")                # a new job cannot be recorded: said so
    assert refused.returncode == 1 and "storage is full" in refused.stderr, refused.stderr

    full.free_disk()

    def stored():
        shown = json.loads(full.cli("jobs", "show", job["jid"], "--json").stdout)
        return len(shown["returns"]) == 2 and shown["returns"]
    stored_returns = wait_for(stored, 30, "both kept returns to be stored once there is space", step=0.3)
    assert all(r["success"] and len(r["ret"]) == BIG for r in stored_returns.values())
    assert full.cli("status").returncode == 0
