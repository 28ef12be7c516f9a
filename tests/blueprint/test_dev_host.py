"""The dev blueprint on one fresh test host, through the real master and minion: `lpminion
init` + `keys accept` + the converge on boot turn bare Debian into a LinkPeek server.

One host is shared by the tests of this module, in order: converge, use, re-converge,
drift, health, hand edits."""

from __future__ import annotations

import json

import pytest

from tests.blueprint.conftest import DB_PASSWORD
from tests.blueprint.lab import LPMINION, changed_states, failed_states, https_get, wait

pytestmark = pytest.mark.host


@pytest.fixture(scope="module")
def dev(lab):
    host = lab.add_host("dev1", roles=["web", "db"])
    boot = lab.wait_boot_converge("dev1")
    if not boot["success"]:
        print(host.log("lpminion")[-6000:])
    return host, boot


def _supervised(host) -> dict[str, str]:
    out = host.run(["supervisorctl", "status"]).stdout
    return {line.split()[0]: line.split()[1] for line in out.splitlines() if line.strip()}


def test_bare_host_converges_on_boot_to_https(lab, dev):
    host, boot = dev
    assert boot["success"] is True, failed_states(boot["ret"])
    assert failed_states(boot["ret"]) == {}
    health = https_get(host, "/healthz")
    assert health.stdout.splitlines()[-1] == "200" and health.stdout.startswith("ok")
    redirect = host.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                         "http://127.0.0.1/links.json"]).stdout
    assert redirect == "301 https://127.0.0.1/links.json"
    key = host.path("/etc/ssl/linkpeek/linkpeek.key").stat()
    assert oct(key.st_mode & 0o777) == "0o600"
    ini = host.path("/etc/linkpeek/production.ini")
    assert oct(ini.stat().st_mode & 0o777) == "0o640"
    assert f"linkpeek.db_password = {DB_PASSWORD}" in ini.read_text()
    assert "pyramid.debug_notfound = true" in ini.read_text()  # dev: debug mode


def test_both_programs_run_under_supervisord(dev):
    host, _ = dev
    programs = _supervised(host)
    assert programs["linkpeek-web"] == "RUNNING" and programs["linkpeek-worker"] == "RUNNING"


def test_hardening_admins_keys_sshd_and_upgrades(dev):
    host, _ = dev
    sshd = host.run(["sshd", "-T"], check=True).stdout
    assert "passwordauthentication no" in sshd and "permitrootlogin no" in sshd
    assert _supervised(host)["ssh"] == "RUNNING"
    assert "sudo" in host.run(["id", "-nG", "deploy"], check=True).stdout.split()
    keys = host.read_text("/home/deploy/.ssh/authorized_keys")
    assert "deploy@example" in keys and keys.startswith("ssh-ed25519 ")
    assert 'APT::Periodic::Unattended-Upgrade "1";' in host.read_text("/etc/apt/apt.conf.d/20auto-upgrades")


def test_a_link_posted_is_listed_back_with_its_fetched_title(dev):
    host, _ = dev
    posted = https_get(host, "/links", "-X", "POST", "-H", "Content-Type: application/json",
                       "--data", json.dumps({"url": "http://127.0.0.1/static/about.html"}))
    assert posted.stdout.splitlines()[-1] == "201", posted.stdout

    def titled() -> list:
        body = https_get(host, "/links.json").stdout.rsplit("\n", 1)[0]
        return [link for link in json.loads(body) if link["title"] == "About LinkPeek"]

    wait(titled, "the worker to fetch the link's title", timeout=60)
    page = https_get(host, "/").stdout
    assert ">About LinkPeek</a>" in page


def test_second_apply_changes_nothing(lab, dev):
    code, data = lab.apply("dev1")
    assert code == 0, failed_states(data.get("dev1"))
    assert changed_states(data["dev1"]) == {}


def test_the_declared_backups_run(lab, dev):
    host, _ = dev
    for job in ("db-nightly", "etc-weekly"):
        run = lab.cli("backup", "run", "dev1", job, timeout=300)
        assert run.returncode == 0, run.stdout + run.stderr
    check = lab.cli("run", "dev1", "backup.check", "--timeout", "300", timeout=330)
    assert check.returncode == 0, check.stdout + check.stderr
    backups = json.loads(lab.cli("backups", "dev1", "--json").stdout)
    assert {b["job"]: b["status"] for b in backups} == {"db-nightly": "ok", "etc-weekly": "ok",
                                                       "verify": "ok"}


