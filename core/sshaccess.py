"""How restic reaches an sftp: repository: a private key, known_hosts lines and a port.

One class for both sides that back up: the minion's `backup: ssh:` pillar
(minion/backup/spec.py) and the master's own `backup: ssh:` in master.yaml
(master/backups/selfbackup.py). core/restic.py writes the key to a 0600 file for ssh.

    SshAccess(key="-----BEGIN OPENSSH PRIVATE KEY-----\\n...", known_hosts="vault ssh-ed25519 AAAA...", port=22)
    port_number(value, "pillar backup:ssh:port")   # the port, or ConfigError naming the key
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import ConfigError

DEFAULT_PORT = 22


@dataclass(frozen=True)
class SshAccess:
    key: str               # a private key (text)
    known_hosts: str = ""  # known_hosts lines ("" uses the system's)
    port: int = DEFAULT_PORT


def port_number(value: Any, where: str) -> int:
    """`value` as a TCP port number (1-65535); ConfigError naming `where` and an example otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise ConfigError(f"{where} must be a port number from 1 to 65535 (like `port: 2222`), "
                          f"not {repr(value)[:40]}")
    return value
