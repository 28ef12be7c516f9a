"""File states report `changes` in Salt 3008.5's shapes, in test mode and in real runs.

The expectations were observed with salt-call --local state.apply (test=True and a real run,
as root, umask 022) on the same small tree; Salt is not run here. Where we differ on purpose
the test says so.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

import pytest

from core.masking import DIFF_HIDDEN, Masker
from minion.state.contract import ExecContext
from minion.state.fileclient import LocalFileClient
from minion.state.runner import run_plan
from tests.runner.conftest import Harness, chunk


def _one(results: dict[str, dict]) -> dict:
    ((_, res),) = results.items()
    return res


def _both(harness: Harness, c) -> tuple[dict, dict]:
    dry = _one(harness.run([c], test=True))
    real = _one(harness.run([c]))
    return dry, real


def _mode_owner(path: str) -> tuple[str, int]:
    import pwd

    st = os.stat(path)
    return f"{stat.S_IMODE(st.st_mode):04o}", pwd.getpwuid(st.st_uid).pw_name


@pytest.fixture
def tree(harness: Harness) -> Harness:
    (harness.tree / "site/sub").mkdir(parents=True)
    (harness.tree / "site/a.txt").write_text("hello\n")
    (harness.tree / "site/sub/b.txt").write_text("b\n")
    return harness


# -- file.managed ---------------------------------------------------------------------------
def test_a_new_file_is_newfile_in_test_mode_and_a_new_file_diff_for_real(harness: Harness):
    p = harness.path("new.txt")
    dry, real = _both(harness, chunk("file.managed", "n", p, contents="hello", mode="0644"))
    assert (dry["result"], dry["changes"]) == (None, {"newfile": p})
    assert (real["result"], real["changes"]) == (True, {"diff": "New file"})


def test_a_new_file_given_to_another_user_reports_the_owner_not_the_mode(harness: Harness):
    p = harness.path("nu.txt")
    c = chunk("file.managed", "n", p, contents="hi", user="nobody", group="nogroup", mode="0600")
    dry, real = _both(harness, c)
    assert dry["changes"] == {"newfile": p}
    assert real["changes"] == {"diff": "New file", "user": "nobody", "group": "nogroup"}
    assert _mode_owner(p) == ("0600", "nobody")


def test_an_existing_file_reports_diff_owner_and_mode_in_both_modes(harness: Harness):
    p = Path(harness.path("old.txt"))
    p.write_text("old\n")
    os.chmod(p, 0o644)
    c = chunk("file.managed", "c", str(p), contents="new content", user="nobody", mode="0600")
    dry, real = _both(harness, c)
    want = {"diff": "--- \n+++ \n@@ -1 +1 @@\n-old\n+new content\n", "user": "nobody",
            "mode": "0600"}
    assert dry["changes"] == want and real["changes"] == want
    p.write_text("same\n")
    mode_only = chunk("file.managed", "m", str(p), mode="0640")
    dry, real = _both(harness, mode_only)
    assert dry["changes"] == real["changes"] == {"mode": "0640"}


def test_makedirs_gives_new_parents_the_files_owner_and_its_mode_plus_execute(harness: Harness):
    f = harness.path("m1/m2/f.txt")
    c = chunk("file.managed", "f", f, contents="x", user="nobody", mode="0600", makedirs=True)
    assert _one(harness.run([c]))["changes"] == {"diff": "New file", "user": "nobody"}
    assert _mode_owner(harness.path("m1")) == _mode_owner(harness.path("m1/m2")) == (
        "0700", "nobody")
    g = harness.path("n1/n2/f.txt")
    harness.run([chunk("file.managed", "g", g, contents="x", dir_mode="0750", makedirs=True)])
    assert _mode_owner(harness.path("n1")) == _mode_owner(harness.path("n1/n2")) == (
        "0750", "root")
    h = harness.path("d1/d2/f.txt")
    harness.run([chunk("file.managed", "h", h, contents="x", makedirs=True)])
    assert _mode_owner(harness.path("d1")) == ("0755", "root")


def test_makedirs_parents_get_execute_on_every_nonzero_digit_and_no_special_bits(harness: Harness):
    """Salt adds the execute bit to each non-zero digit of the last three (a write-only digit
    too) and leaves setuid/setgid/sticky off the directories it makes."""
    f = harness.path("s1/s2/f.txt")
    harness.run([chunk("file.managed", "f", f, contents="x", mode="2620", makedirs=True)])
    assert _mode_owner(harness.path("s1")) == _mode_owner(harness.path("s1/s2")) == ("0730", "root")
    assert _mode_owner(f) == ("2620", "root")


# -- file.directory -------------------------------------------------------------------------
def test_a_new_directory_and_its_parents_get_the_mode(harness: Harness):
    d = harness.path("d1/d2/d3")
    dry, real = _both(harness, chunk("file.directory", "d", d, makedirs=True, mode="0700"))
    assert dry["changes"] == real["changes"] == {d: {"directory": "new"}}
    for p in ("d1", "d1/d2", "d1/d2/d3"):
        assert _mode_owner(harness.path(p))[0] == "0700", p


def test_an_existing_directory_reports_under_its_path_and_for_real_at_the_top_too(
    harness: Harness,
):
    d = harness.path("existing")
    os.mkdir(d, 0o755)
    c = chunk("file.directory", "d", d, user="nobody", group="nogroup", mode="0750")
    dry, real = _both(harness, c)
    own = {"user": "nobody", "group": "nogroup", "mode": "0750"}
    assert dry["changes"] == {d: own}
    assert real["changes"] == {d: own, **own}


def test_directory_recurse_lists_every_entry_at_the_top_level(harness: Harness):
    root = Path(harness.path("r"))
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("a")
    (root / "sub/b.txt").write_text("b")
    os.chmod(root, 0o755)
    os.chmod(root / "sub", 0o755)
    c = chunk("file.directory", "r", str(root), user="nobody", file_mode="0600",
              dir_mode="0700", recurse=["user", "mode"])
    dry, real = _both(harness, c)
    entries = {
        str(root): {"user": "nobody", "mode": "0700"},
        str(root / "sub"): {"user": "nobody", "mode": "0700"},
        str(root / "a.txt"): {"user": "nobody", "mode": "0600"},
        str(root / "sub/b.txt"): {"user": "nobody", "mode": "0600"},
    }
    assert dry["changes"] == entries
    # Salt's real run adds the named directory's own changes at the top level (it says
    # mode 0600 there, the file_mode; ours is the directory's own 0700).
    assert real["changes"] == {**entries, "user": "nobody", "mode": "0700"}
    assert _mode_owner(str(root / "sub/b.txt")) == ("0600", "nobody")


def test_directory_clean_names_each_removed_entry_and_for_real_the_removed_list(
    harness: Harness,
):
    root = Path(harness.path("c"))
    (root / "x").mkdir(parents=True)
    (root / "x/y").write_text("y")
    dry, real = _both(harness, chunk("file.directory", "c", str(root), clean=True))
    cleaned = {"removed": "Removed due to clean"}
    assert dry["changes"] == {str(root / "x"): cleaned, str(root / "x/y"): cleaned}
    assert real["changes"] == {**dry["changes"], "removed": [str(root / "x")]}
    assert os.listdir(root) == []


# -- file.absent, file.symlink --------------------------------------------------------------
def test_absent_says_file_or_directory(harness: Harness):
    f, d = Path(harness.path("gone.txt")), Path(harness.path("gonedir"))
    f.write_text("g")
    (d / "x").mkdir(parents=True)
    for path, kind in ((f, "File"), (d, "Directory")):
        dry, real = _both(harness, chunk("file.absent", "a", str(path)))
        assert dry["changes"] == real["changes"] == {"removed": str(path)}
        assert dry["comment"] == f"{kind} {path} is set for removal"
        assert real["comment"] == f"Removed {kind.lower()} {path}"
    again = _one(harness.run([chunk("file.absent", "a", str(f))]))
    assert (again["changes"], again["comment"]) == ({}, f"File {f} is not present")


def test_symlink_new_changed_and_forced(harness: Harness):
    target = harness.path("old.txt")
    Path(target).write_text("old\n")
    new = harness.path("link1")
    dry, real = _both(harness, chunk("file.symlink", "l", new, target=target))
    assert dry["changes"] == real["changes"] == {"new": new}
    changed = harness.path("link2")
    os.symlink(harness.path("elsewhere"), changed)
    dry, real = _both(harness, chunk("file.symlink", "l", changed, target=target))
    assert dry["changes"] == {"change": changed}
    assert real["changes"] == {"new": changed}  # Salt's real run says new for a re-pointed link
    forced = harness.path("link3")
    Path(forced).write_text("f")
    dry, real = _both(harness, chunk("file.symlink", "l", forced, target=target, force=True))
    # Salt's test mode has no changes here (result None); ours names the link it will make.
    assert dry["result"] is None and dry["changes"] == {"new": forced}
    assert real["changes"] == {"new": forced} and os.readlink(forced) == target


# -- file.recurse ---------------------------------------------------------------------------
def test_recurse_into_a_new_directory(tree: Harness):
    root = tree.path("rec")
    c = chunk("file.recurse", "r", root, source="salt://site")
    dry, real = _both(tree, c)
    dirs = {d: {d: {"directory": "new"}} for d in (root, f"{root}/sub")}
    files = (f"{root}/a.txt", f"{root}/sub/b.txt")
    assert dry["changes"] == {**dirs, **{f: {"newfile": f} for f in files}}
    # Salt's real run leaves out the named directory itself; ours lists it as in test mode.
    assert real["changes"] == {**dirs, **{f: {"diff": "New file"} for f in files}}


def test_recurse_over_an_existing_directory(tree: Harness):
    root = Path(tree.path("rec2"))
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("hello\n")
    (root / "sub/b.txt").write_text("old\n")
    (root / "extra.txt").write_text("extra\n")
    for p in (root, root / "sub"):
        os.chmod(p, 0o755)
    c = chunk("file.recurse", "r", str(root), source="salt://site", dir_mode="0700",
              file_mode="0600", clean=True)
    dry, real = _both(tree, c)
    mode = {"mode": "0700"}
    files = {
        str(root / "a.txt"): {"mode": "0600"},
        str(root / "sub/b.txt"): {"diff": "--- \n+++ \n@@ -1 +1 @@\n-old\n+b\n", "mode": "0600"},
    }
    removed = {"removed": [str(root / "extra.txt")]}
    # Salt's test mode names what clean removes only in its comment; ours keeps the list.
    assert dry["changes"] == {
        str(root): {str(root): mode}, str(root / "sub"): {str(root / "sub"): mode},
        **files, **removed,
    }
    assert real["changes"] == {
        str(root): {str(root): mode, **mode}, str(root / "sub"): {str(root / "sub"): mode, **mode},
        **files, **removed,
    }


def test_a_secret_in_a_nested_recurse_diff_is_hidden(tree: Harness):
    secret = "s3cr3t-token-value"
    (tree.tree / "site/a.txt").write_text(f"token={secret}\n")
    root = Path(tree.path("rec3"))
    root.mkdir()
    (root / "a.txt").write_text("token=old\n")
    masker = Masker({secret})
    ctx = ExecContext(grains={}, pillar={}, files=LocalFileClient(str(tree.tree)),
                      log=logging.getLogger("test"), test=True, mask=masker.mask_for_users)
    res = _one(run_plan([chunk("file.recurse", "r", str(root), source="salt://site")], ctx))
    assert res["changes"][str(root / "a.txt")] == {"diff": DIFF_HIDDEN}
    assert secret not in json.dumps(res)
