"""Backups with restic on the minion: the `backup:` pillar (spec), dump producers (sources), a
run (run), a restore (restore), the scheduled jobs (schedule) and the report sent to the
master (report). The restic command line itself is core/restic.py (the master backs itself
up with it too); the execution functions are minion/functions/backup.py."""
