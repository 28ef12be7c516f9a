"""postgres_user / postgres_database without a server: quoting, SCRAM verifiers, arguments."""

from __future__ import annotations

import pytest

from core.errors import StateArgError
from minion.providers.postgres import ident, literal, password_matches, scram_verifier
from minion.states.postgres_database import FUNCTIONS as DATABASE
from minion.states.postgres_extension import FUNCTIONS as EXTENSION
from minion.states.postgres_schema import FUNCTIONS as SCHEMA
from minion.states.postgres_user import FUNCTIONS as USER


def test_a_verifier_round_trips_and_a_wrong_password_does_not_match():
    stored = scram_verifier("s3cret")
    assert stored.startswith("SCRAM-SHA-256$4096:")
    assert password_matches(stored, "s3cret", "r")
    assert not password_matches(stored, "s3cret ", "r")
    assert scram_verifier("s3cret") != stored  # a fresh salt each time


def test_md5_and_missing_passwords():
    import hashlib

    md5 = "md5" + hashlib.md5(b"pwlinkpeek").hexdigest()
    assert password_matches(md5, "pw", "linkpeek")
    assert not password_matches(md5, "pw", "other")
    assert not password_matches(None, "pw", "linkpeek")
    assert not password_matches("SCRAM-SHA-256$garbage", "pw", "linkpeek")


@pytest.mark.parametrize("text, quoted", [("a", "'a'"), ("it's", "'it''s'"), ("a\\b", "'a\\b'")])
def test_literals_double_quotes_and_keep_backslashes(text, quoted):
    assert literal(text) == quoted


def test_identifiers_are_quoted():
    assert ident('we"ird') == '"we""ird"'


def test_role_arguments():
    spec = USER["present"].parse("linkpeek", {"password": "pw", "login": "yes", "createdb": False,
                                             "db_port": 5433, "groups": "readers, writers"})
    assert dict(spec.flags) == {"login": True, "createdb": False}
    assert spec.psql.port == 5433 and spec.groups == ("readers", "writers")
    for bad in ({"db_port": "5432; DROP"}, {"encrypted": "md5"}, {"connlimit": -5},
                {"user": "-oops"}, {"password": ["x"]}):
        with pytest.raises(StateArgError):
            USER["present"].parse("linkpeek", bad)


def test_database_arguments():
    spec = DATABASE["present"].parse("linkpeek", {"owner": "linkpeek", "encoding": "UTF8",
                                                 "template": "template0"})
    assert spec.owner == "linkpeek" and spec.template == "template0"
    with pytest.raises(StateArgError):
        DATABASE["present"].parse("linkpeek", {"owner": "a\nb"})


def test_schema_and_extension_arguments():
    schema = SCHEMA["present"].parse("app", {"dbname": "linkpeek", "owner": "linkpeek",
                                             "db_port": 5433})
    assert (schema.dbname, schema.owner, schema.psql.port) == ("linkpeek", "linkpeek", 5433)
    ext = EXTENSION["present"].parse("pg_trgm", {"dbname": "linkpeek", "maybe_schema": "public",
                                                 "ext_version": "1.6"})
    assert (ext.dbname, ext.schema, ext.version) == ("linkpeek", "public", "1.6")
    for functions, name in ((SCHEMA, "app"), (EXTENSION, "pg_trgm")):
        for state in ("present", "absent"):
            with pytest.raises(StateArgError, match="dbname is required"):
                functions[state].parse(name, {})
            with pytest.raises(StateArgError, match="does not take 'bogus'"):
                functions[state].parse(name, {"dbname": "linkpeek", "bogus": 1})
            with pytest.raises(StateArgError, match="db_port"):
                functions[state].parse(name, {"dbname": "linkpeek", "db_port": "5432; DROP"})
