"""One real master with two real minions (vault1, web1) shared by the attack tests.

The pillar gives vault1 an encrypted secret (a canary the tests grep for). Every attack
test ends with `assert_unharmed(guarded, before)`: the key store, the job store and the
state tree are as they were, and the accepted minions still answer a ping.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from tests.cluster import Cluster

VAULT_SECRET = "canary-vault-5e8d21"
MINIONS = ("vault1", "web1")
MAX_PENDING = 1000  # the default max_pending_keys


class Guarded(Cluster):
    """The cluster with fast heartbeats, and a look at its stores for before/after checks."""

    def __init__(self, root: Path, lpmaster: str, lpminion: str) -> None:
        super().__init__(root, lpmaster, lpminion,
                         minion_args=["--heartbeat", "0.5", "--startup-states", "none"],
                         minion_config="register_backoff_max: 0.5\nrequest_timeout: 2\n"
                                       "drift:\n  enabled: false\n")


@dataclass(frozen=True)
class Snapshot:
    keys: dict[str, str]
    jobs: int
    states: str


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in sorted(os.walk(root)):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def snapshot(c: Guarded) -> Snapshot:
    """Key files (path -> content), how many jobs are stored, and the state tree's digest."""
    pki = c.master_dir / "pki"
    keys = {str(p.relative_to(pki)): p.read_text() for p in sorted(pki.glob("minions*/*"))}
    jobs = json.loads(c.cli("jobs", "list", "--json", "--limit", "100000").stdout)
    return Snapshot(keys=keys, jobs=len(jobs), states=_tree_digest(c.master_dir / "states"))


def assert_unharmed(c: Guarded, before: Snapshot, *, new_jobs: int = 0) -> None:
    """Nothing lost or changed by a refused attack, and every minion answers within a second.

    `new_jobs`: jobs the test itself started with lpmaster (the check's ping is one more).
    """
    after = snapshot(c)
    assert after.keys == before.keys
    assert after.states == before.states
    c.wait_answering(*MINIONS, timeout=10, ping_timeout=1)
    assert snapshot(c).jobs >= before.jobs + new_jobs + 1  # earlier jobs kept, the ping recorded
    assert c.master_proc is not None and c.master_proc.poll() is None


@contextlib.contextmanager
def pillar_extra(guarded: Guarded, top: str, files: dict[str, str]) -> Iterator[None]:
    """The pillar tree with `top` (the whole top.sls) and `files`, put back as it was after."""
    pillar = guarded.master_dir / "pillar"
    old_top = (pillar / "top.sls").read_text()
    try:
        (pillar / "top.sls").write_text(top)
        for name, text in files.items():
            (pillar / name).write_text(text)
        yield
    finally:
        (pillar / "top.sls").write_text(old_top)
        for name in files:
            (pillar / name).unlink(missing_ok=True)


@pytest.fixture(scope="package")
def guarded(lpmaster_bin, lpminion_bin):
    # Our own temp dir: pytest's basetemp rotation must not remove it under running daemons.
    root = Path(tempfile.mkdtemp(prefix="lp-security-"))
    c = Guarded(root, lpmaster_bin, lpminion_bin)
    try:
        assert c.cli("secret", "keygen").returncode == 0
        c.write_states({"top.sls": "base:\n  '*':\n    - noop\n", "noop.sls": "nothing:\n  test.nop: []\n"})
        c.write_pillar({"top.sls": "base:\n  'vault1':\n    - vault\n",
                        "vault.sls": f"vault:\n  token: {c.secret('vault:token', VAULT_SECRET)}\n"})
        c.start_master()
        c.add_minions(*MINIONS)
        yield c
    finally:
        c.close()
        if os.environ.get("LP_KEEP_TMP") != "1":
            shutil.rmtree(root, ignore_errors=True)
