"""Item 5 of issue 14: the key store refuses and reports bad key files, and one key under
two ids serves neither id (no identity swap)."""
from __future__ import annotations

import json
import os

from tests.cluster import wait_for
from tests.security.conftest import VAULT_SECRET, assert_unharmed, snapshot
from tests.security.rogue import Rogue, minion_keypair

BAD = {  # file name in pki/minions -> content
    "short1": "abc\n",
    "notz85": "~" * 40 + "\n",
    "zero1": "0" * 40 + "\n",           # the all-zero key: anyone can compute its shared secret
    "binary1": "\udcff" * 3,
}


def test_bad_key_files_are_refused_and_reported(guarded):
    before = snapshot(guarded)
    accepted = guarded.master_dir / "pki" / "minions"
    try:
        for name, text in BAD.items():
            (accepted / name).write_bytes(text.encode("utf-8", "surrogateescape"))
        os.symlink(accepted / "vault1", accepted / "link1")
        res = guarded.cli("keys", "list", "--json")
        assert json.loads(res.stdout)["accepted"] == ["vault1", "web1"]
        for name in [*BAD, "link1"]:
            assert f"{accepted / name} " in res.stderr, (name, res.stderr)
        assert "all-zero" in res.stderr and "not a regular file" in res.stderr
        res = guarded.cli("run", "zero1", "test.ping")
        assert res.returncode == 2 and "no minions matched" in res.stderr
        wait_for(lambda: "zero1" in guarded.master_log() and "refused" in guarded.master_log(),
                 timeout=10, what="the master logging the refused files")
        wait_for(lambda: [e for e in guarded.events() if e["kind"] == "key_problem"], timeout=10,
                 what="a key_problem event")
    finally:
        for name in [*BAD, "link1"]:
            (accepted / name).unlink(missing_ok=True)
    assert_unharmed(guarded, before)


def test_one_key_under_two_ids_serves_neither(guarded):
    before = snapshot(guarded)
    accepted = guarded.master_dir / "pki" / "minions"
    twin = accepted / "vault2"
    twin.write_text((accepted / "vault1").read_text())
    client = Rogue(guarded, minion_keypair(guarded, "vault1"))
    try:
        res = guarded.cli("keys", "list")
        assert "vault1, vault2" in res.stderr and "none of them is served" in res.stderr
        wait_for(lambda: (r := client.ask({"type": "pillar"}, timeout=2)) is not None and r["type"] == "error",
                 timeout=10, what="vault1's key refused while it is stored twice")
        reply = client.ask({"type": "pillar"})
        assert reply["type"] == "error" and VAULT_SECRET not in json.dumps(reply)
        code, data, _ = guarded.run_json("vault*", "test.ping", "--timeout", "2")
        assert code == 2 and "vault1" not in data and "vault2" not in data
        assert "stored under 2 ids: vault1, vault2" in guarded.master_log()
    finally:
        client.close()
        twin.unlink()
    assert_unharmed(guarded, before)


def test_the_daemons_writes_reach_the_index_first_and_the_disk_later(tmp_path):
    """With a writer (the daemon's thread), a register is in the index at once and stays
    there through a re-scan until its file is written; no file is read again to find it."""
    from core import keys
    from master.keystore import PENDING, KeyStore, key_problem

    queued: list = []
    store = KeyStore(str(tmp_path / "pki"), writer=queued.append)
    store.ensure_dirs()
    key = keys.generate_keypair(str(tmp_path / "k"), "m").public
    assert store.register("web9", key) == PENDING
    assert store.lookup(key).state == PENDING and queued and not (tmp_path / "pki" / "minions_pre" / "web9").exists()
    store.refresh(force=True)
    assert store.list_ids()[PENDING] == ["web9"]
    for op in queued:
        op()
    assert (tmp_path / "pki" / "minions_pre" / "web9").read_text() == key + "\n"
    store.refresh(force=True)
    assert store.lookup(key).minion_id == "web9" and store.problems() == []
    assert key_problem("0" * 40) and key_problem(key) is None


def test_an_accepted_key_with_no_minion_behind_it_is_reported_not_connected(guarded):
    """A key the operator wrote by hand (no minion runs it): the job says so and nothing breaks."""
    from tests.security.rogue import fresh_keypair

    before = snapshot(guarded)
    ghost = guarded.master_dir / "pki" / "minions" / "ghost1"
    ghost.write_text(fresh_keypair().public + "\n")
    try:
        res = guarded.cli("run", "ghost1", "test.ping", "--timeout", "2")
        assert res.returncode == 2 and "ghost1" in res.stdout + res.stderr, res
        assert "Traceback" not in guarded.master_log()
    finally:
        ghost.unlink()
    assert_unharmed(guarded, before, new_jobs=1)
