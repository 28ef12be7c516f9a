"""Jobs in progress, on disk: a job cut off by a crash is reported lost after the restart.

    running = RunningJobs(f"{cache_dir}/running")
    running.started(job)          # before the function runs (durable: fsync)
    running.finished(job.jid)     # once its return is delivered or spooled
    for record in running.leftovers(): ...   # at start: what the last process did not finish

One small JSON file per job ({jid, fun, started}); the job id was checked (wire.JID_RE)
before a job runs, so it is a safe file name. The directory is the minion's own (0700, made
and checked once, then held open): records are written relative to that descriptor with
O_NOFOLLOW, so a path swapped under it is never followed, and each job costs a few system
calls (on a fleet host the per-job path runs a thousand times a ping).
"""
from __future__ import annotations

import json
import logging
import os
import stat
import time
from typing import Any

from core import wire
from core.jobstate import LOST_RETCODE, lost_text
from minion.statefile import read_json

log = logging.getLogger("lp.minion.jobs")


class RunningJobs:
    """A directory with one record per job this minion is running."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self._fd: int | None = None

    def _dir_fd(self) -> int:
        """The records' directory, opened once: ours, 0700, not a symlink (OSError otherwise)."""
        fd = self._fd
        if fd is None:
            flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
            try:
                fd = os.open(self.directory, flags)
            except FileNotFoundError:
                os.makedirs(self.directory, mode=0o700, exist_ok=True)
                fd = os.open(self.directory, flags)
            st = os.fstat(fd)
            if st.st_uid != os.geteuid():
                os.close(fd)
                raise OSError(f"{self.directory} is not this user's directory")
            if stat.S_IMODE(st.st_mode) != 0o700:
                os.fchmod(fd, 0o700)
            self._fd = fd
        return fd

    def started(self, job: wire.Job) -> None:
        """Record `job` durably (data and name fsynced) before its function runs. Written in
        place, not renamed over: the name is new (a job id runs once), and a record cut short
        by a crash reads as unreadable and is dropped, as a missing one would be."""
        data = json.dumps({"jid": job.jid, "fun": job.fun, "started": time.time()}, sort_keys=True)
        try:
            dir_fd = self._dir_fd()
            fd = os.open(f"{job.jid}.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
                         | os.O_CLOEXEC, 0o600, dir_fd=dir_fd)
            try:
                os.write(fd, data.encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            os.fsync(dir_fd)
        except OSError as exc:   # a full disk must not stop the job; only this record is missing
            log.warning("could not record job %s as in progress: %s", job.jid, exc)

    def finished(self, jid: str) -> None:
        try:
            os.unlink(f"{jid}.json", dir_fd=self._dir_fd())
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("could not clear the in-progress record of job %s: %s", jid, exc)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def leftovers(self) -> list[dict[str, Any]]:
        """Records a previous process left: jobs it started and never finished."""
        try:
            names = sorted(os.listdir(self.directory))
        except FileNotFoundError:
            return []
        out = []
        for name in names:
            if not name.endswith(".json"):
                continue
            data = read_json(os.path.join(self.directory, name))
            jid = name[:-len(".json")]
            if isinstance(data, dict) and data.get("jid") == jid and wire.JID_RE.match(jid):
                out.append(data)
            else:
                self.finished(jid)
        return out

    def lost_returns(self) -> list[wire.Return]:
        """A lost return for each job the previous process left unfinished (records cleared by
        the caller once the returns are spooled)."""
        returns = []
        for record in self.leftovers():
            fun = str(record.get("fun") or "?")
            started = record.get("started")
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)) if isinstance(
                started, (int, float)) else "an unknown time"
            why = f"the minion stopped (crash, kill or reboot) after starting it at {when}"
            returns.append(wire.Return(str(record["jid"]), fun, success=False, retcode=LOST_RETCODE,
                                       ret=lost_text(fun, why)))
        return returns
