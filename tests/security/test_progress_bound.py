"""A job's progress stream to a waiting CLI is bounded (master/jobqueue.py): a minion sending
progress without end to a CLI that stopped reading does not grow the master's queue; the oldest
updates are dropped, the stream says how many, and the return still arrives."""
from __future__ import annotations

import subprocess

import msgpack

from core.wire import job_topic
from master.jobqueue import MAX_PROGRESS
from tests.cluster import wait_for
from tests.security.conftest import assert_unharmed, snapshot
from tests.security.rogue import Rogue, fresh_keypair

FLOOD = 20000


def test_endless_progress_to_a_cli_that_stopped_reading_is_dropped_oldest_first(guarded):
    before = snapshot(guarded)
    fake = Rogue(guarded, fresh_keypair())      # a "minion" that answers a backup with progress only
    cli = None
    try:
        assert fake.ask_until_answered({"type": "register", "id": "prog1"})["state"] == "pending"
        guarded.accept_keys("prog1")
        wait_for(lambda: fake.ask({"type": "heartbeat"}, timeout=1) is not None, timeout=20, what="prog1 accepted")
        sub, _monitor = fake.subscribe_with_monitor(job_topic("prog1"))
        wait_for(lambda: "prog1" in guarded.cli("status", "--json").stdout, timeout=20, what="prog1 subscribed")
        # the CLI's output is never read until the end: it blocks writing, and stops reading the master
        cli = subprocess.Popen([guarded.lpmaster, "-c", guarded.master_cfg, "backup", "run", "prog1", "files"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert sub.poll(30_000), "the job was not published"
        _topic, payload = sub.recv_multipart()
        jid = msgpack.unpackb(payload, raw=False)["jid"]
        for i in range(FLOOD):
            fake.send_raw(msgpack.packb({"v": 1, "type": "backup_progress", "jid": jid, "job": "files",
                                         "percent_done": i / FLOOD, "files_done": i}))
        fake.send_raw(msgpack.packb({"v": 1, "type": "return", "jid": jid, "fun": "backup.run", "success": True,
                                     "retcode": 0, "ret": {"snapshot_id": "abcd1234", "files": FLOOD}}))
        out, err = cli.communicate(timeout=120)
        sub.close(linger=0)
        _monitor.close(linger=0)
    finally:
        if cli is not None and cli.poll() is None:
            cli.kill()
            cli.wait()
        fake.close()
    assert cli.returncode == 0, err[-2000:]
    assert "prog1: backup files ok: snapshot abcd1234" in out
    lines = err.splitlines()
    shown = [line for line in lines if line.startswith("prog1 files:")]
    notes = [line for line in lines if "progress update(s) dropped" in line]
    dropped = sum(int(line.split(": ", 1)[1].split()[0]) for line in notes)
    assert notes and dropped >= FLOOD - len(shown) - MAX_PROGRESS, (len(shown), notes[:3])
    assert len(shown) + dropped == FLOOD and len(shown) < FLOOD // 2
    assert shown[-1].startswith(f"prog1 files: {100 * (FLOOD - 1) / FLOOD:5.1f}%")   # the newest is kept
    assert guarded.cli("keys", "delete", "prog1", "--yes").returncode == 0
    assert_unharmed(guarded, before, new_jobs=1)


def test_a_bounded_queue_keeps_returns_and_counts_what_it_dropped():
    from core.wire import Return
    from master.jobqueue import JobQueue

    queue = JobQueue(max_progress=3)
    ret = Return("20261201000000000000", "backup.run", success=True, ret={})
    queue.put_nowait(("m1", "connected"))
    for i in range(10):
        queue.put_progress("m1", {"files_done": i})
        if i == 4:
            queue.put_nowait(("m1", ret))
    items = [queue.get_nowait()[1] for _ in range(queue.qsize())]
    assert items == ["connected", ret, {"files_done": 7}, {"files_done": 8}, {"files_done": 9}]
    assert queue.take_dropped() == 7 and queue.take_dropped() == 0


def test_a_control_client_that_reads_nothing_is_dropped_not_waited_for(tmp_path, monkeypatch):
    """master/control.py's writes to a CLI: once the socket buffer is full and the client reads
    nothing for SEND_TIMEOUT_S, the send fails as a lost client (its handler ends and closes)."""
    import asyncio
    import socket

    from master import control

    monkeypatch.setattr(control, "SEND_TIMEOUT_S", 0.3)
    path = str(tmp_path / "c.sock")

    async def scenario() -> tuple[int, str]:
        accepted: asyncio.Queue = asyncio.Queue()
        server = await asyncio.start_unix_server(lambda r, w: accepted.put_nowait(w), path)
        client = socket.socket(socket.AF_UNIX)
        client.connect(path)            # and never reads
        writer = await accepted.get()
        sent = 0
        try:
            while True:
                await control._send(writer, {"event": "progress", "pad": "x" * 4096})
                sent += 1
        except ConnectionResetError as exc:
            return sent, str(exc)
        finally:
            writer.close()
            client.close()
            server.close()

    sent, why = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert sent > 10 and "read nothing for 0.3 s" in why
