"""A files restore in place onto another host (a drill's scratch host, a rebuild's new one) brings
back the data but never that host's identity nor the running minion's own config, key and state.
Real restic, inside a test host (the in-place target is its `/`)."""
from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from minion.backup.protect import Rules
from tests.backup.conftest import PASSWORD
from tests.hostlib import Host

CHECKOUT = str(Path(__file__).parents[2])
REPO = "/var/tmp/lp-restic"
OWN = "/srv/lpt/minion"        # the fake minion's root (its pki inside), part of the backed-up tree
PROTECTED = ["/etc/hostname", "/etc/hosts", "/etc/machine-id", "/etc/linkpeek-ops/minion.yaml",
             "/etc/ssh/ssh_host_ed25519_key", f"{OWN}/pki/minion.pem", f"{OWN}/minion.yaml"]
JOB = {"source": "files", "cron": "0 4 * * 0", "exclude": ["*.old"],
       "paths": ["/etc/hostname", "/etc/hosts", "/etc/machine-id", "/etc/linkpeek-ops", "/etc/ssh", "/srv/lpt"]}
ENGINE = textwrap.dedent("""
    import json, os, sys
    from minion.backup.spec import parse_backup
    from minion.backup.run import run_backup
    from minion.backup.restore import restore
    req = json.load(sys.stdin)
    spec = parse_backup(req["backup"], req.get("id", "x"))
    job = spec.job("etc-weekly")
    if req["op"] == "run":
        out = run_backup(spec, job, "/var/cache/lp/restic")
    elif req["op"] == "restore":
        out = restore(spec, job, "/var/cache/lp/restic", **req["kwargs"])
    else:
        out = {}
        for root in req["roots"]:
            for dirpath, dirs, files in os.walk(root):
                for name in [""] + dirs + files:
                    p = os.path.join(dirpath, name) if name else dirpath
                    st = os.lstat(p)
                    body = (os.readlink(p) if os.path.islink(p) else
                            None if os.path.isdir(p) else open(p, "rb").read().hex())
                    out[p] = [st.st_mode, st.st_uid, st.st_gid, body]
    print(json.dumps(out))
""")


def _engine(host: Host, op: str, **req: Any) -> Any:
    backup = {"repository": REPO, "password": PASSWORD, "jobs": {"etc-weekly": JOB}}
    proc = host.run([sys.executable, "-c", ENGINE], input=json.dumps({"op": op, "backup": backup, **req}),
                    cwd=CHECKOUT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _identity(host: Host, who: str) -> None:
    for path in PROTECTED:
        host.run(["mkdir", "-p", str(Path(path).parent)], check=True)
        host.write_text(path, f"{who} {path}\n", mode=0o600)


@pytest.mark.host
def test_in_place_restore_keeps_the_hosts_identity_and_the_minions_own_files() -> None:
    with Host.start("lpsrc", network_on=False) as host:
        _identity(host, "source")
        host.run(["mkdir", "-p", "/srv/lpt/app/data", "/srv/lpt/app/empty"], check=True)
        host.write_text("/srv/lpt/app/app.conf", "workers: 4\n", mode=0o640)
        host.write_text("/srv/lpt/app/local.conf", "source local\n")
        host.write_text("/srv/lpt/app/data/blob", "x" * 70_000)
        host.write_text("/srv/lpt/app/skip.old", "old\n")
        host.run(["chown", "123:456", "/srv/lpt/app/app.conf"], check=True)
        host.run(["ln", "-s", "app.conf", "/srv/lpt/app/current"], check=True)
        host.write_text("/etc/ssh/sshd_config", "PasswordAuthentication no\n")
        source_tree = _engine(host, "tree", roots=["/srv/lpt/app"])
        record = _engine(host, "run", id="web1")
        assert record["success"], record["error"]

        # the scratch host: its own identity and minion; the data damaged
        _identity(host, "scratch")
        host.run(["rm", "-rf", "/srv/lpt/app/data", "/srv/lpt/app/skip.old"], check=True)
        host.run(["ln", "-sfn", "local.conf", "/srv/lpt/app/current"], check=True)   # restic 0.14: "file exists"
        host.write_text("/srv/lpt/app/app.conf", "workers: 1 (scratch)\n")
        host.write_text("/srv/lpt/app/local.conf", "scratch local\n")
        host.write_text("/etc/ssh/sshd_config", "# scratch's\n")

        result = _engine(host, "restore", id="scratch", kwargs={
            "in_place": True, "host": "web1", "own": [OWN], "exclude": ["/srv/lpt/app/local.conf"]})

        for path in PROTECTED:
            assert host.read_text(path) == f"scratch {path}\n", path
        assert host.read_text("/srv/lpt/app/local.conf") == "scratch local\n"
        assert host.read_text("/etc/ssh/sshd_config") == "PasswordAuthentication no\n"
        restored = _engine(host, "tree", roots=["/srv/lpt/app"])
        source_tree.pop("/srv/lpt/app/local.conf")
        assert restored.pop("/srv/lpt/app/local.conf")
        assert restored == {p: v for p, v in source_tree.items() if not p.endswith(".old")}
        skipped = {s["path"]: s["why"] for s in result["skipped"]}
        assert skipped == {
            "/etc/hostname": "this host's identity", "/etc/hosts": "this host's identity",
            "/etc/machine-id": "this host's identity",
            "/etc/linkpeek-ops": "this host's linkpeek-ops config and minion key",
            "/etc/ssh/ssh_host_ed25519_key": "this host's SSH host keys",
            OWN: "the running minion's own config, key or state",
            "/srv/lpt/app/local.conf": "exclude=/srv/lpt/app/local.conf",
        } | {p: "this host's SSH host keys" for p in skipped if p.startswith("/etc/ssh/ssh_host_")}


def test_rules_select_like_restics_filter_and_name_each_subtree_once() -> None:
    rules = Rules.for_restore(in_place=True, own=["/srv/m", "/"], job_exclude=["*.old", "/var/**/tmp"],
                              exclude=["/etc/fstab"])
    excludes, skipped = rules.plan(["/etc", "/etc/hosts", "/etc/hosts.allow", "/etc/a.old", "/etc/x/b.old",
                                    "/etc/fstab", "/srv/m", "/srv/m/pki", "/srv/m/pki/k", "/srv/mx",
                                    "/var/a/b/tmp", "/var/a/b/tmp/f", "/etc/ssh/ssh_host_[x]_key"])
    assert [s["path"] for s in skipped] == ["/etc/a.old", "/etc/fstab", "/etc/hosts", "/etc/ssh/ssh_host_[x]_key",
                                            "/etc/x/b.old", "/srv/m", "/var/a/b/tmp"]
    assert excludes[3] == "/etc/ssh/ssh_host_\\[x\\]_key"
    assert Rules.for_restore(in_place=False, own=["/srv/m"]).plan(["/etc/hosts", "/srv/m"]) == ([], [])


def test_backup_restore_protects_the_config_the_minion_runs_from(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.config import MinionConfig
    from minion.functions.backup import own_paths

    monkeypatch.setenv("LPMINION_CONFIG", "/opt/lp/conf/minion.yaml")
    assert own_paths(MinionConfig(root="/var/lib/lp", id="web1")) == [
        "/var/lib/lp", "/var/lib/lp/pki", "/opt/lp/conf/minion.yaml"]