def test_drift_is_clean_and_health_passes(lab, dev):
    drift = lab.cli("drift", "dev1", "--refresh", "--timeout", "300", "--json", timeout=600)
    assert drift.returncode == 0, drift.stdout + drift.stderr
    health = lab.cli("health", "dev1", "--json", timeout=600)
    assert health.returncode == 0, health.stdout + health.stderr
    report = json.loads(health.stdout)["dev1"]
    assert report["healthy"] and set(report["checks"]) >= {"https-healthz", "app-programs",
                                                           "postgres-ready", "http-redirect"}


def test_a_stopped_program_is_unhealthy_until_apply_starts_it(lab, dev):
    host, _ = dev
    host.run(["supervisorctl", "stop", "linkpeek-worker"], check=True)
    health = lab.cli("health", "dev1", "--json")
    assert health.returncode == 2
    checks = json.loads(health.stdout)["dev1"]["checks"]
    assert not checks["app-programs"]["healthy"] and checks["https-healthz"]["healthy"]
    code, data = lab.apply("dev1")
    assert code == 0 and list(changed_states(data["dev1"])) == [
        "service_|-linkpeek-worker_|-linkpeek-worker_|-running"]
    assert lab.cli("health", "dev1").returncode == 0


def test_a_hand_edit_of_nginx_config_is_drift_and_apply_restores_it(lab, dev):
    host, _ = dev
    conf = "/etc/nginx/sites-available/linkpeek.conf"
    original = host.read_text(conf)
    host.write_text(conf, original.replace("expires 1h;", "expires 9d;"))
    drift = lab.cli("drift", "dev1", "--refresh", "--timeout", "300", "--json", timeout=600)
    assert drift.returncode == 2
    assert conf in drift.stdout
    code, data = lab.apply("dev1")
    assert code == 0, failed_states(data["dev1"])
    changed = changed_states(data["dev1"])
    assert f"file_|-nginx-site-linkpeek_|-{conf}_|-managed" in changed
    assert "cmd_|-nginx-config-test_|-nginx -t -q_|-run" in changed  # checked before the reload
    assert "service_|-nginx-running_|-nginx_|-running" in changed  # reloaded
    assert host.read_text(conf) == original
    assert host.run(["nginx", "-t", "-q"]).returncode == 0
    assert https_get(host, "/healthz").stdout.splitlines()[-1] == "200"


def test_a_role_password_changed_by_hand_is_drift_and_apply_sets_it_back(lab, dev):
    host, _ = dev
    host.run(["runuser", "-u", "postgres", "--", "psql", "-q", "-c",
              "ALTER ROLE linkpeek PASSWORD 'changed-by-hand'"], check=True)
    code, data = lab.apply("dev1", "--test")
    pending = changed_states(data["dev1"])
    assert pending == {"postgres_user_|-linkpeek-db-role_|-linkpeek_|-present":
                       {"password": {"old": "***", "new": "***"}}}
    code, data = lab.apply("dev1")
    assert code == 0 and list(changed_states(data["dev1"])) == list(pending)
    code, data = lab.apply("dev1", "--test")
    assert changed_states(data["dev1"]) == {}
    # a verifier PostgreSQL made itself from the right password is recognised as in place
    host.run(["runuser", "-u", "postgres", "--", "psql", "-q"], check=True,
             input=f"ALTER ROLE linkpeek PASSWORD '{DB_PASSWORD}';\n")
    code, data = lab.apply("dev1", "--test")
    assert changed_states(data["dev1"]) == {}


def test_the_database_password_is_in_no_log_store_or_process_list(lab, dev):
    host, _ = dev
    assert DB_PASSWORD not in host.log("lpminion")
    for path in lab.logs():
        assert DB_PASSWORD not in path.read_text(errors="replace"), path
    assert DB_PASSWORD.encode() not in (lab.master_dir / "master.db").read_bytes()
    assert all(DB_PASSWORD not in cmd for cmd in host.processes().values())
    pg_log = host.run(["sh", "-c", "cat /var/log/postgresql/*.log 2>/dev/null"]).stdout
    assert DB_PASSWORD not in pg_log


