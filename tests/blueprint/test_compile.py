"""Every role of the blueprint, with the PostgreSQL and the MongoDB pillar, on a systemd host
and on one without systemd, compiles to a plan with no error and no warning."""

from __future__ import annotations

import logging
import warnings

import pytest

from core import secrets
from master.pillar import PillarService
from minion.state.compiler import compile_plan, plan_warnings
from minion.state.tree import StateTree
from tests.blueprint.kit import ROLE_HOSTS, STATES, write_pillar

MONGO = "linkpeek:\n  db:\n    engine: mongodb\n"


@pytest.fixture(scope="module")
def pillar_service(tmp_path_factory):
    def make(engine: str) -> PillarService:
        root = tmp_path_factory.mktemp(f"pillar-{engine}")
        keydir = root / "keys"
        key_path, pub_path = secrets.write_keypair(str(keydir))
        extra = {}
        if engine == "mongodb":
            extra = {"zz_engine.sls": MONGO}
        tree = root / "pillar"
        write_pillar(tree, secrets.load_public_key(pub_path), extra=extra)
        if extra:
            top = (tree / "top.sls").read_text().replace("    - linkpeek.common\n",
                                                        "    - linkpeek.common\n    - zz_engine\n")
            (tree / "top.sls").write_text(top)
        return PillarService(str(tree), key_path)

    return {"postgresql": make("postgresql"), "mongodb": make("mongodb")}


def grains_for(minion_id: str, init: str) -> dict:
    return {"id": minion_id, "os": "Debian", "os_family": "Debian", "oscodename": "bookworm",
            "init": init, "ipv4": ["10.231.0.9"], **ROLE_HOSTS[minion_id]}


@pytest.mark.parametrize("engine", ["postgresql", "mongodb"])
@pytest.mark.parametrize("init", ["systemd", "supervisord"])
@pytest.mark.parametrize("minion_id", sorted(ROLE_HOSTS))
def test_every_role_compiles_without_error_or_warning(pillar_service, minion_id, init, engine, caplog):
    grains = grains_for(minion_id, init)
    pillar, _ = pillar_service[engine].compile_for(minion_id, grains)
    assert pillar["linkpeek"]["db"]["engine"] == engine
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        plan = compile_plan(StateTree(str(STATES)), minion_id, grains, pillar, None, {})
        # strict: an unknown argument or a bad value is a compile error, not a run-time failure
        compile_plan(StateTree(str(STATES)), minion_id, grains, pillar, None,
                     {"strict_arguments": True})
    assert plan_warnings(plan) == []
    assert [str(w.message) for w in caught] == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    ids = {chunk.id for chunk in plan.chunks}
    assert {"linkpeek-packages", "admin-deploy", "sshd-linkpeek-conf"} <= ids
    assert ("linkpeek-backup-dir" in ids) == (minion_id == "dev1")  # a local restic repository
    packages = next(c for c in plan.chunks if c.id == "linkpeek-packages").args["pkgs"]
    web = {"linkpeek-web", "linkpeek-worker", "nginx-running", "linkpeek-production-ini"}
    db = {"linkpeek-db-role", "linkpeek-db"} if engine == "postgresql" else {"mongodb-repo", "mongodb"}
    roles = ROLE_HOSTS[minion_id]["roles"]
    assert (web <= ids) == ("web" in roles)
    assert (db <= ids) == ("db" in roles)
    assert not ({"linkpeek-db-role", "mongodb-repo"} & ids) or "db" in roles
    assert ("nginx" in packages) == ("web" in roles)
    assert ("postgresql" in packages) == ("db" in roles and engine == "postgresql")
