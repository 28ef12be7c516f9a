"""PostgreSQL provider: SQL through `psql` on stdin, run as the cluster's OS user (peer auth).

Every statement goes to psql's standard input, never its argv, so nothing a state sends
(a password verifier included) shows in a process list. Values are quoted here (`literal`,
`ident`) after the names were checked by the state; passwords are turned into a SCRAM-SHA-256
verifier before they leave this process, so the plain password never reaches the server or
its logs (PostgreSQL stores a pre-hashed password as given).

    pg = Psql(runas="postgres", port=5432)
    rows = pg.query("SELECT rolname FROM pg_roles WHERE rolname = " + literal("linkpeek"))
    pg.execute(f"CREATE ROLE {ident('linkpeek')} LOGIN PASSWORD {literal(scram_verifier(pw))}")
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass

from minion.providers.process import run
from minion.state.contract import StateFailed

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$-]{0,62}$")
SCRAM_ITERATIONS = 4096
FIELD_SEP = "\x1f"  # psql -F: a separator no catalogue value holds
NOT_ANSWERING = ("could not connect", "connection to server", "No such file or directory",
                 "Is the server running")


class NotAnswering(StateFailed):
    """psql could not reach the server (not installed, not started yet)."""


def check_name(kind: str, name: str) -> str:
    if not NAME.match(name):
        raise StateFailed(
            f"{kind} name {name!r} is not valid here: use letters, digits, '_', '$' or '-', "
            f"start with a letter or '_', at most 63 characters"
        )
    return name


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    if "\0" in name:
        raise StateFailed("a SQL identifier may not hold NUL")
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A quoted SQL string literal (standard_conforming_strings, on since PostgreSQL 9.1)."""
    if "\0" in value:
        raise StateFailed("a SQL string may not hold NUL")
    return "'" + value.replace("'", "''") + "'"


def scram_verifier(password: str, salt: bytes | None = None,
                   iterations: int = SCRAM_ITERATIONS) -> str:
    """PostgreSQL's stored form of `password` (RFC 5802/7677 SCRAM-SHA-256)."""
    salt = os.urandom(16) if salt is None else salt
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda b: base64.b64encode(b).decode()
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def password_matches(stored: str | None, password: str, role: str) -> bool:
    """Whether the role's stored password (pg_authid.rolpassword) is `password`."""
    if not stored:
        return False
    if stored.startswith("SCRAM-SHA-256$"):
        try:
            head, keys = stored.split("$", 1)[1].split("$")
            iterations, salt = head.split(":")
            again = scram_verifier(password, base64.b64decode(salt), int(iterations))
        except ValueError:
            return False
        return hmac.compare_digest(again.rsplit("$", 1)[1], keys)
    if stored.startswith("md5"):
        digest = "md5" + hashlib.md5((password + role).encode()).hexdigest()
        return hmac.compare_digest(digest, stored)
    return False


@dataclass(frozen=True)
class Psql:
    """psql against one cluster, as `runas` over its unix socket (or `host`)."""

    runas: str = "postgres"
    port: int | None = None
    host: str | None = None
    maintenance_db: str = "postgres"

    def _argv(self, db: str | None) -> list[str]:
        argv = ["runuser", "-u", self.runas, "--", "psql", "-X", "-q", "-A", "-t",
                "-F", FIELD_SEP, "-v", "ON_ERROR_STOP=1", "-d", db or self.maintenance_db]
        if self.port is not None:
            argv += ["-p", str(self.port)]
        if self.host is not None:
            argv += ["-h", self.host]
        return argv

    def _run(self, sql: str, db: str | None) -> str:
        result = run(self._argv(db), input=sql, timeout=120, cwd="/")
        if not result.ok:
            tail = result.tail()
            if any(marker in tail for marker in NOT_ANSWERING):
                raise NotAnswering(
                    f"PostgreSQL does not answer ({tail.splitlines()[-1] if tail else 'no output'}): "
                    f"start the server first (require the state that runs it)"
                )
            raise StateFailed(f"psql failed: {tail}")
        return result.stdout

    def query(self, sql: str, db: str | None = None) -> list[list[str]]:
        """Rows of a SELECT, each a list of column texts (NULL is '')."""
        out = self._run(sql, db)
        return [line.split(FIELD_SEP) for line in out.splitlines() if line != ""]

    def execute(self, sql: str, db: str | None = None) -> None:
        self._run(sql, db)
