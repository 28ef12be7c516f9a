"""Jobs in progress, on disk: a job cut off by a crash is reported lost after the restart.

    running = RunningJobs(f"{cache_dir}/running")
    running.started(job)          # before the function runs (durable: fsync)
    running.finished(job.jid)     # once its return is delivered or spooled
    for record in running.leftovers(): ...   # at start: what the last process did not finish

One small JSON file per job ({jid, fun, started}); the job id was checked (wire.JID_RE)
before a job runs, so it is a safe file name.
"""
from __future__ import annotations

import logging
import os
import time
from typing import Any

from core import wire
from core.jobstate import LOST_RETCODE, lost_text
from minion.statefile import read_json, write_json_atomic

log = logging.getLogger("lp.minion.jobs")


class RunningJobs:
    """A directory with one record per job this minion is running."""

    def __init__(self, directory: str) -> None:
        self.directory = directory

    def _path(self, jid: str) -> str:
        return os.path.join(self.directory, f"{jid}.json")

    def started(self, job: wire.Job) -> None:
        try:
            write_json_atomic(self._path(job.jid), {"jid": job.jid, "fun": job.fun, "started": time.time()})
        except OSError as exc:   # a full disk must not stop the job; only this record is missing
            log.warning("could not record job %s as in progress: %s", job.jid, exc)

    def finished(self, jid: str) -> None:
        try:
            os.unlink(self._path(jid))
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("could not clear the in-progress record of job %s: %s", jid, exc)

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
