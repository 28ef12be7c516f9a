"""Backups with restic on the minion: the `backup:` pillar (spec), the restic command line
(restic), dump producers (sources), a run (run), a restore (restore) and the report sent
to the master (report). The execution functions are minion/functions/backup.py."""
