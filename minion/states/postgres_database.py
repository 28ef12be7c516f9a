"""postgres_database states: present (owner, encoding, collation, template) and absent.

    linkpeek-db:
      postgres_database.present:
        - name: linkpeek
        - owner: linkpeek
        - encoding: UTF8
        - template: template0
        - require:
          - postgres_user: linkpeek-db-role

A database that exists with another owner is handed over (ALTER DATABASE ... OWNER TO);
one with another encoding or collation cannot be changed in place, so the state fails and
says so rather than dropping data. SQL goes to psql on stdin as the cluster's OS user.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import StateArgError
from minion.providers.postgres import NotAnswering, Psql, check_name, ident, literal
from minion.state.contract import ExecContext, Pending, StateFailed
from minion.states.postgres_common import CONNECTION_ARGS, drop_pending, psql_for
from minion.states.specargs import as_str, check_known

FIXED = ("encoding", "lc_collate", "lc_ctype")  # set at creation only


@dataclass(frozen=True)
class DatabaseSpec:
    name: str
    psql: Psql
    owner: str | None = None
    encoding: str | None = None
    lc_collate: str | None = None
    lc_ctype: str | None = None
    template: str | None = None
    tablespace: str | None = None


def read_database(psql: Psql, name: str) -> dict[str, str] | None:
    rows = psql.query(
        "SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate, datctype "
        f"FROM pg_database WHERE datname = {literal(name)};\n"
    )
    if not rows:
        return None
    owner, encoding, collate, ctype = rows[0]
    return {"owner": owner, "encoding": encoding, "lc_collate": collate, "lc_ctype": ctype}


def _same(key: str, have: str, want: str) -> bool:
    if key == "encoding":
        return have.upper().replace("-", "") == want.upper().replace("-", "")
    return have.lower().replace("-", "").replace("utf8", "utf-8") == \
        want.lower().replace("-", "").replace("utf8", "utf-8")


class Present:
    """postgres_database.present: the database exists, owned by `owner`."""

    def parse(self, name: str, args: Mapping[str, Any]) -> DatabaseSpec:
        where = "postgres_database.present"
        check_known(where, args, (*CONNECTION_ARGS, "owner", "encoding", "lc_collate",
                                  "lc_ctype", "template", "tablespace", "owner_recurse"))
        if args.get("owner_recurse"):
            raise StateArgError(f"{where}: owner_recurse is not supported here")
        text = {k: as_str(where, k, args.get(k)) for k in
                ("owner", "encoding", "lc_collate", "lc_ctype", "template", "tablespace")}
        for key, value in text.items():
            if value is not None and (not value or "\n" in value or "\0" in value):
                raise StateArgError(f"{where}: {key} must be one non-empty line")
        return DatabaseSpec(str(name), psql_for(where, args), **text)

    def check(self, ctx: ExecContext, spec: DatabaseSpec) -> Pending:
        check_name("database", spec.name)
        for kind, value in (("role", spec.owner), ("template", spec.template),
                            ("tablespace", spec.tablespace)):
            if value is not None:
                check_name(kind, value)
        try:
            have = read_database(spec.psql, spec.name)
        except NotAnswering as exc:
            return Pending(changes=self._create_changes(spec),
                           comment=f"database {spec.name} would be created; {exc.comment}",
                           facts={"unknown": True})
        if have is None:
            return Pending(changes=self._create_changes(spec),
                           comment=f"database {spec.name} would be created",
                           applied_comment=f"database {spec.name} created")
        for key in FIXED:
            want = getattr(spec, key)
            if want is not None and not _same(key, have[key], want):
                raise StateFailed(
                    f"database {spec.name} exists with {key} {have[key]}, not {want}; it cannot "
                    f"be changed in place: dump, drop and recreate it, or change the state"
                )
        if spec.owner is not None and have["owner"] != spec.owner:
            return Pending(changes={"owner": {"old": have["owner"], "new": spec.owner}},
                           comment=f"database {spec.name} would be given to {spec.owner}",
                           applied_comment=f"database {spec.name} given to {spec.owner}")
        return Pending(comment=f"database {spec.name} is present as specified")

    @staticmethod
    def _create_changes(spec: DatabaseSpec) -> dict[str, Any]:
        changes: dict[str, Any] = {"database": {"old": None, "new": spec.name}}
        if spec.owner:
            changes["owner"] = {"old": None, "new": spec.owner}
        return changes

    def apply(self, ctx: ExecContext, spec: DatabaseSpec, pending: Pending) -> dict[str, Any]:
        if pending.facts.get("unknown"):
            pending = self.check(ctx, spec)
            if not pending.changes:
                return {}
        if "database" in pending.changes:
            parts = [f"CREATE DATABASE {ident(spec.name)}"]
            if spec.owner:
                parts.append(f"OWNER {ident(spec.owner)}")
            if spec.template:
                parts.append(f"TEMPLATE {ident(spec.template)}")
            for key in FIXED:
                value = getattr(spec, key)
                if value is not None:
                    parts.append(f"{key.upper()} {literal(value)}")
            if spec.tablespace:
                parts.append(f"TABLESPACE {ident(spec.tablespace)}")
            spec.psql.execute(" ".join(parts) + ";\n")
        else:
            spec.psql.execute(f"ALTER DATABASE {ident(spec.name)} OWNER TO {ident(spec.owner or '')};\n")
        return dict(pending.changes)


class Absent:
    """postgres_database.absent: no such database (its data is dropped)."""

    def parse(self, name: str, args: Mapping[str, Any]) -> DatabaseSpec:
        check_known("postgres_database.absent", args, CONNECTION_ARGS)
        return DatabaseSpec(str(name), psql_for("postgres_database.absent", args))

    def check(self, ctx: ExecContext, spec: DatabaseSpec) -> Pending:
        check_name("database", spec.name)
        return drop_pending("database", spec.name, read_database(spec.psql, spec.name) is not None,
                            f"database {spec.name} is absent")

    def apply(self, ctx: ExecContext, spec: DatabaseSpec, pending: Pending) -> dict[str, Any]:
        spec.psql.execute(f"DROP DATABASE {ident(spec.name)};\n")
        return dict(pending.changes)


FUNCTIONS = {"present": Present(), "absent": Absent()}
