"""Backups on the master: the catalogue of every host's runs (catalogue), what is fresh or
stale (status), the ROUTER handlers minions report through (handlers), the library the CLI
and drills call (api), the drift checks (drift) and the master's backup of itself (selfbackup)."""
