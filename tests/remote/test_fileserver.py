"""The file server refuses every way out of the state tree; the client caches by hash."""
from __future__ import annotations

import hashlib
import os

import pytest

from master.fileserver import FileServer
from minion.state.contract import StateFailed
from minion.state.remote_fileclient import RemoteFileClient


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "states"
    (root / "web" / "files").mkdir(parents=True)
    (root / "top.sls").write_text("base:\n  'web*':\n    - web\n")
    (root / "web" / "init.sls").write_text("/etc/app.conf:\n  file.managed:\n    - source: salt://web/files/app.conf\n")
    (root / "web" / "map.jinja").write_text("{% set port = 80 %}\n")
    (root / "web" / "files" / "app.conf").write_text("port=80\n")
    (root / "web" / "files" / "big.bin").write_bytes(os.urandom(300_000))
    outside = tmp_path / "secret.txt"
    outside.write_text("outside the tree\n")
    (root / "escape").symlink_to(outside)
    (root / "escape_dir").symlink_to(tmp_path)
    (root / "inner_link").symlink_to(root / "web" / "files" / "app.conf")
    os.mkfifo(root / "fifo")
    return root


def _server_requests(server: FileServer):
    """The request callable a minion daemon gives the client, answered by the real handlers."""
    table = {"file": server.file, "file_stat": server.file_stat, "file_list": server.file_list,
             "file_batch": server.file_batch}
    log: list[dict] = []

    def request(req: dict) -> dict:
        log.append(req)
        return table[req["type"]](req)

    return request, log


@pytest.mark.parametrize("path", [
    "../secret.txt", "salt://../secret.txt", "web/../../secret.txt", "/etc/passwd",
    "salt:///etc/passwd", "web/\x00files", "escape", "escape_dir/secret.txt", "fifo", "web",
    "nothing/here",
])
def test_paths_outside_the_tree_or_not_regular_files_get_nothing(tree, path):
    server = FileServer(str(tree))
    reply = server.file({"path": path})
    assert set(reply) == {"error"}
    assert "outside the tree" not in repr(reply)
    stat_reply = server.file_stat({"paths": [path]})
    assert set(stat_reply["files"][path]) == {"error"}
    assert set(server.file_batch({"paths": [path]})["files"][path]) == {"error"}


def test_a_file_comes_with_its_hash_size_and_mode(tree):
    server = FileServer(str(tree))
    reply = server.file({"path": "salt://web/files/app.conf"})
    assert reply["data"] == b"port=80\n"
    assert reply["sha256"] == hashlib.sha256(b"port=80\n").hexdigest()
    assert (reply["size"], reply["chunk"], reply["chunks"]) == (8, 0, 1)
    assert reply["mode"] == os.stat(tree / "web/files/app.conf").st_mode & 0o7777


def test_a_symlink_inside_the_tree_is_served(tree):
    assert FileServer(str(tree)).file({"path": "inner_link"})["data"] == b"port=80\n"


def test_large_files_come_in_chunks_that_add_up(tree):
    server = FileServer(str(tree), chunk_size=64 * 1024)
    first = server.file({"path": "web/files/big.bin"})
    assert first["chunks"] == 5
    data = b"".join(server.file({"path": "web/files/big.bin", "chunk": n})["data"] for n in range(5))
    assert data == (tree / "web/files/big.bin").read_bytes()
    assert "error" in server.file({"path": "web/files/big.bin", "chunk": 5})
    assert "error" in server.file({"path": "web/files/big.bin", "chunk": -1})


def test_listing_names_regular_files_inside_the_tree_only(tree):
    listing = FileServer(str(tree)).file_list({"path": ""})
    assert sorted(listing["files"]) == ["inner_link", "top.sls", "web/files/app.conf",
                                        "web/files/big.bin", "web/init.sls", "web/map.jinja"]
    sub = FileServer(str(tree)).file_list({"path": "salt://web/files"})
    assert sorted(sub["files"]) == ["app.conf", "big.bin"]
    assert "error" in FileServer(str(tree)).file_list({"path": "../"})
    assert "error" in FileServer(str(tree)).file_list({"path": "escape_dir"})


def test_an_edited_file_is_served_fresh(tree):
    server = FileServer(str(tree))
    before = server.file({"path": "web/files/app.conf"})["sha256"]
    (tree / "web/files/app.conf").write_text("port=8080\n")
    after = server.file({"path": "web/files/app.conf"})
    assert after["data"] == b"port=8080\n" and after["sha256"] != before


def test_the_client_mirrors_templates_and_an_unchanged_tree_costs_one_round_trip(tree, tmp_path):
    request, log = _server_requests(FileServer(str(tree)))
    client = RemoteFileClient(request, str(tmp_path / "cache"))
    root = client.sync_tree()
    assert sorted(client.fetched) == ["top.sls", "web/init.sls", "web/map.jinja"]
    assert (tmp_path / "cache/files/base/web/map.jinja").read_text() == "{% set port = 80 %}\n"
    assert not os.path.exists(os.path.join(root, "web/files/big.bin"))  # only when asked
    path = client.cache_file("salt://web/files/app.conf")
    assert open(path).read() == "port=80\n"

    log.clear()
    again = RemoteFileClient(request, str(tmp_path / "cache"))  # a new run, same cache
    again.sync_tree()
    assert again.cache_file("salt://web/files/app.conf") == path
    assert [r["type"] for r in log] == ["file_list"]
    assert again.fetched == []


