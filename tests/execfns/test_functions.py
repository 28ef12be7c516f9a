"""Issue 15.10: the execution functions people reach for, through a real master and minion:
listed and documented, arguments checked, Salt's output shapes, secrets masked. Issue 14.3:
cmd.run (what `lpmaster run '*' cmd.run '...'` calls) keeps its command off every argv."""
from __future__ import annotations

import hashlib
import json
import os

from tests.execfns.argv import sample_while
from tests.execfns.conftest import SECRET

CANARY = "canary-cmdrun-91c2e7"


def test_sys_lists_and_documents_every_function(fleet):
    ret = fleet.run_api("m1", "sys.list_functions")["m1"]["ret"]
    for name in ("sys.doc", "grains.items", "pillar.get", "pkg.install", "service.restart", "file.read",
                 "network.ip_addrs", "disk.usage", "status.uptime", "state.show_sls", "saltutil.sync_all"):
        assert name in ret
    assert ret == sorted(ret)
    assert fleet.run_api("m1", "sys.list_functions", "pkg.v*", "grains")["m1"]["ret"] == [
        "grains.get", "grains.item", "grains.items", "grains.ls", "pkg.version"]
    docs = fleet.run_api("m1", "sys.doc", "file.read")["m1"]["ret"]
    assert list(docs) == ["file.read"] and "1 MiB" in docs["file.read"] and "Arguments: path" in docs["file.read"]


def test_an_unknown_argument_is_refused_naming_what_the_function_takes(fleet):
    res = fleet.cli("run", "m1", "pillar.get", "app:port", "defualt=1")
    assert res.returncode == 1
    assert "pillar.get does not take 'defualt'; it takes: key, default, delimiter" in res.stdout
    res = fleet.cli("run", "m1", "test.ping", "extra")
    assert res.returncode == 1 and "test.ping takes 0 positional argument(s)" in res.stdout
    res = fleet.cli("run", "m1", "nosuch.fun")
    assert res.returncode == 1 and "sys.list_functions" in res.stdout


def test_grains_and_pillar_with_secrets_masked(fleet):
    got = fleet.run_api("m1", "grains.item", "id", "outdir")["m1"]["ret"]
    assert got == {"id": "m1", "outdir": str(fleet.out)}
    pillar = fleet.run_api("m1", "pillar.items")["m1"]
    assert pillar["success"] and pillar["ret"]["app"] == {"port": 8080, "name": "linkpeek"}
    assert pillar["ret"]["db"]["password"] == "***"
    assert fleet.run_api("m1", "pillar.get", "app:port")["m1"]["ret"] == 8080
    assert fleet.run_api("m1", "pillar.get", "nope", default="dflt")["m1"]["ret"] == "dflt"
    assert fleet.run_api("m1", "pillar.item", "db")["m1"]["ret"] == {"db": {"password": "***"}}
    assert fleet.run_api("m1", "saltutil.refresh_pillar")["m1"] == {"ret": True, "success": True, "retcode": 0}
    sync = fleet.run_api("m1", "saltutil.sync_all")["m1"]["ret"]
    assert sync["modules"] == [] and sync["states"] == [] and "nothing to sync" in sync["comment"]
    text = fleet.cli("run", "m1", "pillar.items").stdout + fleet.cli("jobs", "list", "--json").stdout
    assert SECRET not in text


def test_files_disk_and_uptime(fleet, tmp_path):
    path = tmp_path / "app.conf"
    path.write_text("listen=8080\n")
    os.chmod(path, 0o640)
    assert fleet.run_api("m1", "file.read", str(path))["m1"]["ret"] == "listen=8080\n"
    stats = fleet.run_api("m1", "file.stats", str(path), hash_type="sha256")["m1"]["ret"]
    assert stats["mode"] == "0640" and stats["type"] == "file" and stats["size"] == 12 and stats["user"] == "root"
    assert stats["sum"] == hashlib.sha256(b"listen=8080\n").hexdigest()
    big = tmp_path / "big"
    big.write_bytes(b"x" * (1024 * 1024 + 1))
    res = fleet.run_api("m1", "file.read", str(big))["m1"]
    assert res["success"] is False and "more than file.read returns" in res["ret"]
    assert fleet.run_api("m1", "file.file_exists", str(path))["m1"]["ret"] is True
    assert fleet.run_api("m1", "file.file_exists", str(tmp_path))["m1"]["ret"] is False
    missing = fleet.run_api("m1", "file.stats", str(tmp_path / "none"))["m1"]
    assert missing["success"] is False and "Path not found" in missing["ret"]
    usage = fleet.run_api("m1", "disk.usage")["m1"]["ret"]
    assert set(usage["/"]) == {"filesystem", "1K-blocks", "used", "available", "capacity"}
    up = fleet.run_api("m1", "status.uptime")["m1"]["ret"]
    assert set(up) == {"seconds", "since_iso", "since_t", "days", "time", "users"} and up["seconds"] > 0
    version = fleet.run_api("m1", "pkg.version", "git")["m1"]["ret"]
    assert version and version[0].isdigit()
    assert fleet.run_api("m1", "pkg.version", "git", "no-such-package-lp")["m1"]["ret"]["no-such-package-lp"] == ""


