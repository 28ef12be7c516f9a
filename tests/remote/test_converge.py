"""`lpmaster apply` against three real minions: targeting, test mode, idempotence, secrets."""
from __future__ import annotations

import json

from tests.remote.conftest import DB_SECRET, WEB_SECRET


def test_test_mode_shows_the_diff_and_changes_nothing(fleet):
    proc = fleet.apply("web*", "--test")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "would be created" in proc.stdout or "would" in proc.stdout
    assert "web1:" in proc.stdout and "web2:" in proc.stdout and "db1:" not in proc.stdout
    assert not fleet.outdirs["web1"].exists() and not fleet.outdirs["web2"].exists()
    detailed = fleet.apply("web*", "--test", "--detailed-exitcodes")
    assert detailed.returncode == 2  # changes pending, nothing broken


def test_apply_web_converges_only_web_then_nothing_changes(fleet):
    proc = fleet.apply("web*", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    assert sorted(result) == ["web1", "web2"]
    conf = (fleet.outdirs["web1"] / "app.conf").read_text()
    assert f"api_key={WEB_SECRET}" in conf and "listen=8080" in conf
    assert (fleet.outdirs["web2"] / "motd").read_text() == "web node web2\n"
    assert not fleet.outdirs["db1"].exists()

    again = fleet.apply("web*", "--detailed-exitcodes")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Fleet summary" in again.stdout
    assert WEB_SECRET not in again.stdout + again.stderr


async def _as_minion(fleet, mid: str, requests: list[dict]) -> list[dict]:
    """Speak to the master's ROUTER with `mid`'s real key, as a hostile minion would."""
    from core.channel import ClientChannel
    from core.keys import load_keypair, read_public_key
    from minion.link import MasterLink

    pki = str(fleet.root / mid / "pki")
    pair = load_keypair(pki, "minion")
    channel = ClientChannel(read_public_key(f"{pki}/master.pub"), pair.public, pair.secret)
    link = MasterLink(channel, f"tcp://127.0.0.1:{fleet.req_port}")
    link.open()
    try:
        return [await link.request(req, timeout=30) for req in requests]
    finally:
        link.close()
        channel.close()


async def test_a_minion_gets_only_its_own_pillar_and_nothing_outside_the_tree(fleet):
    replies = await _as_minion(fleet, "web1", [
        {"type": "pillar", "id": "db1", "minion_id": "db1", "grains": {"id": "db1", "role": "db"}},
        {"type": "file", "path": "salt://../master.yaml"},
        {"type": "file", "path": "../pki/master.key"},
        {"type": "file", "path": "/etc/passwd"},
        {"type": "file", "path": "web/\x00init.sls"},
        {"type": "file_list", "path": "salt://../"},
        {"type": "file_stat", "paths": ["../pillar/db.sls"]},
        {"type": "file_batch", "paths": ["../pillar/db.sls", "../../db1/pki/minion.key"]},
    ])
    pillar = replies[0]
    assert pillar["pillar"] == {"app": {"port": 8080, "api_key": WEB_SECRET}}
    assert DB_SECRET not in json.dumps(replies)
    for reply in replies[1:6]:
        assert "error" in reply and "data" not in reply and "files" not in reply, reply
    assert set(replies[6]["files"]["../pillar/db.sls"]) == {"error"}
    assert all(set(v) == {"error"} for v in replies[7]["files"].values())


def test_run_state_apply_is_the_same_job(fleet):
    proc = fleet.cli("run", "web1", "state.apply", "web", "test=True", "--json")
    assert proc.returncode == 0, proc.stderr
    [state_return] = json.loads(proc.stdout).values()
    assert all("_|-" in tag for tag in state_return)
    text = fleet.cli("run", "web1", "state.apply", "web", "test=True")
    assert text.returncode == 0, text.stderr
    assert "Summary for web1" in text.stdout and "Total states run:" in text.stdout


def test_secrets_appear_nowhere_after_an_apply_that_embeds_them(fleet):
    # a new secret value: the re-rendered template would show it in a diff
    new_secret = "canary-rotated-5e19d0"
    web = fleet.pillar_file("web.sls")
    web.write_text(f"app:\n  port: 8080\n  api_key: {fleet.secret('app:api_key', new_secret)}\n")
    proc = fleet.apply("*")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert (fleet.outdirs["web1"] / "app.conf").read_text().endswith(f"api_key={new_secret}\n")
    assert (fleet.outdirs["db1"] / "db.conf").read_text() == f"password={DB_SECRET}\n"
    assert "the diff is hidden because it contains a secret" in out
    jid = out.split("lpmaster jobs show ")[1].split(")")[0]
    shown = fleet.cli("jobs", "show", jid).stdout + fleet.cli("jobs", "show", jid, "--json").stdout
    assert "web1" in shown and "db1" in shown
    assert "Summary for web1" in shown and "Summary for db1" in shown  # highstate output
    shown += fleet.cli("pillar", "show", "web1").stdout
    canaries = (new_secret, WEB_SECRET, DB_SECRET)
    for text, where in [(out, "apply output"), (shown, "jobs show / pillar show")]:
        assert not any(c in text for c in canaries), where
    # every file the master and the minions wrote: stores (SQLite + WAL), logs, caches, spools
    for path in sorted(fleet.root.rglob("*")):
        if not path.is_file() or "out" in path.relative_to(fleet.root).parts[:1]:
            continue
        data = path.read_bytes()
        for canary in canaries:
            assert canary.encode() not in data, f"{canary} found in {path}"


def test_a_tampered_token_fails_that_minion_only(fleet):
    db = fleet.pillar_file("db.sls")
    original = db.read_text()
    i = original.index("ENC[") + 40
    db.write_text(original[:i] + ("Q" if original[i] != "Q" else "R") + original[i + 1:])
    try:
        proc = fleet.apply("*")
    finally:
        db.write_text(original)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    db_part = out.split("db1:")[1].split("Summary")[0]
    assert "Pillar failed to render" in db_part and "db.sls" in db_part and "db:password" in db_part
    assert "Failed:             1  (db1)" in out
    assert "Succeeded:          2" in out
    assert "Traceback" not in out


def test_a_minion_that_does_not_answer_exits_2_or_4_with_detailed_codes(fleet):
    import signal

    db = fleet.minions["db1"]
    db.send_signal(signal.SIGSTOP)
    try:
        proc = fleet.apply("*", "--timeout", "4")
        detailed = fleet.apply("*", "--test", "--timeout", "4", "--detailed-exitcodes")
    finally:
        db.send_signal(signal.SIGCONT)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "db1 did not answer" in proc.stderr
    assert "Did not answer:     1  (db1)" in proc.stdout
    assert detailed.returncode == 4, detailed.stdout + detailed.stderr
