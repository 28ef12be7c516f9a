"""Job store, spool and seen-job set: real SQLite and real files."""
from __future__ import annotations

import os
import time

from core import wire
from master.jobstore import JobStore
from minion.jobguard import SeenJobs
from minion.spool import Spool


def test_returns_are_stored_once_per_job_and_minion(tmp_path):
    store = JobStore(str(tmp_path / "master.db"))
    now = time.time()
    job = wire.Job(jid=wire.new_jid(), fun="test.ping", created=now, expires=now + 60)
    store.add_job(job, ["m1", "m2"])
    ret = wire.Return(job.jid, "test.ping", True, True)
    assert store.add_return(job.jid, "m1", ret) is True
    assert store.add_return(job.jid, "m1", ret) is False  # a re-delivered return
    shown = JobStore(str(tmp_path / "master.db"), readonly=True).get_job(job.jid)
    assert shown["minions"] == ["m1", "m2"]
    assert list(shown["returns"]) == ["m1"]
    assert store.list_jobs()[0]["returned"] == 1


def test_a_presence_write_refused_by_a_busy_database_leaves_no_transaction_open(tmp_path):
    """The daemon keeps those last-seen times for its next flush; the returns it stores
    meanwhile must be committed (seen by another process), not held in a stale transaction."""
    import sqlite3

    import pytest

    path = str(tmp_path / "master.db")
    store = JobStore(path)
    store.db.execute("PRAGMA busy_timeout = 0")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")                      # another writer holds the database
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        store.touch_minions({"m1": time.time()})
    other.execute("ROLLBACK")
    assert not store.db.in_transaction
    now = time.time()
    job = wire.Job(jid=wire.new_jid(), fun="test.ping", created=now, expires=now + 60)
    store.add_job(job, ["m1"])
    assert store.add_return(job.jid, "m1", wire.Return(job.jid, "test.ping", True, True)) is True
    store.touch_minions({"m1": now})
    assert list(JobStore(path, readonly=True).get_job(job.jid)["returns"]) == ["m1"]
    assert other.execute("SELECT last_seen FROM minions WHERE id = 'm1'").fetchone() == (now,)


def test_a_read_only_store_reads_a_missing_or_foreign_database_as_empty(tmp_path):
    from master.drift.store import DriftStore

    missing = str(tmp_path / "none.db")
    assert JobStore(missing, readonly=True).list_jobs() == []
    assert not os.path.exists(missing)                 # the CLI never creates the daemon's file
    other = str(tmp_path / "drift-only.db")
    DriftStore(other).close()                          # the file exists, without the job tables
    reader = JobStore(other, readonly=True)
    assert reader.minions() == {} and reader.get_job("x") is None