def test_show_sls_compiles_from_the_master_with_secrets_masked(fleet):
    motd = f"{fleet.out}/motd"
    before = os.stat(motd) if os.path.exists(motd) else None  # another test may have applied it
    res = fleet.run_api("m1", "state.show_sls", "web")["m1"]
    assert res["success"], res
    assert res["ret"][motd]["__sls__"] == "web"
    (args,) = [a for a in res["ret"][motd]["file"] if isinstance(a, dict) and "contents" in a]
    assert args["contents"] == "hello m1 ***"
    assert "say-hi" in res["ret"] and SECRET not in json.dumps(res)
    assert (os.stat(motd) if os.path.exists(motd) else None) == before  # nothing ran
    low = fleet.run_api("m1", "state.show_lowstate")["m1"]["ret"]
    assert [(c["state"], c["__id__"], c["fun"]) for c in low] == [
        ("file", motd, "managed"), ("test", "say-hi", "succeed_without_changes")]
    assert low[0]["contents"] == "hello m1 ***" and low[1]["require"] == [{"file": motd}]
    broken = fleet.run_api("m1", "state.show_sls", "broken")["m1"]
    assert broken["success"] is False and isinstance(broken["ret"], list) and "broken" in " ".join(broken["ret"])


def test_cmd_run_through_the_master_keeps_the_command_off_every_argv(fleet):
    command = f"pw='{CANARY}'; sleep 0.8; printf '%s' \"$pw\" | wc -c; echo err >&2; exit 3"
    returns, seen = sample_while(lambda: fleet.run_api("m1", "cmd.run", command), CANARY)
    assert seen.seen(b"sleep\x000.8") and seen.samples > 5
    assert not seen.leaked, seen.leaked
    assert returns["m1"] == {"ret": f"{len(CANARY)}\nerr", "success": False, "retcode": 3}


def test_cmd_run_all_and_the_shell_behave_as_with_sh_c(fleet):
    (ret,) = fleet.run_api("m1", "cmd.run_all", 'echo "$0"; env | grep -c LINKPEEK_SCRIPT; echo e >&2',
                           cwd="/tmp", success_retcodes="[1]").values()
    assert ret["success"] is True
    assert {k: ret["ret"][k] for k in ("retcode", "stdout", "stderr")} == {
        "retcode": 0, "stdout": "/bin/sh\n0", "stderr": "e"}
    (ret,) = fleet.run_api("m1", "cmd.run", "pwd", cwd="/tmp").values()
    assert ret["ret"] == "/tmp"
    (ret,) = fleet.run_api("m1", "cmd.retcode", "exit 4", ignore_retcode="True").values()
    assert ret == {"ret": 4, "success": True, "retcode": 0}
    (ret,) = fleet.run_api("m1", "cmd.run", "true", creates="/tmp").values()
    assert ret["success"] is False and "cmd.run does not take 'creates'" in ret["ret"] and "cwd" in ret["ret"]


def test_refresh_pillar_applies_a_changed_pillar_schedule_at_once(fleet):
    from tests.cluster import wait_for

    marker = fleet.root / "scheduled"
    pillar = fleet.master_dir / "pillar"
    top = (pillar / "top.sls").read_text()
    (pillar / "sched.sls").write_text(
        f"schedule:\n  tick:\n    function: cmd.run\n    job_args: ['touch {marker}']\n    seconds: 1\n")
    (pillar / "top.sls").write_text(top + "    - sched\n")
    try:
        assert fleet.run_api("m1", "saltutil.refresh_pillar")["m1"]["ret"] is True
        wait_for(marker.exists, 20, "the new pillar schedule job to run")
    finally:
        (pillar / "top.sls").write_text(top)
        fleet.run_api("m1", "saltutil.refresh_pillar")
