"""Item 2 of issue 13: arguments as Salt 3008 takes them, with warnings instead of refusals.

Salt 3008.5, recorded on the same trees (`salt-call --local state.apply`):
  test.nop with `bogus: 1`            result True, no complaint (the function takes **kwargs)
  file.managed with `mode: 999`       only that state fails, when it runs
  unless: "true" on any state         result True, changes {}, "unless condition is true"
  onlyif: "false" on file.managed     result True, changes {}, "onlyif condition is false"
  creates: /etc/hostname              result True, changes {}, "/etc/hostname exists"
  retry {attempts: 3, interval: 0}    three runs; the comment lists attempts 1 and 2, then the
                                      last run's own comment
"""
from __future__ import annotations

import os
import subprocess

import pytest

from core.errors import CompileError
from core.stateoutput import format_highstate
from tests.compat.conftest import by_id

UNKNOWN = {
    "a.sls": """
    motd:
      file.managed:
        - name: @HOST@/motd
        - contents: hi
        - bogus: 1
    sudo:
      test.nop:
        - fromrepos: bookworm
    """,
}


def test_an_unknown_argument_compiles_runs_and_warns_naming_it_and_what_the_function_takes(tree):
    plan = tree.compile(UNKNOWN, ["a"])
    motd = plan.chunks[0]
    (warning,) = motd.warnings
    head, takes = warning.split("; it takes: ")
    assert head == "file.managed does not take 'bogus' (ignored)"
    assert {"contents", "mode", "source", "template", "user"} <= set(takes.split(", "))
    results = by_id(tree.run(plan))
    assert results["motd"]["result"] is True
    assert (tree.host / "motd").read_text() == "hi\n"
    assert results["motd"]["warnings"] == list(motd.warnings)
    assert results["sudo"]["warnings"][0].startswith("test.nop does not take 'fromrepos'")
    text = format_highstate("m1", tree.run(plan))  # unchanged now, still shown for its warning
    assert "    Warnings: file.managed does not take 'bogus' (ignored)" in text
    assert "\nWarnings:  2\n" in text


def test_strict_mode_makes_unknown_arguments_the_compile_errors_of_before(tree):
    with pytest.raises(CompileError) as info:
        tree.compile(UNKNOWN, ["a"], strict=True)
    messages = [e.split(": ", 2)[2] for e in info.value.errors]
    assert messages[0].startswith("file.managed does not take 'bogus'; it takes: contents, ")
    assert messages[1] == "test.nop does not take 'fromrepos'; it takes: changes, comment, result"
    assert info.value.errors[0].startswith("a.sls:1: file.managed 'motd'")


BAD_VALUES = {
    "b.sls": """
    badmode:
      file.managed:
        - name: @HOST@/g
        - contents: x
        - mode: 999
    badpkg:
      pkg.installed:
        - name: Not_A_Package
    goodfile:
      file.managed:
        - name: @HOST@/ok
        - contents: ok
    """,
}


def test_a_bad_value_fails_only_its_state_when_it_runs(tree):
    plan = tree.compile(BAD_VALUES, ["b"])
    warned = {c.id: c.warnings for c in plan.chunks}
    assert warned["badmode"] == ("this state will fail when it runs: "
                                 "file.managed: mode must be octal like 0644 or 644, not 999",)
    assert "not a valid Debian package name" in warned["badpkg"][0]
    results = by_id(tree.run(plan))
    assert results["badmode"]["result"] is False
    assert results["badmode"]["comment"] == "file.managed: mode must be octal like 0644 or 644, not 999"
    assert results["badpkg"]["result"] is False
    assert results["goodfile"]["result"] is True and (tree.host / "ok").read_text() == "ok\n"
    assert not (tree.host / "g").exists()
    with pytest.raises(CompileError) as info:
        tree.compile(BAD_VALUES, ["b"], strict=True)
    assert len(info.value.errors) == 2


GUARDS = {
    "g.sls": """
    guarded-unless:
      test.succeed_with_changes:
        - unless: "true"
    guarded-onlyif:
      file.managed:
        - name: @HOST@/f
        - contents: x
        - onlyif: "false"
    guarded-creates:
      test.succeed_with_changes:
        - creates: @HOST@
    runs:
      test.succeed_with_changes:
        - unless: ["true", "false"]
        - onlyif: "true"
    reacts:
      test.succeed_without_changes:
        - unless: "true"
        - watch:
          - test: runs
    """,
}


@pytest.mark.parametrize("test_mode", [False, True], ids=["run", "test-mode"])
def test_onlyif_unless_creates_on_every_state(tree, test_mode):
    results = by_id(tree.run(tree.compile(GUARDS, ["g"]), test=test_mode))
    expected = {
        "guarded-unless": "unless condition is true",
        "guarded-onlyif": "onlyif condition is false",
        "guarded-creates": f"{tree.host} exists",
    }
    for sid, comment in expected.items():
        assert (results[sid]["result"], results[sid]["changes"], results[sid]["comment"]) == (
            True, {}, comment)
    assert results["runs"]["changes"] and results["runs"]["result"] is (None if test_mode else True)
    assert not (tree.host / "f").exists()
    assert results["reacts"]["comment"] == "unless condition is true"  # no watch action either


RETRY = {
    "r.sls": """
    always-fails:
      test.fail_without_changes:
        - retry: {attempts: 3, interval: 0}
    second-time-lucky:
      cmd.run:
        - name: test -e @HOST@/seen || { touch @HOST@/seen; exit 1; }
        - retry:
            attempts: 5
            interval: 0
            until: True
    """,
}


