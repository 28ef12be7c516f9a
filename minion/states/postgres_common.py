"""What the postgres_* states share: the connection arguments, an `absent` state's check, and
the `absent` state of what lives in one database (a schema, an extension).

    check_known(where, args, (*CONNECTION_ARGS, "owner"))
    psql = psql_for("postgres_database.present", args)   # Salt's user/maintenance_db/db_port/db_host
    database_exists(psql, "linkpeek")                     # no database: its schemas are absent too
    return drop_pending("database", name, exists, f"database {name} is absent")
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from core.errors import StateArgError
from minion.providers.accounts import ACCOUNT_NAME
from minion.providers.postgres import Psql, check_name, ident, literal
from minion.state.contract import ExecContext, Pending
from minion.states.specargs import as_str, check_known

CONNECTION_ARGS = ("user", "maintenance_db", "db_port", "db_host")


def psql_for(where: str, args: Mapping[str, Any]) -> Psql:
    """The Psql the connection arguments describe (Salt's user/maintenance_db/db_port/db_host)."""
    port = args.get("db_port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int)
                             or not 0 < port < 65536):
        raise StateArgError(f"{where}: db_port must be a port number")
    runas = as_str(where, "user", args.get("user"), "postgres") or "postgres"
    if not ACCOUNT_NAME.match(runas):
        raise StateArgError(f"{where}: user must be an OS account name, not {runas!r}")
    host = as_str(where, "db_host", args.get("db_host"))
    if host is not None and (host.startswith("-") or not host.strip()):
        raise StateArgError(f"{where}: db_host must be a host name, address or socket dir")
    mdb = as_str(where, "maintenance_db", args.get("maintenance_db"), "postgres") or "postgres"
    if mdb.startswith("-"):
        raise StateArgError(f"{where}: maintenance_db must be a database name")
    return Psql(runas=runas, port=port, host=host, maintenance_db=mdb)


def dbname_arg(where: str, args: Mapping[str, Any], known: tuple[str, ...], what: str) -> str:
    """The required `dbname` of a state on what lives in one database (`what`: what that
    database is to it), after checking its arguments are the connection's, dbname and `known`."""
    check_known(where, args, (*CONNECTION_ARGS, "dbname", *known))
    dbname = as_str(where, "dbname", args.get("dbname"))
    if not dbname:
        raise StateArgError(f"{where}: dbname is required ({what})")
    return dbname


def database_exists(psql: Psql, name: str) -> bool:
    """Whether the cluster has database `name` (what a schema or extension lives in)."""
    return bool(psql.query(f"SELECT 1 FROM pg_database WHERE datname = {literal(name)};\n"))


def drop_pending(kind: str, name: str, exists: bool, absent: str, done: str = "dropped") -> Pending:
    """An `absent` state's check: nothing to do (`absent` says so), or `kind` `name` goes."""
    if not exists:
        return Pending(comment=absent)
    return Pending(changes={kind: {"old": name, "new": None}},
                   comment=f"{kind} {name} would be {done}", applied_comment=f"{kind} {name} {done}")


class InDatabase(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def dbname(self) -> str: ...
    @property
    def psql(self) -> Psql: ...


class AbsentInDatabase:
    """The `absent` state of a `kind` that lives in database `dbname` (subclasses give `kind`,
    `parse` and `found`): dropped when found; absent too when the database is gone."""

    kind = ""

    def found(self, spec: Any) -> bool:
        raise NotImplementedError

    def check(self, ctx: ExecContext, spec: InDatabase) -> Pending:
        check_name(self.kind, spec.name)
        check_name("database", spec.dbname)
        if not database_exists(spec.psql, spec.dbname):
            return Pending(comment=f"{self.kind} {spec.name} is absent: "
                                   f"there is no database {spec.dbname}")
        return drop_pending(self.kind, spec.name, self.found(spec),
                            f"{self.kind} {spec.name} is absent from {spec.dbname}")

    def apply(self, ctx: ExecContext, spec: InDatabase, pending: Pending) -> dict[str, Any]:
        spec.psql.execute(f"DROP {self.kind.upper()} {ident(spec.name)};\n", db=spec.dbname)
        return dict(pending.changes)
