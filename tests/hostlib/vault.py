"""An off-site backup host: a test host running Debian's real sshd, holding restic repositories
for one `restic` user reached with a key (what a VPS user rents as a storage box).

    vault = Vault.start("vault")              # openssh-server from the offline .deb cache
    vault.repository("dev1")                  # "sftp:restic@10.231.0.N:/srv/restic/dev1"
    vault.private_key, vault.known_hosts      # what the minion's `backup: ssh:` pillar gives
    vault.stop()
"""

from __future__ import annotations

import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.hostlib.host import Host, HostError
from tests.hostlib.offline import install_offline

USER = "restic"
ROOT = "/srv/restic"


@dataclass
class Vault:
    host: Host
    private_key: str
    known_hosts: str

    @classmethod
    def start(cls, name: str = "vault") -> Vault:
        host = Host.start(name)
        try:
            if not host.exists("/usr/sbin/sshd"):
                install_offline(host, "openssh-server")
            host.run(["useradd", "--create-home", "--shell", "/bin/sh", USER], check=True)
            host.run(["install", "-d", "-o", USER, "-m", "0700", ROOT, f"/home/{USER}/.ssh"], check=True)
            with tempfile.TemporaryDirectory() as tmp:
                key = Path(tmp) / "id"
                subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "lp-backup", "-f", str(key)],
                               check=True, capture_output=True)
                private, public = key.read_text(), Path(f"{key}.pub").read_text()
            host.write_text(f"/home/{USER}/.ssh/authorized_keys", public, mode=0o600)
            host.run(["chown", "-R", f"{USER}:{USER}", f"/home/{USER}/.ssh"], check=True)
            host.run(["ssh-keygen", "-A"], check=True)
            host.run(["install", "-d", "-m", "0755", "/run/sshd"], check=True)
            host.spawn(["/usr/sbin/sshd", "-D", "-e", "-o", "PasswordAuthentication=no"], log_name="sshd")
            host_key = host.read_text("/etc/ssh/ssh_host_ed25519_key.pub").split()
            vault = cls(host, private, f"{host.address} {host_key[0]} {host_key[1]}\n")
            try:
                host.wait_for(vault._listening, "sshd on port 22", timeout=30)
            except HostError as exc:
                raise HostError(f"{exc}; sshd's log:\n{host.log('sshd')[-2000:]}") from None
            return vault
        except BaseException:
            host.stop()
            raise

    def _listening(self) -> bool:
        try:
            socket.create_connection((self.address, 22), timeout=1).close()
        except OSError:
            return False
        return True

    @property
    def address(self) -> str:
        return self.host.address

    def repository(self, name: str) -> str:
        return f"sftp:{USER}@{self.address}:{ROOT}/{name}"

    def files(self, name: str) -> dict[str, int]:
        """{relative path: size} of a repository's files (to see that a drill wrote nothing)."""
        proc = self.host.run(["find", f"{ROOT}/{name}", "-type", "f", "-printf", "%P %s\n"])
        if proc.returncode != 0:
            raise HostError(proc.stderr)
        return {line.rsplit(" ", 1)[0]: int(line.rsplit(" ", 1)[1]) for line in proc.stdout.splitlines()}

    def stop(self) -> None:
        self.host.stop()
