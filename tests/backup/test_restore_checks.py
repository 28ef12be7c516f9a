"""Restore refuses what would write outside its target, before anything is written."""
from __future__ import annotations

import os

import pytest

from core.errors import UnsafePathError
from core.snapshotpaths import check_existing, check_nodes
from minion.backup.restore import RestoreError, prepare_target, select_snapshot


@pytest.mark.parametrize("nodes", [
    [{"path": "/a/../../etc/passwd", "type": "file"}],
    [{"path": "relative", "type": "file"}],
    [{"path": "/a/./b", "type": "file"}],
    [{"path": "/a\x00b", "type": "file"}],
    [{"path": "/d", "type": "symlink"}, {"path": "/d/passwd", "type": "file"}],
    [{"path": "/d/x/y", "type": "file"}, {"path": "/d", "type": "symlink"}],   # order does not matter
    [{"path": "/ok", "name": "../ok", "type": "file"}],
])
def test_crafted_snapshot_paths_are_refused(nodes: list) -> None:
    with pytest.raises(UnsafePathError):
        check_nodes(nodes)


def test_plain_tree_passes() -> None:
    nodes = [{"path": "/etc", "type": "dir"}, {"path": "/etc/l", "type": "symlink"}, {"path": "/etc/a", "type": "file"}]
    assert check_nodes(nodes) == ["/etc", "/etc/l", "/etc/a"]


def test_force_into_a_tree_with_a_symlink_is_refused(tmp_path) -> None:
    (tmp_path / "etc").symlink_to("/etc")
    with pytest.raises(UnsafePathError, match="symlink"):
        check_existing(str(tmp_path), ["/etc/passwd"])


def test_to_refuses_a_non_empty_dir_unless_forced(tmp_path) -> None:
    (tmp_path / "keep").write_text("mine")
    with pytest.raises(RestoreError, match="not empty"):
        prepare_target(str(tmp_path), force=False)
    assert prepare_target(str(tmp_path), force=True) == str(tmp_path)
    assert (tmp_path / "keep").read_text() == "mine"
    new = tmp_path / "new"
    prepare_target(str(new), force=False)
    assert oct(os.stat(new).st_mode & 0o777) == "0o700"


def test_latest_skips_failed_snapshots_and_naming_one_is_refused() -> None:
    snaps = [{"id": "aaaaaaaa11", "tags": ["lp"]}, {"id": "bbbbbbbb22", "tags": ["lp", "lp-failed"]}]
    assert select_snapshot(snaps, "latest")["id"] == "aaaaaaaa11"
    with pytest.raises(RestoreError, match="failed"):
        select_snapshot(snaps, "bbbbbbbb")
    with pytest.raises(RestoreError, match="no good snapshot"):
        select_snapshot([snaps[1]], "latest")
