"""One state run per host (a second process is refused, saying who holds the lock), and the local
file client refusing paths that leave the state tree."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from core.errors import RunLockedError, UnsafePathError
from minion.state.contract import StateFailed
from minion.state.fileclient import LocalFileClient
from minion.state.lock import state_run_lock

HOLDER = """
import sys
from minion.state.lock import state_run_lock
with state_run_lock(sys.argv[1], what="apply --local web"):
    print("locked", flush=True)
    sys.stdin.readline()
"""


def start_holder(tmp_path: Path) -> subprocess.Popen[str]:
    """Another process that holds the lock until its stdin gets a line."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=str(Path(__file__).parents[2]),
    )
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_second_run_is_refused_while_another_process_holds_the_lock(tmp_path: Path):
    proc = start_holder(tmp_path)
    try:
        with pytest.raises(RunLockedError) as err:
            with state_run_lock(str(tmp_path)):
                pass
        assert f"pid {proc.pid}" in str(err.value) and "apply --local web" in str(err.value)
    finally:
        proc.stdin.write("\n")
        proc.stdin.close()
        proc.wait(timeout=30)
    with state_run_lock(str(tmp_path)) as path:  # released when the holder ended
        assert os.stat(path).st_mode & 0o077 == 0


def test_lock_is_released_when_the_holder_is_killed(tmp_path: Path):
    proc = start_holder(tmp_path)
    proc.kill()
    proc.wait(timeout=30)
    with state_run_lock(str(tmp_path)):
        pass


def test_a_run_that_may_wait_gets_the_lock_once_the_holder_finishes(tmp_path: Path):
    """An apply arriving during a drift check waits for it instead of failing."""
    proc = start_holder(tmp_path)
    threading.Timer(0.5, lambda: (proc.stdin.write("\n"), proc.stdin.close())).start()
    with state_run_lock(str(tmp_path), what="state.apply", wait=30):
        assert proc.wait(timeout=30) == 0  # we only got in after the holder had finished


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    t = tmp_path / "tree"
    (t / "web").mkdir(parents=True)
    (t / "web" / "nginx.conf").write_text("ok\n")
    (tmp_path / "secret").write_text("s3cret\n")
    os.symlink(str(tmp_path / "secret"), t / "web" / "leak")
    os.symlink("nginx.conf", t / "web" / "alias")
    return t


@pytest.mark.parametrize(
    "url",
    [
        "salt://../secret",
        "salt://web/../../secret",
        "salt:///etc/passwd",
        "salt://web/leak",
        "salt://web/nginx.conf\x00.txt",
        "salt://web",
        "relative/path",
        "http://example.org/x",
    ],
)
def test_file_client_refuses_paths_leaving_the_tree(tree: Path, url: str):
    with pytest.raises((UnsafePathError, StateFailed)):
        LocalFileClient(str(tree)).cache_file(url)


def test_file_client_serves_inside_paths_and_local_absolute_paths(tree: Path):
    files = LocalFileClient(str(tree))
    assert Path(files.cache_file("salt://web/nginx.conf")).read_text() == "ok\n"
    assert Path(files.cache_file("salt://web/alias?saltenv=base")).read_text() == "ok\n"
    assert files.cache_file(str(tree / "web" / "nginx.conf")).endswith("nginx.conf")
    with pytest.raises(StateFailed):
        files.cache_file("salt://web/missing.conf")
    assert sorted(files.list_dir("salt://web")) == [
        "alias",
        "nginx.conf",
    ]  # the leaking link is left out
    with pytest.raises((UnsafePathError, StateFailed)):
        files.list_dir("salt://../")


def _no_master(request):
    raise AssertionError(f"a local source must not ask the master: {request}")


@pytest.mark.parametrize("make", ["local", "remote"])
def test_both_file_clients_serve_local_sources_alike(tmp_path: Path, tree: Path, make: str):
    from minion.state.remote_fileclient import RemoteFileClient

    files = (LocalFileClient(str(tree)) if make == "local"
             else RemoteFileClient(_no_master, str(tmp_path / "cache")))
    conf = str(tree / "web" / "nginx.conf")
    assert files.cache_file(conf) == conf
    assert files.cache_file("file://" + conf) == conf
    for refused in ("relative/path", "http://example.org/x", conf + "\x00"):
        with pytest.raises(UnsafePathError):
            files.cache_file(refused)
    for missing in (str(tree / "web" / "missing.conf"), str(tree / "web")):
        with pytest.raises(StateFailed, match="not found"):
            files.cache_file(missing)


def test_a_traversal_source_fails_the_state_and_writes_nothing(tmp_path: Path, tree: Path):
    from tests.runner.conftest import Harness, chunk

    host = tmp_path / "host"
    host.mkdir()
    h = Harness(tree, host)
    res = h.run([chunk("file.managed", "f", str(host / "f"), source="salt://../secret")])
    (only,) = res.values()
    assert only["result"] is False
    assert not (host / "f").exists()
