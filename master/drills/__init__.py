"""Restore drills and rebuilds: a lost host's role, pillar and backups onto another host, timed.

    record.py    a drill's result: phases (converge, restore, verify, takeover) with times
    store.py     drill results in the master's SQLite file (`lpmaster drills`)
    grants.py    pillar-as grants: SCRATCH gets SOURCE's pillar for one drill job only
    plan.py      what recovering SOURCE means: its SLS (top matches), backup jobs, health checks
    runner.py    the phases, run by the master daemon (manual and scheduled drills alike)
    phases.py    converge and restore (and the hooks to verify and takeover)
    verify.py    SOURCE's health checks against SCRATCH (master/health), or a clean test run
    jobs.py      one job on one minion, awaited, optionally under a pillar-as grant
    takeover.py  rebuild: NEW's key under LOST's id, LOST's old key revoked
    schedule.py  the `drills:` schedule of master.yaml, run by the daemon
    control.py   the control-socket op `drill` the CLI streams from
    checks.py    the drift check `drill`: never drilled, or the last passing drill too old
    view.py      what `lpmaster drill`, `rebuild` and `drills` print
    api.py       the library the CLI (and tests) call
"""