def test_the_client_fetches_what_changed_and_drops_what_was_deleted(tree, tmp_path):
    request, log = _server_requests(FileServer(str(tree)))
    RemoteFileClient(request, str(tmp_path / "cache")).sync_tree()
    (tree / "web/init.sls").write_text("changed: {}\n")
    (tree / "web/map.jinja").unlink()
    client = RemoteFileClient(request, str(tmp_path / "cache"))
    root = client.sync_tree()
    assert client.fetched == ["web/init.sls"]
    assert open(os.path.join(root, "web/init.sls")).read() == "changed: {}\n"
    assert not os.path.exists(os.path.join(root, "web/map.jinja"))


def test_the_index_is_written_only_when_the_mirror_changed_and_never_left_stale(tree, tmp_path):
    request, _ = _server_requests(FileServer(str(tree)))
    cache = str(tmp_path / "cache")
    index = tmp_path / "cache/files/base.index.json"
    RemoteFileClient(request, cache).sync_tree()
    written = index.stat().st_ino, index.stat().st_mtime_ns
    RemoteFileClient(request, cache).sync_tree()
    assert (index.stat().st_ino, index.stat().st_mtime_ns) == written   # nothing changed: no write

    (tree / "web/map.jinja").unlink()                                   # only a deletion
    RemoteFileClient(request, cache).sync_tree()
    (tree / "web/map.jinja").write_text("{% set port = 80 %}\n")        # back, same bytes
    client = RemoteFileClient(request, cache)
    root = client.sync_tree()
    assert client.fetched == ["web/map.jinja"]
    assert open(os.path.join(root, "web/map.jinja")).read() == "{% set port = 80 %}\n"


def test_the_client_reassembles_a_chunked_file(tree, tmp_path):
    request, log = _server_requests(FileServer(str(tree), chunk_size=100_000))
    client = RemoteFileClient(request, str(tmp_path / "cache"))
    path = client.cache_file("salt://web/files/big.bin")
    assert open(path, "rb").read() == (tree / "web/files/big.bin").read_bytes()
    assert [r["type"] for r in log].count("file") == 3


def test_the_client_refuses_paths_that_leave_the_tree(tree, tmp_path):
    request, log = _server_requests(FileServer(str(tree)))
    client = RemoteFileClient(request, str(tmp_path / "cache"))
    with pytest.raises(StateFailed, match="not allowed"):
        client.cache_file("salt://../secret.txt")
    with pytest.raises(StateFailed, match="leaves its root|refused"):
        client.cache_file("salt://escape")
    with pytest.raises(StateFailed, match="not found"):
        client.cache_file("salt://web/missing.conf")


def test_a_hostile_listing_cannot_write_outside_the_cache(tmp_path):
    def request(req: dict) -> dict:
        if req["type"] == "file_list":
            return {"files": {"../../evil.sls": {"sha256": "0" * 64, "size": 1, "mode": 0o644},
                              "/tmp/evil.sls": {"sha256": "0" * 64, "size": 1, "mode": 0o644}}}
        return {"files": {}}

    client = RemoteFileClient(request, str(tmp_path / "cache"))
    client.sync_tree()
    assert not (tmp_path / "evil.sls").exists()
    assert client.fetched == []


def test_list_dir_for_recurse(tree, tmp_path):
    request, _ = _server_requests(FileServer(str(tree)))
    client = RemoteFileClient(request, str(tmp_path / "cache"))
    (tree / "web" / "files" / "empty" / "deeper").mkdir(parents=True)
    assert client.list_empty_dirs("salt://web/files") == ["empty/deeper"]
    assert client.list_dir("salt://web/files") == ["app.conf", "big.bin"]
    client.sync_tree()
    assert client.list_dir("salt://web/files") == ["app.conf", "big.bin"]


def test_chunk_boundaries_and_empty_files(tree):
    (tree / "exact.bin").write_bytes(b"x" * 2048)
    (tree / "empty").write_bytes(b"")
    server = FileServer(str(tree), chunk_size=1024)
    assert server.file({"path": "exact.bin"})["chunks"] == 2
    assert server.file({"path": "exact.bin", "chunk": 1})["data"] == b"x" * 1024
    empty = server.file({"path": "empty"})
    assert (empty["chunks"], empty["data"], empty["size"]) == (1, b"", 0)


def test_a_batch_carries_at_most_one_chunk_of_data(tree):
    server = FileServer(str(tree), chunk_size=100_000)
    reply = server.file_batch({"paths": ["web/init.sls", "web/files/big.bin", "top.sls"]})
    assert reply["files"]["web/init.sls"]["data"].startswith(b"/etc/app.conf")
    assert "too large" in reply["files"]["web/files/big.bin"]["error"]
    assert reply["files"]["top.sls"]["data"] == (tree / "top.sls").read_bytes()


def test_a_request_lost_to_a_link_reset_is_asked_again(tree, tmp_path):
    """A reset link fails every request then in flight; file requests only read, so the client
    asks again (twice) instead of failing the state."""
    from core.errors import TransportError

    request, log = _server_requests(FileServer(str(tree)))
    failures = iter([TransportError("link reset"), TransportError("the master did not answer 'file' in time")])

    def flaky(message):
        failure = next(failures, None) if message["type"] == "file" else None
        if failure is not None:
            raise failure
        return request(message)

    client = RemoteFileClient(flaky, str(tmp_path / "cache"))
    client.sync_tree()
    path = client.cache_file("salt://web/files/big.bin")
    assert open(path, "rb").read() == (tree / "web/files/big.bin").read_bytes()

    def down(message):
        raise TransportError("link reset")

    with pytest.raises(StateFailed, match="3 tries"):
        RemoteFileClient(down, str(tmp_path / "cache2")).list_dir("salt://web")
