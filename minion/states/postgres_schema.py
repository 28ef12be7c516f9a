"""postgres_schema states: present (owner) and absent, in one database.

    linkpeek-schema:
      postgres_schema.present:
        - name: app
        - dbname: linkpeek
        - owner: linkpeek
        - require:
          - postgres_database: linkpeek-db

SQL goes to psql on stdin as the cluster's OS user (default postgres), as postgres_user's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from minion.providers.postgres import Psql, check_name, ident, literal
from minion.state.contract import ExecContext, Pending
from minion.states.postgres_common import AbsentInDatabase, dbname_arg, psql_for
from minion.states.specargs import as_str


@dataclass(frozen=True)
class SchemaSpec:
    name: str
    dbname: str
    psql: Psql
    owner: str | None = None


def _parse(where: str, name: str, args: Mapping[str, Any], known: tuple[str, ...]) -> SchemaSpec:
    dbname = dbname_arg(where, args, known, "the database that holds the schema")
    owner = as_str(where, "owner", args.get("owner"))
    return SchemaSpec(str(name), dbname, psql_for(where, args), owner)


def _owner(spec: SchemaSpec) -> str | None:
    rows = spec.psql.query(f"SELECT pg_get_userbyid(nspowner) FROM pg_namespace "
                           f"WHERE nspname = {literal(spec.name)};\n", db=spec.dbname)
    return rows[0][0] if rows else None


class Present:
    """postgres_schema.present: the schema exists in `dbname`, owned by `owner` when given."""

    def parse(self, name: str, args: Mapping[str, Any]) -> SchemaSpec:
        return _parse("postgres_schema.present", name, args, ("owner",))

    def check(self, ctx: ExecContext, spec: SchemaSpec) -> Pending:
        for kind, value in (("schema", spec.name), ("database", spec.dbname), ("role", spec.owner)):
            if value is not None:
                check_name(kind, value)
        have = _owner(spec)
        if have is None:
            changes: dict[str, Any] = {"schema": {"old": None, "new": spec.name}}
            if spec.owner:
                changes["owner"] = {"old": None, "new": spec.owner}
            return Pending(changes=changes, comment=f"schema {spec.name} would be created in {spec.dbname}",
                           applied_comment=f"schema {spec.name} created in {spec.dbname}")
        if spec.owner and have != spec.owner:
            return Pending(changes={"owner": {"old": have, "new": spec.owner}},
                           comment=f"schema {spec.name} would be given to {spec.owner}",
                           applied_comment=f"schema {spec.name} given to {spec.owner}")
        return Pending(comment=f"schema {spec.name} is present in {spec.dbname}")

    def apply(self, ctx: ExecContext, spec: SchemaSpec, pending: Pending) -> dict[str, Any]:
        if "schema" in pending.changes:
            owner = f" AUTHORIZATION {ident(spec.owner)}" if spec.owner else ""
            spec.psql.execute(f"CREATE SCHEMA {ident(spec.name)}{owner};\n", db=spec.dbname)
        else:
            spec.psql.execute(f"ALTER SCHEMA {ident(spec.name)} OWNER TO {ident(spec.owner or '')};\n",
                              db=spec.dbname)
        return dict(pending.changes)


class Absent(AbsentInDatabase):
    """postgres_schema.absent: no such schema in `dbname` (refused while it holds objects)."""

    kind = "schema"

    def parse(self, name: str, args: Mapping[str, Any]) -> SchemaSpec:
        return _parse("postgres_schema.absent", name, args, ())

    def found(self, spec: SchemaSpec) -> bool:
        return _owner(spec) is not None


FUNCTIONS = {"present": Present(), "absent": Absent()}