def test_jobs_show_escapes_arguments_a_minion_sent(tmp_path, lpmaster_bin):
    """A schedule's job is recorded with the arguments its minion sent (master/drift/handlers.py)."""
    import subprocess

    subprocess.run([lpmaster_bin, "init", "--dir", str(tmp_path / "m")], check=True, capture_output=True)
    store = JobStore(str(tmp_path / "m" / "master.db"))
    now = time.time()
    job = wire.Job(jid=wire.new_jid(), fun="cmd.run", arg=("echo \x1b[2Jhi",), tgt="web1", tgt_type="list",
                   created=now, expires=now + 60)
    store.add_job(job, ["web1"], "schedule:evil")
    store.close()
    shown = subprocess.run([lpmaster_bin, "-c", str(tmp_path / "m" / "master.yaml"), "jobs", "show", job.jid],
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert "\x1b" not in shown.stdout and "function: cmd.run echo \\x1b[2Jhi" in shown.stdout
    assert "web1:\n    (no return)" in shown.stdout


def test_spool_survives_a_restart_and_keeps_order(tmp_path):
    spool = Spool(str(tmp_path / "spool"))
    for i in range(3):
        spool.put(wire.message("return", n=i))
    again = Spool(str(tmp_path / "spool"))
    items = list(again.items())
    assert [m["n"] for _, m in items] == [0, 1, 2]
    again.remove(items[0][0])
    assert len(again) == 2


def test_a_spooled_file_is_private_and_its_tag_cannot_leave_the_spool(tmp_path):
    spool = Spool(str(tmp_path / "spool"))
    path = spool.put(wire.message("return", n=1), tag="../../escape/x")
    assert os.path.dirname(path) == str(tmp_path / "spool")
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert sorted(os.listdir(tmp_path / "spool")) == [os.path.basename(path)]  # no temp file left
    assert [m["n"] for _, m in spool.items()] == [1]


def test_a_corrupt_spool_file_is_set_aside(tmp_path):
    spool = Spool(str(tmp_path / "spool"))
    (tmp_path / "spool" / "0001-bad.mp").write_bytes(b"\xc1\xc1")
    spool.put(wire.message("return", n=1))
    assert [m["n"] for _, m in spool.items()] == [1]
    assert (tmp_path / "spool" / "0001-bad.mp.bad").exists()


def test_a_job_id_runs_at_most_once_across_restarts(tmp_path):
    path = str(tmp_path / "cache" / "seen")
    seen = SeenJobs(path)
    assert seen.first_time("j1", time.time() + 60)
    assert not seen.first_time("j1", time.time() + 60)
    seen.close()
    again = SeenJobs(path)
    assert not again.first_time("j1", time.time() + 60)
    assert again.first_time("j2", time.time() + 60)


def test_the_seen_file_is_rewritten_at_start_only_to_drop_entries(tmp_path):
    path = tmp_path / "cache" / "seen"
    seen = SeenJobs(str(path))
    assert oct(path.stat().st_mode & 0o777) == "0o600"        # made private at the first start
    seen.first_time("j1", time.time() + 60)
    seen.first_time("gone", time.time() - 1)
    seen.close()
    inode = path.stat().st_ino
    SeenJobs(str(path)).close()                               # drops the expired "gone"
    assert path.stat().st_ino != inode
    assert path.read_text().split()[0] == "j1" and "gone" not in path.read_text()
    inode = path.stat().st_ino
    again = SeenJobs(str(path))                               # nothing to drop: left as it is
    assert path.stat().st_ino == inode
    assert not again.first_time("j1", time.time() + 60)


def test_the_seen_set_stays_bounded(tmp_path):
    seen = SeenJobs(str(tmp_path / "seen"), max_entries=10)
    for i in range(50):
        seen.first_time(f"j{i}", time.time() + 60)
    seen.close()
    assert len((tmp_path / "seen").read_text().splitlines()) <= 30


def test_a_job_cut_off_by_a_crash_is_reported_lost_after_the_restart(tmp_path):
    from minion.jobrecord import RunningJobs

    now = time.time()
    cut, done = (wire.Job(jid=wire.new_jid(), fun=f, created=now, expires=now + 60) for f in ("cmd.run", "test.ping"))
    running = RunningJobs(str(tmp_path / "cache" / "running"))
    running.started(cut)
    running.started(done)
    running.finished(done.jid)               # the process "crashes" here, cut still running
    after = RunningJobs(str(tmp_path / "cache" / "running"))
    lost = after.lost_returns()
    assert [(r.jid, r.fun, r.success) for r in lost] == [(cut.jid, "cmd.run", False)]
    assert "the minion stopped" in lost[0].ret
    assert oct((tmp_path / "cache" / "running").stat().st_mode & 0o777) == "0o700"


def test_the_in_progress_records_are_never_written_through_a_planted_link(tmp_path):
    from minion.jobrecord import RunningJobs

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "cache").mkdir()
    os.symlink(elsewhere, tmp_path / "cache" / "running")
    now = time.time()
    job = wire.Job(jid=wire.new_jid(), fun="test.ping", created=now, expires=now + 60)
    RunningJobs(str(tmp_path / "cache" / "running")).started(job)   # logged, the job still runs
    assert list(elsewhere.iterdir()) == []
