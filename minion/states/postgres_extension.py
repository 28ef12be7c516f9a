"""postgres_extension states: present (schema, version) and absent, in one database.

    pg-trgm:
      postgres_extension.present:
        - name: pg_trgm
        - dbname: linkpeek
        - schema: public
        - require:
          - postgres_database: linkpeek-db

An extension installed at another version is updated (ALTER EXTENSION ... UPDATE TO) when
`ext_version` is given; one that is not available on the server fails and says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import StateArgError
from minion.providers.postgres import Psql, check_name, ident, literal
from minion.state.contract import ExecContext, Pending, StateFailed
from minion.states.postgres_common import AbsentInDatabase, dbname_arg, psql_for
from minion.states.specargs import as_str


@dataclass(frozen=True)
class ExtensionSpec:
    name: str
    dbname: str
    psql: Psql
    schema: str | None = None
    version: str | None = None


def _parse(where: str, name: str, args: Mapping[str, Any], known: tuple[str, ...]) -> ExtensionSpec:
    dbname = dbname_arg(where, args, known, "the database to install it in")
    schema = as_str(where, "schema", args.get("schema") or args.get("maybe_schema"))
    version = as_str(where, "ext_version", args.get("ext_version"))
    if version is not None and not all(c.isalnum() or c in "._-" for c in version):
        raise StateArgError(f"{where}: ext_version {version!r} is not a version")
    return ExtensionSpec(str(name), dbname, psql_for(where, args), schema, version)


def _installed(spec: ExtensionSpec) -> tuple[str, str] | None:
    rows = spec.psql.query(
        f"SELECT e.extversion, n.nspname FROM pg_extension e JOIN pg_namespace n "
        f"ON n.oid = e.extnamespace WHERE e.extname = {literal(spec.name)};\n", db=spec.dbname)
    return (rows[0][0], rows[0][1]) if rows else None


class Present:
    """postgres_extension.present: the extension is installed in `dbname`."""

    def parse(self, name: str, args: Mapping[str, Any]) -> ExtensionSpec:
        return _parse("postgres_extension.present", name, args,
                      ("schema", "maybe_schema", "ext_version", "if_not_exists"))

    def check(self, ctx: ExecContext, spec: ExtensionSpec) -> Pending:
        check_name("extension", spec.name)
        check_name("database", spec.dbname)
        if spec.schema:
            check_name("schema", spec.schema)
        have = _installed(spec)
        if have is None:
            available = spec.psql.query(f"SELECT 1 FROM pg_available_extensions "
                                        f"WHERE name = {literal(spec.name)};\n", db=spec.dbname)
            if not available:
                raise StateFailed(f"extension {spec.name} is not available on this server: install "
                                  f"the package that ships it (e.g. postgresql-contrib) first")
            return Pending(changes={"extension": {"old": None, "new": spec.version or spec.name}},
                           comment=f"extension {spec.name} would be installed in {spec.dbname}",
                           applied_comment=f"extension {spec.name} installed in {spec.dbname}")
        changes: dict[str, Any] = {}
        if spec.version and have[0] != spec.version:
            changes["version"] = {"old": have[0], "new": spec.version}
        if spec.schema and have[1] != spec.schema:
            changes["schema"] = {"old": have[1], "new": spec.schema}
        if not changes:
            return Pending(comment=f"extension {spec.name} {have[0]} is installed in {spec.dbname}")
        return Pending(changes=changes, comment=f"extension {spec.name} would be updated",
                       applied_comment=f"extension {spec.name} updated")

    def apply(self, ctx: ExecContext, spec: ExtensionSpec, pending: Pending) -> dict[str, Any]:
        name, changes = ident(spec.name), pending.changes
        if "extension" in changes:
            sql = f"CREATE EXTENSION IF NOT EXISTS {name}"
            if spec.schema:
                sql += f" SCHEMA {ident(spec.schema)}"
            if spec.version:
                sql += f" VERSION {literal(spec.version)}"
            statements = [sql + ";"]
        else:
            statements = []
            if "version" in changes:
                statements.append(f"ALTER EXTENSION {name} UPDATE TO {literal(spec.version or '')};")
            if "schema" in changes:
                statements.append(f"ALTER EXTENSION {name} SET SCHEMA {ident(spec.schema or '')};")
        spec.psql.execute("\n".join(statements) + "\n", db=spec.dbname)
        return dict(changes)


class Absent(AbsentInDatabase):
    """postgres_extension.absent: the extension is not installed in `dbname`."""

    kind = "extension"

    def parse(self, name: str, args: Mapping[str, Any]) -> ExtensionSpec:
        return _parse("postgres_extension.absent", name, args, ())

    def found(self, spec: ExtensionSpec) -> bool:
        return _installed(spec) is not None


FUNCTIONS = {"present": Present(), "absent": Absent()}
