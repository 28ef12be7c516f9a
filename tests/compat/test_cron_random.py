"""Item 6 of issue 13: cron.present takes Salt's `random` minute/hour.

Salt 3008.5 (salt/modules/cron.py, observed): a new entry gets a random value; an entry that
already has a value other than `*` there satisfies `random`, so it is kept and nothing
changes. Here the new value is derived from the minion id and the identifier: stable across
runs (and rebuilds), different between minions.
"""
from __future__ import annotations

import logging

from minion.state.contract import ExecContext
from minion.states.cron import FUNCTIONS

PRESENT = FUNCTIONS["present"]


def _ctx(spool, minion_id):
    return ExecContext(grains={}, pillar={}, files=None, log=logging.getLogger("t"),
                       opts={"id": minion_id, "cron_spool": str(spool)})


def _line(spool, minion_id, **fields):
    spec = PRESENT.parse("/usr/local/bin/lpbackup", {"user": "root", "identifier": "backup",
                                                     **fields})
    pending = PRESENT.check(_ctx(spool, minion_id), spec)
    return spec, pending


def test_random_is_stable_per_minion_and_job_and_kept_once_written(tmp_path):
    spec, pending = _line(tmp_path, "web1", minute="random", hour="random")
    line = pending.changes["entry"]["new"]
    minute, hour = line.split()[:2]
    assert 0 <= int(minute) <= 59 and 0 <= int(hour) <= 23 and line.endswith(" * * * /usr/local/bin/lpbackup")
    assert _line(tmp_path, "web1", minute="random", hour="random")[1].changes["entry"]["new"] == line
    others = {_line(tmp_path, f"web{n}", minute="random", hour="random")[1].changes["entry"]["new"]
              for n in range(2, 12)}
    assert len(others) > 5  # minions spread out
    PRESENT.apply(_ctx(tmp_path, "web1"), spec, pending)
    assert _line(tmp_path, "web1", minute="random", hour="random")[1].changes == {}
    # An entry Salt wrote (its own random pick) is kept, as Salt keeps it
    (tmp_path / "root").write_text("# Lines below here are managed by Salt, do not edit\n"
                                   "# SALT_CRON_IDENTIFIER:backup\n"
                                   "7 22 * * * /usr/local/bin/lpbackup\n")
    assert _line(tmp_path, "web1", minute="random", hour="random")[1].changes == {}
    assert _line(tmp_path, "web1", minute="random", hour="5")[1].changes["entry"]["new"] == (
        "7 5 * * * /usr/local/bin/lpbackup")


def test_a_range_picks_inside_it(tmp_path):
    line = _line(tmp_path, "db1", minute="10:20", hour="3")[1].changes["entry"]["new"]
    assert 10 <= int(line.split()[0]) <= 20 and line.split()[1] == "3"
