"""For every state function: test mode predicts exactly what the real run changes; a second
run changes nothing; after someone changes the host, test mode reports the drift again."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.runner.conftest import Harness, chunk

Setup = Callable[[Harness], None]


def _nothing(h: Harness) -> None:
    pass


def _tree_file(rel: str, text: str) -> Setup:
    def setup(h: Harness) -> None:
        p = h.tree / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)

    return setup


def _host_file(rel: str, text: str, mode: int = 0o644) -> Setup:
    def setup(h: Harness) -> None:
        p = h.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        os.chmod(p, mode)

    return setup


def _both(*setups: Setup) -> Setup:
    def setup(h: Harness) -> None:
        for s in setups:
            s(h)

    return setup


def _recurse_tree(h: Harness) -> None:
    for rel, text in {
        "site/index.html": "<h1>{{ grains['id'] }}</h1>\n",
        "site/css/a.css": "a{}\n",
        "site/js/app.js": "x\n",
    }.items():
        p = h.tree / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    (h.tree / "site/empty").mkdir()
    (h.root / "www").mkdir()
    (h.root / "www/stale.txt").write_text("old\n")
    (h.root / "www/css").mkdir()
    (h.root / "www/css/a.css").write_text("changed\n")


# (id, setup, chunk factory, mutate-after-converge)
CASES: list[tuple[str, Setup, Callable[[Harness], Any], Callable[[Harness], None]]] = [
    (
        "managed-new-contents",
        _nothing,
        lambda h: chunk(
            "file.managed", "motd", h.path("etc/motd"), contents="hello", makedirs=True, mode=600
        ),
        lambda h: Path(h.path("etc/motd")).write_text("tampered\n"),
    ),
    (
        "managed-source-template",
        _tree_file("web/app.conf", "id={{ grains['id'] }} port={{ port }}\n"),
        lambda h: chunk(
            "file.managed",
            "conf",
            h.path("app.conf"),
            source="salt://web/app.conf",
            template="jinja",
            defaults={"port": 80},
            context={"port": 8080},
        ),
        lambda h: Path(h.path("app.conf")).write_text("id=t1 port=80\n"),
    ),
    (
        "managed-existing-diff-and-mode",
        _both(_tree_file("f.txt", "a\nb\nc\n"), _host_file("f.txt", "a\nB\nc\n", 0o600)),
        lambda h: chunk("file.managed", "f", h.path("f.txt"), source="salt://f.txt", mode="0640"),
        lambda h: Path(h.path("f.txt")).write_text("x\n"),
    ),
    (
        "managed-local-source-replace-false",
        _both(_host_file("src.txt", "S\n"), _host_file("keep.txt", "mine\n", 0o600)),
        lambda h: chunk(
            "file.managed",
            "k",
            h.path("keep.txt"),
            source=h.path("src.txt"),
            replace=False,
            mode=644,
        ),
        lambda h: os.chmod(h.path("keep.txt"), 0o666),
    ),
    (
        "managed-pillar-contents",
        _nothing,
        lambda h: chunk("file.managed", "p", h.path("p.txt"), contents_pillar="app:motd"),
        lambda h: Path(h.path("p.txt")).write_text("y\n"),
    ),
    (
        "directory-new-recurse",
        _nothing,
        lambda h: chunk("file.directory", "d", h.path("a/b/c"), makedirs=True, dir_mode=750),
        lambda h: os.chmod(h.path("a/b/c"), 0o777),
    ),
    (
        "directory-recurse-mode-clean",
        _both(
            _host_file("d/x.txt", "x\n", 0o600),
            _host_file("d/sub/y.txt", "y\n", 0o666),
            _host_file("keep.txt", "k\n"),
        ),
        lambda h: chunk(
            "file.directory", "d", h.path("d"), file_mode=644, dir_mode=755, recurse=["mode"]
        ),
        lambda h: os.chmod(h.path("d/x.txt"), 0o600),
    ),
    (
        "symlink-new",
        _nothing,
        lambda h: chunk(
            "file.symlink", "l", h.path("links/l"), target="/etc/hostname", makedirs=True
        ),
        lambda h: (os.unlink(h.path("links/l")), os.symlink("/etc/passwd", h.path("links/l"))),
    ),
    (
        "symlink-force-over-file",
        _host_file("l2", "I am a file\n"),
        lambda h: chunk("file.symlink", "l2", h.path("l2"), target="elsewhere", force=True),
        lambda h: (os.unlink(h.path("l2")), Path(h.path("l2")).write_text("again\n")),
    ),
    (
        "absent",
        _host_file("gone/x.txt", "bye\n"),
        lambda h: chunk("file.absent", "gone", h.path("gone")),
        lambda h: os.mkdir(h.path("gone")),
    ),
    (
        "replace-keeps-bak",
        _host_file("cfg", "PermitRootLogin yes\nPort 22\n"),
        lambda h: chunk(
            "file.replace",
            "cfg",
            h.path("cfg"),
            pattern="^PermitRootLogin .*$",
            repl="PermitRootLogin no",
        ),
        lambda h: Path(h.path("cfg")).write_text("PermitRootLogin maybe\n"),
    ),
    (
        "replace-append-if-not-found",
        _host_file("cfg2", "Port 22"),
        lambda h: chunk(
            "file.replace",
            "cfg2",
            h.path("cfg2"),
            pattern="^X11Forwarding .*$",
            repl="X11Forwarding no",
            append_if_not_found=True,
        ),
        lambda h: Path(h.path("cfg2")).write_text("Port 22\n"),
    ),
    (
        "append",
        _host_file("hosts", "127.0.0.1 localhost"),
        lambda h: chunk(
            "file.append", "hosts", h.path("hosts"), text=["10.0.0.5 db1", "10.0.0.6   db2"]
        ),
        lambda h: Path(h.path("hosts")).write_text("10.0.0.5 db1\n"),
    ),
    (
        "recurse-clean-include-empty",
        _recurse_tree,
        lambda h: chunk(
            "file.recurse",
            "www",
            h.path("www"),
            source="salt://site",
            clean=True,
            include_empty=True,
            template="jinja",
            file_mode=640,
        ),
        lambda h: Path(h.path("www/css/a.css")).write_text("drift\n"),
    ),
    (
        "cmd-run-creates",
        _nothing,
        lambda h: chunk(
            "cmd.run", "touch", f"echo made > {h.path('made')}", creates=h.path("made")
        ),
        lambda h: os.unlink(h.path("made")),
    ),
    (
        "cmd-run-unless",
        _nothing,
        lambda h: chunk(
            "cmd.run", "u", f"echo x >> {h.path('log')}", unless=f"test -s {h.path('log')}"
        ),
        lambda h: Path(h.path("log")).write_text(""),
    ),
    (
        "cmd-run-onlyif-list",
        _host_file("flag", "1\n"),
        lambda h: chunk(
            "cmd.run", "o", f"rm {h.path('flag')}", onlyif=[f"test -f {h.path('flag')}", "true"]
        ),
        lambda h: Path(h.path("flag")).write_text("1\n"),
    ),
]


def _changes(results: dict[str, dict]) -> dict[str, Any]:
    ((tag, res),) = results.items()
    return res


@pytest.mark.parametrize("case_id,setup,make,mutate", CASES, ids=[c[0] for c in CASES])
def test_test_mode_predicts_the_real_run_and_second_run_is_clean(
    harness: Harness, case_id, setup, make, mutate
):
    setup(harness)
    pillar = {"app": {"motd": "from pillar"}}
    c = make(harness)
    predicted = _changes(harness.run([c], test=True, pillar=pillar))
    assert predicted["result"] is None, predicted
    assert predicted["changes"], predicted
    snapshot = _host_snapshot(harness.root)
    assert _host_snapshot(harness.root) == snapshot  # test mode changed nothing (checked below too)

    real = _changes(harness.run([c], pillar=pillar))
    assert real["result"] is True, real
    if c.state == "cmd":
        assert real["changes"]["retcode"] == 0
        if c.args.get("stateful"):
            assert real["comment"] == "created it"
    else:
        assert _in_salt_test_shape(real["changes"], c.name) == predicted["changes"]

    again = _changes(harness.run([c], pillar=pillar))
    assert again["result"] is True and again["changes"] == {}, again
    clean_test = _changes(harness.run([c], test=True, pillar=pillar))
    assert clean_test["result"] is True and clean_test["changes"] == {}, clean_test

    mutate(harness)
    drift = _changes(harness.run([c], test=True, pillar=pillar))
    assert drift["result"] is None and drift["changes"], drift
    fixed = _changes(harness.run([c], pillar=pillar))
    assert fixed["result"] is True and fixed["changes"]
    assert _changes(harness.run([c], pillar=pillar))["changes"] == {}


def _in_salt_test_shape(changes: dict[str, Any], name: str) -> dict[str, Any]:
    """What Salt's test mode shows for a real run's changes: a file the run created is
    `{newfile: path}` (the real run says `{diff: New file}` and the owner it gave)."""
    if changes.get("diff") == "New file":
        return {"newfile": name}
    return {
        k: _in_salt_test_shape(v, k) if isinstance(v, dict) and k.startswith("/") else v
        for k, v in changes.items()
    }


def _host_snapshot(root: Path) -> dict[str, Any]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            body = (
                open(p, "rb").read()
                if stat.S_ISREG(st.st_mode)
                else (os.readlink(p) if stat.S_ISLNK(st.st_mode) else None)
            )
            out[p] = (st.st_mode, st.st_uid, body)
    return out


@pytest.mark.parametrize("case_id,setup,make,mutate", CASES, ids=[c[0] for c in CASES])
def test_test_mode_changes_nothing_on_the_host(harness: Harness, case_id, setup, make, mutate):
    setup(harness)
    before = _host_snapshot(harness.root)
    harness.run([make(harness)], test=True, pillar={"app": {"motd": "m"}})
    assert _host_snapshot(harness.root) == before


def test_contents_gets_a_trailing_newline_and_mode_600_means_octal(harness: Harness):
    harness.run([chunk("file.managed", "m", harness.path("m"), contents="one\ntwo", mode=600)])
    assert Path(harness.path("m")).read_text() == "one\ntwo\n"
    assert stat.S_IMODE(os.stat(harness.path("m")).st_mode) == 0o600


def test_replace_keeps_a_bak_with_the_old_text(harness: Harness):
    Path(harness.path("c")).write_text("a=1\n")
    harness.run([chunk("file.replace", "c", harness.path("c"), pattern="a=1", repl="a=2")])
    assert Path(harness.path("c")).read_text() == "a=2\n"
    assert Path(harness.path("c.bak")).read_text() == "a=1\n"


def test_managed_diff_is_unified(harness: Harness):
    Path(harness.path("f")).write_text("a\nb\n")
    res = _changes(harness.run([chunk("file.managed", "f", harness.path("f"), contents="a\nc")]))
    assert "-b\n" in res["changes"]["diff"] and "+c\n" in res["changes"]["diff"]
    assert res["comment"] == f"File {harness.path('f')} updated"


def test_source_hash_mismatch_fails_and_writes_nothing(harness: Harness):
    (harness.tree / "s").write_text("data\n")
    res = _changes(
        harness.run(
            [
                chunk(
                    "file.managed",
                    "f",
                    harness.path("f"),
                    source="salt://s",
                    source_hash="sha256=" + "0" * 64,
                )
            ]
        )
    )
    assert res["result"] is False and "source_hash" in res["comment"]
    assert not os.path.exists(harness.path("f"))
    import hashlib

    good = hashlib.sha256(b"data\n").hexdigest()
    res = _changes(
        harness.run(
            [chunk("file.managed", "f", harness.path("f"), source="salt://s", source_hash=good)]
        )
    )
    assert res["result"] is True


def test_directory_clean_keeps_what_its_requisites_manage(harness: Harness):
    d = harness.root / "conf.d"
    d.mkdir()
    (d / "old.conf").write_text("x")
    managed = chunk("file.managed", "site", str(d / "site.conf"), contents="y")
    directory = chunk(
        "file.directory", "confd", str(d), clean=True, edges=(("require", managed.tag),)
    )
    results = harness.run([managed, directory])
    assert sorted(os.listdir(d)) == ["site.conf"]
    assert results[directory.tag]["changes"] == {
        str(d / "old.conf"): {"removed": "Removed due to clean"},
        "removed": [str(d / "old.conf")],
    }


def test_managed_missing_parent_without_makedirs_fails(harness: Harness):
    res = _changes(
        harness.run([chunk("file.managed", "f", harness.path("no/such/f"), contents="x")])
    )
    assert res["result"] is False and "makedirs" in res["comment"]


def test_cmd_run_failure_is_a_failed_state_with_output(harness: Harness):
    res = _changes(harness.run([chunk("cmd.run", "bad", "echo oops >&2; exit 3")]))
    assert res["result"] is False
    assert res["changes"]["retcode"] == 3 and res["changes"]["stderr"] == "oops"


def test_cmd_run_cwd_env_and_timeout(harness: Harness):
    res = _changes(
        harness.run(
            [
                chunk(
                    "cmd.run",
                    "e",
                    'echo "$GREETING $(pwd)"',
                    cwd=str(harness.root),
                    env={"GREETING": "hi"},
                )
            ]
        )
    )
    assert res["changes"]["stdout"] == f"hi {harness.root}"
    res = _changes(harness.run([chunk("cmd.run", "slow", "sleep 30", timeout=0.5)]))
    assert res["result"] is False and "timed out" in res["comment"]


@pytest.mark.skipif(os.geteuid() != 0, reason="runas needs root")
def test_cmd_run_runas(harness: Harness):
    res = _changes(harness.run([chunk("cmd.run", "who", "id -un", runas="nobody")]))
    assert res["changes"]["stdout"] == "nobody"


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_managed_user_and_group(harness: Harness):
    c = chunk(
        "file.managed", "o", harness.path("owned"), contents="x", user="nobody", group="nogroup"
    )
    predicted = _changes(harness.run([c], test=True))
    real = _changes(harness.run([c]))
    assert predicted["changes"] == {"newfile": harness.path("owned")}
    assert real["changes"] == {"diff": "New file", "user": "nobody", "group": "nogroup"}
    import pwd

    assert pwd.getpwuid(os.stat(harness.path("owned")).st_uid).pw_name == "nobody"
    assert _changes(harness.run([c]))["changes"] == {}


def test_cmd_run_stateful_reports_what_the_script_says(harness: Harness):
    marker = harness.path("st")
    c = chunk(
        "cmd.run",
        "s",
        f"if [ -e {marker} ]; then echo changed=no comment=fine; else touch {marker};"
        " echo \"changed=yes comment='created it'\"; fi",
        stateful=True,
    )
    first = _changes(harness.run([c]))
    assert (
        first["result"] is True
        and first["comment"] == "created it"
        and first["changes"]["retcode"] == 0
    )
    second = _changes(harness.run([c]))
    assert second["result"] is True and second["changes"] == {} and second["comment"] == "fine"


def test_test_mode_does_not_fail_a_file_whose_directory_an_earlier_state_creates(harness: Harness):
    d = chunk("file.directory", "d", harness.path("conf.d"))
    f = chunk("file.managed", "f", harness.path("conf.d/x.conf"), contents="x")
    link = chunk("file.symlink", "l", harness.path("conf.d/l"), target="x.conf")
    app = chunk("file.append", "a", harness.path("conf.d/a"), text="line")
    dry = harness.run([d, f, link, app], test=True)
    assert all(r["result"] is None for r in dry.values()), dry
    real = harness.run([d, f, link, app])
    assert all(r["result"] is True for r in real.values()), real
    assert {t: r["changes"] for t, r in dry.items()} == {
        t: _in_salt_test_shape(r["changes"], r["name"]) for t, r in real.items()
    }


def test_an_unknown_user_is_a_pending_change_in_test_mode_and_a_failure_for_real(harness: Harness):
    c = chunk("file.managed", "o", harness.path("o"), contents="x", user="no-such-user-lp")
    (dry,) = harness.run([c], test=True).values()
    assert dry["result"] is None and dry["changes"] == {"newfile": harness.path("o")}
    (real,) = harness.run([c]).values()
    assert real["result"] is False and "no-such-user-lp is not available" in real["comment"]
    assert not Path(harness.path("o")).exists()
