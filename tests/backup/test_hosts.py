"""Off-site for real: a test host running Debian's sshd holds the repository (sftp), and a
test host running a real PostgreSQL 15 is backed up into it while a writer inserts rows,
then restored in place. The minion's engine runs inside the database host, as root, with
the key and known_hosts line its pillar would give it."""
from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.backup.conftest import PASSWORD
from tests.hostlib import Host
from tests.hostlib.vault import USER as VAULT_USER
from tests.hostlib.vault import Vault

pytestmark = pytest.mark.host

PG_BIN = "/usr/lib/postgresql/15/bin"
ENGINE = textwrap.dedent("""
    import json, sys
    from minion.backup.spec import parse_backup
    from minion.backup.run import run_backup
    from minion.backup.restore import restore
    req = json.load(sys.stdin)
    spec = parse_backup(req["backup"], "db1")
    job = spec.job(req["job"])
    if req["op"] == "run":
        out = run_backup(spec, job, "/var/cache/lp/restic")
    else:
        out = restore(spec, job, "/var/cache/lp/restic", **req["kwargs"])
    print(json.dumps(out))
""")


def start_sshd(host: Host) -> None:
    listening = host.log("sshd").count("Server listening on 0.0.0.0")
    host.spawn(["/usr/sbin/sshd", "-D", "-e", "-o", "PasswordAuthentication=no"], log_name="sshd")
    host.wait_for(lambda: host.log("sshd").count("Server listening on 0.0.0.0") > listening, "sshd listening")


def stop_sshd(host: Host) -> None:
    host.run(["pkill", "-x", "sshd"])       # inside the test host only (its own pid namespace)
    host.wait_for(lambda: host.run(["pgrep", "-x", "sshd"]).returncode != 0, "sshd gone")


def _postgres_host(host: Host) -> None:
    host.run(["install", "-d", "-o", "postgres", "-g", "postgres", "-m", "775", "/run/postgresql",
              "/var/lib/postgresql/lp"], check=True)
    host.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/initdb", "-D", "/var/lib/postgresql/lp", "-A", "trust",
              "--no-sync"], check=True, cwd="/")
    host.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/pg_ctl", "-D", "/var/lib/postgresql/lp", "-w", "-l",
              "/var/lib/postgresql/lp/log", "-o", "-k /run/postgresql -c listen_addresses='' -c fsync=off", "start"],
             check=True, cwd="/")
    psql(host, "CREATE DATABASE linkpeek", db="postgres")
    psql(host, "CREATE TABLE links (id serial PRIMARY KEY, url text NOT NULL, at timestamptz DEFAULT now())")
    psql(host, "INSERT INTO links (url) SELECT 'https://example.org/' || g FROM generate_series(1, 20000) g")


def psql(host: Host, sql: str, db: str = "linkpeek") -> str:
    proc = host.run(["runuser", "-u", "postgres", "--", "psql", "-qtAX", "-v", "ON_ERROR_STOP=1", "-d", db,
                     "-c", sql], cwd="/")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.fixture(scope="module")
def pair(bridge: None) -> Iterator[dict[str, Any]]:
    vault = Vault.start("vault")
    try:
        with Host.start("db1") as db1:
            _postgres_host(db1)
            backup = {"repository": vault.repository("db1"), "password": PASSWORD,
                      "ssh": {"key": vault.private_key, "known_hosts": vault.known_hosts.strip()},
                      "jobs": {"db": {"source": "postgres", "database": "linkpeek", "cron": "0 3 * * *",
                                      "keep": {"daily": 7}},
                               "etc": {"source": "files", "paths": ["/etc/ssh"], "cron": "0 4 * * 0"}}}
            yield {"vault": vault.host, "db1": db1, "backup": backup}
    finally:
        vault.stop()


def engine(host: Host, backup: dict[str, Any], op: str, job: str, **kwargs: Any) -> dict[str, Any]:
    req = {"backup": backup, "job": job, "op": op, "kwargs": kwargs}
    proc = host.run([sys.executable, "-c", ENGINE], input=json.dumps(req), cwd=str(Path(__file__).parents[2]),
                    timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_postgres_under_a_writer_to_sftp_restores_in_place_to_the_snapshot_time(pair: dict[str, Any]) -> None:
    db1, vault = pair["db1"], pair["vault"]
    writer = db1.spawn(["runuser", "-u", "postgres", "--", "sh", "-c",
                        "while psql -qX -d linkpeek -c \"INSERT INTO links (url) VALUES ('https://w')\"; do :; done"],
                       cwd="/", log_name="writer")
    try:
        db1.wait_for(lambda: int(psql(db1, "SELECT count(*) FROM links")) > 20005, "the writer inserting")
        before = int(psql(db1, "SELECT count(*) FROM links"))
        record = engine(db1, pair["backup"], "run", "db")
        after = int(psql(db1, "SELECT count(*) FROM links"))
    finally:
        db1.run(["pkill", "-f", "while psql"])    # inside the test host only
        writer.wait(timeout=30)
    assert record["success"], record["error"]
    assert record["initialised"] and record["source"] == "postgres"
    assert vault.run(["ls", "/srv/restic/db1/snapshots"]).stdout.strip(), "the snapshot lives on the vault host"
    assert vault.run(["stat", "-c", "%U", "/srv/restic/db1/config"]).stdout.strip() == VAULT_USER
    psql(db1, "DELETE FROM links WHERE id % 2 = 0")
    psql(db1, "INSERT INTO links (url) VALUES ('after-the-backup')")
    result = engine(db1, pair["backup"], "restore", "db", in_place=True)
    assert result["loaded_into"] == "linkpeek" and result["snapshot_id"].startswith(record["snapshot_id"])
    restored = int(psql(db1, "SELECT count(*) FROM links"))
    assert before <= restored <= after
    assert psql(db1, "SELECT max(id) = count(*) FROM links") == "t"      # every row up to the dump, none after
    assert psql(db1, "SELECT count(*) FROM links WHERE url = 'after-the-backup'") == "0"


def test_unreachable_repository_fails_and_the_next_run_succeeds(pair: dict[str, Any], tmp_path: Path) -> None:
    db1, vault = pair["db1"], pair["vault"]
    stop_sshd(vault)
    try:
        failed = engine(db1, pair["backup"], "run", "etc")
    finally:
        start_sshd(vault)
    assert not failed["success"] and failed["error"]
    assert PASSWORD not in json.dumps(failed)
    ok = engine(db1, pair["backup"], "run", "etc")
    assert ok["success"], ok["error"]
    out = engine(db1, pair["backup"], "restore", "etc", to="/srv/restored")
    assert db1.read_text("/srv/restored/etc/ssh/ssh_config") == db1.read_text(
        "/etc/ssh/ssh_config")
    assert out["restored_to"] == "/srv/restored"
    assert not db1.run(["sh", "-c", "ls -d /var/cache/lp/.lp-secrets-* 2>/dev/null"]).stdout, "the secret files are removed"
