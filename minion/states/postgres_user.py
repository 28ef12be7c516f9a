"""postgres_user states: present and absent. A role with its attributes and password.

    linkpeek-db-role:
      postgres_user.present:
        - name: linkpeek
        - password: {{ pillar['linkpeek']['db']['password'] }}
        - login: True
        - createdb: False
        - require:
          - service: postgresql

SQL reaches `psql` on stdin as the `user` OS account (default postgres, peer auth), never on
a command line. The password is compared with the stored SCRAM (or md5) verifier, so a second
run changes nothing, and it is sent as a SCRAM-SHA-256 verifier: the plain text never reaches
the server, its logs, or the changes (`password: {old: ***, new: ***}`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import StateArgError
from minion.providers.postgres import (
    NotAnswering,
    Psql,
    check_name,
    ident,
    literal,
    password_matches,
    scram_verifier,
)
from minion.state.contract import ExecContext, Pending
from minion.states.postgres_common import CONNECTION_ARGS, drop_pending, psql_for
from minion.states.specargs import as_bool, check_known

FLAGS = {  # state argument -> (pg_roles column, SQL keyword)
    "superuser": ("rolsuper", "SUPERUSER"),
    "createdb": ("rolcreatedb", "CREATEDB"),
    "createroles": ("rolcreaterole", "CREATEROLE"),
    "inherit": ("rolinherit", "INHERIT"),
    "login": ("rolcanlogin", "LOGIN"),
    "replication": ("rolreplication", "REPLICATION"),
}
HIDDEN = "***"


@dataclass(frozen=True)
class RoleSpec:
    name: str
    psql: Psql
    flags: tuple[tuple[str, bool], ...] = ()
    password: str | None = None
    refresh_password: bool = False
    connlimit: int | None = None
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoleFacts:
    flags: dict[str, bool]
    connlimit: int
    password: str | None
    groups: tuple[str, ...]


def read_role(psql: Psql, name: str) -> RoleFacts | None:
    columns = ", ".join(column for column, _ in FLAGS.values())
    rows = psql.query(
        f"SELECT {columns}, rolconnlimit, coalesce(rolpassword, ''), "
        f"coalesce((SELECT string_agg(g.rolname, ',' ORDER BY g.rolname) FROM pg_auth_members m "
        f"JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = a.oid), '') "
        f"FROM pg_authid a WHERE rolname = {literal(name)};\n"
    )
    if not rows:
        return None
    row = rows[0]
    flags = {arg: row[i] == "t" for i, arg in enumerate(FLAGS)}
    n = len(FLAGS)
    return RoleFacts(flags, int(row[n]), row[n + 1] or None,
                     tuple(g for g in row[n + 2].split(",") if g))


class Present:
    """postgres_user.present: the role exists with these attributes, password and groups."""

    def parse(self, name: str, args: Mapping[str, Any]) -> RoleSpec:
        where = "postgres_user.present"
        check_known(where, args, (*FLAGS, *CONNECTION_ARGS, "password", "encrypted",
                                  "refresh_password", "connlimit", "groups", "valid_until"))
        if args.get("valid_until") is not None:
            raise StateArgError(f"{where}: valid_until is not supported here")
        encrypted = args.get("encrypted")
        if encrypted not in (None, True, "scram-sha-256"):
            raise StateArgError(f"{where}: encrypted takes scram-sha-256 (passwords are always "
                                f"stored as SCRAM-SHA-256 verifiers here)")
        flags = tuple((arg, as_bool(where, arg, args[arg])) for arg in FLAGS
                      if args.get(arg) is not None)
        password = args.get("password")
        if password is not None and (not isinstance(password, (str, int)) or isinstance(password, bool)):
            raise StateArgError(f"{where}: password must be a string")
        connlimit = args.get("connlimit")
        if connlimit is not None and (isinstance(connlimit, bool) or not isinstance(connlimit, int)
                                      or connlimit < -1):
            raise StateArgError(f"{where}: connlimit must be an integer >= -1")
        groups = args.get("groups") or []
        if isinstance(groups, str):
            groups = [g.strip() for g in groups.split(",") if g.strip()]
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise StateArgError(f"{where}: groups must be a list of role names")
        return RoleSpec(
            name=str(name),
            psql=psql_for(where, args),
            flags=flags,
            password=None if password is None else str(password),
            refresh_password=as_bool(where, "refresh_password", args.get("refresh_password")),
            connlimit=connlimit,
            groups=tuple(sorted(set(groups))),
        )

    def check(self, ctx: ExecContext, spec: RoleSpec) -> Pending:
        check_name("role", spec.name)
        for group in spec.groups:
            check_name("role", group)
        try:
            have = read_role(spec.psql, spec.name)
        except NotAnswering as exc:
            return Pending(changes=self._create_changes(spec),
                           comment=f"role {spec.name} would be created; {exc.comment}",
                           facts={"unknown": True})
        if have is None:
            return Pending(changes=self._create_changes(spec),
                           comment=f"role {spec.name} would be created",
                           applied_comment=f"role {spec.name} created")
        changes: dict[str, Any] = {}
        for arg, want in spec.flags:
            if have.flags[arg] != want:
                changes[arg] = {"old": have.flags[arg], "new": want}
        if spec.connlimit is not None and have.connlimit != spec.connlimit:
            changes["connlimit"] = {"old": have.connlimit, "new": spec.connlimit}
        if spec.password is not None and (
                spec.refresh_password or not password_matches(have.password, spec.password, spec.name)):
            changes["password"] = {"old": HIDDEN if have.password else None, "new": HIDDEN}
        missing = [g for g in spec.groups if g not in have.groups]
        if missing:
            changes["groups"] = {"old": list(have.groups), "new": sorted({*have.groups, *missing})}
        if not changes:
            return Pending(comment=f"role {spec.name} is present as specified")
        return Pending(changes=changes, comment=f"role {spec.name} would be updated",
                       applied_comment=f"role {spec.name} updated")

    @staticmethod
    def _create_changes(spec: RoleSpec) -> dict[str, Any]:
        changes: dict[str, Any] = {"role": {"old": None, "new": spec.name}}
        if spec.password is not None:
            changes["password"] = {"old": None, "new": HIDDEN}
        if spec.groups:
            changes["groups"] = {"old": [], "new": list(spec.groups)}
        return changes

    def apply(self, ctx: ExecContext, spec: RoleSpec, pending: Pending) -> dict[str, Any]:
        if pending.facts.get("unknown"):  # the server was not up at check time: look again
            pending = self.check(ctx, spec)
            if not pending.changes:
                return {}
        changes = pending.changes
        options = " ".join(f"{'' if want else 'NO'}{FLAGS[arg][1]}" for arg, want in spec.flags)
        if spec.connlimit is not None:
            options += f" CONNECTION LIMIT {spec.connlimit}"
        if "password" in changes:
            options += f" PASSWORD {literal(scram_verifier(spec.password or ''))}"
        verb = "CREATE" if "role" in changes else "ALTER"
        statements = []
        if verb == "CREATE" or options.strip():
            statements.append(f"{verb} ROLE {ident(spec.name)} {options};")
        for group in changes.get("groups", {}).get("new", []):
            statements.append(f"GRANT {ident(group)} TO {ident(spec.name)};")
        spec.psql.execute("\n".join(statements) + "\n")
        return dict(changes)


class Absent:
    """postgres_user.absent: no such role."""

    def parse(self, name: str, args: Mapping[str, Any]) -> RoleSpec:
        check_known("postgres_user.absent", args, CONNECTION_ARGS)
        return RoleSpec(str(name), psql_for("postgres_user.absent", args))

    def check(self, ctx: ExecContext, spec: RoleSpec) -> Pending:
        check_name("role", spec.name)
        return drop_pending("role", spec.name, read_role(spec.psql, spec.name) is not None,
                            f"role {spec.name} is absent", done="removed")

    def apply(self, ctx: ExecContext, spec: RoleSpec, pending: Pending) -> dict[str, Any]:
        spec.psql.execute(f"DROP ROLE {ident(spec.name)};\n")
        return dict(pending.changes)


FUNCTIONS = {"present": Present(), "absent": Absent()}
