"""Item 9 of issue 14: what one request may cost the master.

The file server refuses a file above its size cap before hashing it, and never blocks on a
FIFO swapped in after its checks; YAML alias bombs and oversized documents are refused for
SLS, pillar and config; `scheduled_job` is rate-limited per minion (the refusal says retry,
so the minion keeps the job); the job store keeps jobs `keep_jobs` hours and prunes older.
"""
from __future__ import annotations

import json
import os
import threading

import pytest

from core.errors import ConfigError, RenderError
from tests.cluster import Cluster, wait_for
from tests.security.conftest import assert_unharmed, pillar_extra, snapshot
from tests.security.rogue import Rogue, fresh_keypair, minion_keypair

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))


def test_a_huge_sparse_file_is_refused_before_it_is_hashed(guarded):
    before = snapshot(guarded)
    huge = guarded.master_dir / "states" / "huge.bin"
    with open(huge, "wb") as fh:
        fh.truncate(10 * 1024 ** 3)            # 10 GiB, sparse: nothing on disk
    client = Rogue(guarded, minion_keypair(guarded, "web1"))
    try:
        for request in ({"type": "file", "path": "salt://huge.bin"},
                        {"type": "file_stat", "paths": ["huge.bin"]},
                        {"type": "file_batch", "paths": ["huge.bin"]}):
            reply = client.ask_until_answered(request, timeout=5)
            assert "fileserver_max_size" in json.dumps(reply), reply
        listing = client.ask({"type": "file_list", "path": ""}, timeout=5)
        assert listing is not None and "huge.bin" not in listing["files"] and "top.sls" in listing["files"]
    finally:
        client.close()
        huge.unlink()
    assert_unharmed(guarded, before)


def test_a_fifo_swapped_in_after_the_checks_does_not_block_a_worker(tmp_path, monkeypatch):
    from master import fileserver

    tree = tmp_path / "states"
    tree.mkdir()
    (tree / "app.conf").write_text("x=1\n")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    # the race: safe_regular_file saw a regular file; by the open, the path is a FIFO
    monkeypatch.setattr(fileserver, "safe_regular_file", lambda root, rel: str(fifo))
    server = fileserver.FileServer(str(tree))
    replies: list = []
    worker = threading.Thread(target=lambda: replies.append(server.file({"path": "app.conf"})), daemon=True)
    worker.start()
    worker.join(timeout=5)
    if worker.is_alive():                      # release the stuck open() before failing
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(timeout=5)
        pytest.fail("the file server blocked opening a FIFO")
    assert "not a regular file" in replies[0]["error"]


def test_yaml_alias_bombs_and_huge_documents_are_refused_in_sls_and_config(tmp_path):
    from core.config import load_master
    from core.yamlload import MAX_YAML_BYTES, load_yaml

    with pytest.raises(RenderError, match="alias"):
        load_yaml(BOMB, "bomb.sls")
    with pytest.raises(RenderError, match="larger than"):
        load_yaml("a: '" + "x" * MAX_YAML_BYTES + "'\n", "big.sls")
    assert load_yaml("base: &b {port: 80}\nweb:\n  <<: *b\n  name: web\n", "ok.sls") == {
        "base": {"port": 80}, "web": {"port": 80, "name": "web"}}   # a few aliases stay fine
    cfg = tmp_path / "master.yaml"
    cfg.write_text(f"root: {tmp_path}\n" + BOMB)
    with pytest.raises(ConfigError, match="alias"):
        load_master(str(cfg))


def test_a_pillar_alias_bomb_is_refused_quickly_and_the_master_stays_up(guarded):
    before = snapshot(guarded)
    top = (guarded.master_dir / "pillar" / "top.sls").read_text() + "  'web1':\n    - bomb\n"
    with pillar_extra(guarded, top, {"bomb.sls": BOMB}):
        client = Rogue(guarded, minion_keypair(guarded, "web1"))
        try:
            reply = client.ask_until_answered({"type": "pillar"}, timeout=5)
            assert reply["type"] == "error" and "alias" in reply["error"], reply
        finally:
            client.close()
    assert_unharmed(guarded, before)


def test_scheduled_jobs_are_rate_limited_per_minion_and_the_refusal_says_retry(guarded):
    before = snapshot(guarded)
    client = Rogue(guarded, minion_keypair(guarded, "web1"))
    other = Rogue(guarded, minion_keypair(guarded, "vault1"))
    try:
        replies = [client.ask_until_answered({"type": "scheduled_job", "name": "flood", "fun": "test.ping"})
                   for _ in range(200)]
        started = [r for r in replies if r["type"] == "started"]
        refused = [r for r in replies if r["type"] == "error"]
        assert 0 < len(started) < 60 and len(started) + len(refused) == 200
        assert all(r.get("retry") is True and "too often" in r["error"] for r in refused)
        # another minion's schedule is not limited by web1's flood
        assert other.ask_until_answered({"type": "scheduled_job", "name": "own", "fun": "test.ping"})["type"] \
            == "started"
    finally:
        client.close()
        other.close()
    assert_unharmed(guarded, before, new_jobs=len(started) + 1)


def test_the_job_store_keeps_jobs_keep_jobs_hours_and_prunes_older(tmp_path, lpmaster_bin, lpminion_bin):
    c = Cluster(tmp_path, lpmaster_bin, lpminion_bin)
    try:
        c.add_master_config("keep_jobs: 0.001\n")       # 3.6 seconds
        pair = fresh_keypair()
        accepted = c.master_dir / "pki" / "minions"
        accepted.mkdir(parents=True, exist_ok=True)
        (accepted / "sched1").write_text(pair.public + "\n")
        c.start_master()
        client = Rogue(c, pair)
        try:
            first = client.ask_until_answered({"type": "scheduled_job", "name": "n", "fun": "test.ping"})
            assert first["type"] == "started"

            def jids() -> set[str]:
                out = c.cli("jobs", "list", "--json", "--limit", "1000").stdout
                return {j["jid"] for j in json.loads(out)}

            assert first["jid"] in jids()
            wait_for(lambda: first["jid"] not in jids(), timeout=20, what="the old job pruned")
            assert c.cli("jobs", "show", first["jid"]).returncode != 0
            fresh = client.ask_until_answered({"type": "scheduled_job", "name": "n", "fun": "test.ping"})
            assert fresh["type"] == "started" and fresh["jid"] in jids()   # a new job is kept
        finally:
            client.close()
        assert c.master_proc.poll() is None
    finally:
        c.close()