def test_retry_runs_again_until_the_result_or_the_attempts_are_used_up(tree):
    plan = tree.compile(RETRY, ["r"])
    results = by_id(tree.run(plan))
    fails = results["always-fails"]
    assert fails["result"] is False
    lines = fails["comment"].split("\n")
    assert [ln.split(":")[0] for ln in lines] == ["Attempt 1", "Attempt 2", lines[2].split(":")[0]]
    assert lines[2] == lines[0].split(": ", 2)[2]  # the last run's own comment closes it
    lucky = results["second-time-lucky"]
    assert lucky["result"] is True and lucky["comment"].startswith("Attempt 1: result False")
    os.unlink(tree.host / "seen")
    tested = by_id(tree.run(plan, test=True))  # test mode: one look, never retried
    assert "Attempt" not in tested["always-fails"]["comment"]


def test_bad_retry_is_a_warning_then_a_failure_of_that_state(tree):
    files = {"x.sls": "x:\n  test.nop:\n    - retry: {attempts: many}\n"}
    plan = tree.compile(files, ["x"])
    assert "retry attempts must be a number" in plan.chunks[0].warnings[0]
    assert by_id(tree.run(plan))["x"]["result"] is False


def test_salt_arguments_that_exist_are_taken():
    from minion.states import lookup

    latest = lookup("pkg", "installed").parse("sudo", {"version": "latest",
                                                       "fromrepo": "bookworm-backports"})
    assert latest.packages == (("sudo", "latest"),) and latest.fromrepo == "bookworm-backports"
    managed = lookup("file", "managed").parse("/etc/x", {"contents": "x", "show_changes": False,
                                                         "follow_symlinks": False})
    assert managed.show_changes is False and managed.follow_symlinks is False
    assert lookup("file", "symlink").parse("/l", {"target": "/t", "force": True}).force is True
    recurse = lookup("file", "recurse").parse(
        "/srv/site", {"source": "salt://site", "sym_mode": "0777", "clean": True,
                      "include_pat": "E@\\.html$", "exclude_pat": ["tmp*"]})
    assert (recurse.clean, recurse.include_pat, recurse.exclude_pat) == (
        True, ("E@\\.html$",), ("tmp*",))


def test_recurse_include_and_exclude_patterns_select_files_as_salt(tree):
    files = {
        "site/index.html": "i", "site/about.html": "a", "site/tmp.html": "t", "site/notes.txt": "n",
        "s.sls": """
        site:
          file.recurse:
            - name: @HOST@/site
            - source: salt://site
            - include_pat: E@\\.html$
            - exclude_pat: tmp*
        """,
    }
    by_id(tree.run(tree.compile(files, ["s"])))
    assert sorted(os.listdir(tree.host / "site")) == ["about.html", "index.html"]


def test_ssh_auth_present_takes_its_keys_from_a_source_file(tree):
    k1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl one@a"
    k2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBnL0hXq1c6k4b2i0s9F6HfC7yYkq0m4R3z3pVbq0a5u two@b"
    files = {
        "keys/team.pub": f"# the team\n{k1}\n\n{k2}\n",
        "k.sls": """
        team:
          ssh_auth.present:
            - user: root
            - source: salt://keys/team.pub
            - config: @HOST@/authorized_keys
        """,
    }
    plan = tree.compile(files, ["k"])
    assert by_id(tree.run(plan))["team"]["result"] is True
    assert (tree.host / "authorized_keys").read_text() == f"{k1}\n{k2}\n"
    assert by_id(tree.run(plan))["team"]["changes"] == {}


def test_show_prints_warnings_and_strict_exits_2(tree, lpminion_bin):
    tree.write(UNKNOWN)
    base = [lpminion_bin, "show", "lowstate", "--state-tree", str(tree.states), "--id", "m1", "a"]
    shown = subprocess.run(base, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0
    assert "warning: file.managed does not take 'bogus' (ignored)" in shown.stdout
    assert "lpminion: 2 warnings (--strict makes them errors):" in shown.stderr
    strict = subprocess.run([*base, "--strict"], capture_output=True, text=True, timeout=60)
    assert strict.returncode == 2 and "does not take 'bogus'; it takes" in strict.stderr


FUNCTION_GUARDS = {"g2.sls": 'fun-onlyif-true:\n  test.succeed_with_changes:\n    - onlyif:\n      - fun: file.file_exists\n        path: /etc/hostname\nfun-onlyif-false:\n  test.succeed_with_changes:\n    - onlyif:\n      - fun: file.file_exists\n        path: /nonexistent\nfun-unless-true:\n  test.succeed_with_changes:\n    - unless:\n      - fun: file.directory_exists\n        args:\n          - /etc\nmixed:\n  test.succeed_with_changes:\n    - unless:\n      - "false"\n      - fun: test.false\n' + """
cmd-fun-guard:
  cmd.run:
    - name: touch @HOST@/ran
    - unless:
      - fun: file.file_exists
        path: @HOST@/ran
"""}


def test_function_form_guards_as_salt_evaluates_them(tree):
    """Salt 3008.5: fun-onlyif-true ran (Success!, changes), fun-onlyif-false "onlyif condition
    is false", fun-unless-true "unless condition is true", mixed (a false command and
    test.false under unless) ran."""
    plan = tree.compile(FUNCTION_GUARDS, ["g2"])
    got = {r["__id__"]: r for r in tree.run(plan).values()}
    assert [(got[i]["comment"], bool(got[i]["changes"])) for i in (
        "fun-onlyif-true", "fun-onlyif-false", "fun-unless-true", "mixed")] == [
        ("Success!", True), ("onlyif condition is false", False),
        ("unless condition is true", False), ("Success!", True)]
    assert got["cmd-fun-guard"]["changes"]["retcode"] == 0
    again = {r["__id__"]: r for r in tree.run(plan).values()}
    assert again["cmd-fun-guard"]["comment"] == "unless condition is true"