def test_schema_and_extension_states_on_the_real_server(dev):
    """postgres_schema / postgres_extension (not used by the blueprint) against its PostgreSQL:
    test mode predicts the real run, a second run changes nothing."""
    host, _ = dev
    host.write_text("/srv/pgtest/pg.sls", """
reports:
  postgres_schema.present:
    - dbname: linkpeek
    - owner: linkpeek
trgm:
  postgres_extension.present:
    - name: pg_trgm
    - dbname: linkpeek
    - schema: reports
    - require:
      - postgres_schema: reports
""")

    def apply(*extra):
        proc = host.run([LPMINION, "apply", "--local", "--state-tree", "/srv/pgtest", "--json", *extra,
                         "--", "pg"])
        return {r["__id__"]: r for r in json.loads(proc.stdout).values()}

    predicted = apply("--test")
    assert {k: r["result"] for k, r in predicted.items()} == {"reports": None, "trgm": None}
    real = apply()
    assert {k: r["changes"] for k, r in real.items()} == {k: r["changes"] for k, r in predicted.items()}
    assert all(r["result"] is True for r in real.values())
    assert all(r["changes"] == {} and r["result"] is True for r in apply().values())
    out = host.run(["runuser", "-u", "postgres", "--", "psql", "-At", "-d", "linkpeek", "-c",
                    "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                    "WHERE extname = 'pg_trgm'"]).stdout.strip()
    assert out == "reports"


def test_absent_states_on_the_real_server(dev):
    """postgres_extension/schema/database/user.absent against the host's PostgreSQL: test mode
    predicts the drops, the real run makes them, a second run changes nothing and says why."""
    host, _ = dev
    host.write_text("/srv/pgtest/made.sls", """
scratch_role:
  postgres_user.present:
    - login: False
scratch_db:
  postgres_database.present:
    - owner: scratch_role
    - require:
      - postgres_user: scratch_role
scratch_schema:
  postgres_schema.present:
    - dbname: scratch_db
    - require:
      - postgres_database: scratch_db
scratch_trgm:
  postgres_extension.present:
    - name: pg_trgm
    - dbname: scratch_db
    - schema: scratch_schema
    - require:
      - postgres_schema: scratch_schema
""")
    host.write_text("/srv/pgtest/gone.sls", """
scratch_trgm:
  postgres_extension.absent:
    - name: pg_trgm
    - dbname: scratch_db
scratch_schema:
  postgres_schema.absent:
    - dbname: scratch_db
    - require:
      - postgres_extension: scratch_trgm
scratch_db:
  postgres_database.absent:
    - require:
      - postgres_schema: scratch_schema
scratch_role:
  postgres_user.absent:
    - require:
      - postgres_database: scratch_db
""")

    def apply(sls, *extra):
        proc = host.run([LPMINION, "apply", "--local", "--state-tree", "/srv/pgtest", "--json", *extra,
                         "--", sls])
        return {r["__id__"]: r for r in json.loads(proc.stdout).values()}

    def psql(sql, db="postgres"):
        return host.run(["runuser", "-u", "postgres", "--", "psql", "-At", "-d", db, "-c", sql]).stdout.strip()

    assert all(r["result"] is True for r in apply("made").values())
    assert psql("SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'", db="scratch_db") == "pg_trgm"
    predicted = apply("gone", "--test")
    assert {k: r["result"] for k, r in predicted.items()} == dict.fromkeys(
        ("scratch_trgm", "scratch_schema", "scratch_db", "scratch_role"), None)
    assert predicted["scratch_db"]["changes"] == {"database": {"old": "scratch_db", "new": None}}
    assert predicted["scratch_role"]["changes"] == {"role": {"old": "scratch_role", "new": None}}
    real = apply("gone")
    assert {k: r["changes"] for k, r in real.items()} == {k: r["changes"] for k, r in predicted.items()}
    assert all(r["result"] is True for r in real.values()), real
    assert psql("SELECT count(*) FROM pg_database WHERE datname = 'scratch_db'") == "0"
    assert psql("SELECT count(*) FROM pg_roles WHERE rolname = 'scratch_role'") == "0"
    again = apply("gone")
    assert all(r["changes"] == {} and r["result"] is True for r in again.values())
    assert again["scratch_role"]["comment"] == "role scratch_role is absent"
    assert again["scratch_db"]["comment"] == "database scratch_db is absent"
    assert again["scratch_schema"]["comment"] == "schema scratch_schema is absent: there is no database scratch_db"
    assert again["scratch_trgm"]["comment"] == "extension pg_trgm is absent: there is no database scratch_db"
