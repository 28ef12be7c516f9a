"""Pure parts of the execution functions: argument binding, URL credentials, output parsers."""
from __future__ import annotations

import pytest

from minion.functions.signature import FunctionArgError, checked
from minion.providers.git import redacted, split_credentials


@pytest.mark.parametrize(("url", "user", "password", "want"), [
    ("https://deploy:t%40k@git.example.com:8443/a.git", None, None,
     ("https://git.example.com:8443/a.git", "deploy", "t@k")),
    ("https://TOKEN@github.com/o/r.git", None, None, ("https://github.com/o/r.git", "TOKEN", "")),
    ("https://git.example.com/a.git", "u", "p", ("https://git.example.com/a.git", "u", "p")),
    ("https://git.example.com/a.git", None, None, ("https://git.example.com/a.git", None, None)),
    ("git@github.com:o/r.git", None, None, ("git@github.com:o/r.git", None, None)),
    ("/srv/git/app.git", None, None, ("/srv/git/app.git", None, None)),
])
def test_split_credentials(url, user, password, want):
    remote = split_credentials(url, user, password)
    assert (remote.url, remote.username, remote.password) == want
    assert remote.env.get("LINKPEEK_GIT_PASSWORD") == want[2]   # none in the environment without one
    assert "password" not in repr(remote)


def test_redacted():
    assert redacted("https://u:secret@h/x") == "https://***@h/x"
    assert redacted("https://h/x") == "https://h/x"


def _f(ctx, name, *more, refresh: bool = False, limit: int | None = None):
    return name, more, refresh, limit


def _g(ctx, key, default=""):
    return key, default


def test_arguments_are_checked_and_coerced_from_the_command_line():
    f = checked("x.f", _f)
    assert f(None, "a", "b", refresh="yes", limit="5") == ("a", ("b",), True, 5)
    assert f(None, "a", limit="none", __pub_user="root") == ("a", (), False, None)
    with pytest.raises(FunctionArgError, match=r"x.f does not take 'flavour'; it takes: name, \*more, refresh, limit"):
        f(None, "a", flavour="x")
    with pytest.raises(FunctionArgError, match=r"refresh= must be True or False, got 'maybe'"):
        f(None, "a", refresh="maybe")
    with pytest.raises(FunctionArgError, match=r"x.f needs 'name'"):
        f(None)
    g = checked("x.g", _g)
    with pytest.raises(FunctionArgError, match=r"x.g takes 2 positional argument\(s\), got 3"):
        g(None, "k", "d", "extra")
    with pytest.raises(FunctionArgError, match=r"'key' both by position and as key=value"):
        g(None, "k", key="k2")
    with pytest.raises(FunctionArgError, match="it takes no arguments"):
        checked("test.ping", lambda ctx: True)(None, x="1")


DF = """Filesystem     1024-blocks     Used Available Capacity Mounted on
/dev/vda1         41152736  9012344  30030760      24% /
tmpfs              2013184        0   2013184       0% /dev/shm
//nas/share name  1000       10      990      1% /mnt/nas share
overlay                  -        -         -        - /weird
"""


def test_df_parser_keeps_salts_shape():
    from minion.functions.disk import parse_df

    got = parse_df(DF)
    assert got["/"] == {"filesystem": "/dev/vda1", "1K-blocks": "41152736", "used": "9012344",
                        "available": "30030760", "capacity": "24%"}
    assert got["/mnt/nas share"]["filesystem"] == "//nas/share name"
    assert set(got) == {"/", "/dev/shm", "/mnt/nas share"}


def test_uptime_shape_and_utmp_users(tmp_path):
    import struct

    from minion.functions.status import UTMP_RECORD, count_users, uptime_from

    import datetime

    got = uptime_from(90061, 1_000_000.0, 2)
    assert got == {"seconds": 90061, "since_iso": got["since_iso"], "since_t": 909939, "days": 1,
                   "time": "1:01", "users": 2}
    assert datetime.datetime.fromisoformat(got["since_iso"]).timestamp() == 909939
    records = b"".join(struct.pack("<h", kind).ljust(UTMP_RECORD, b"\0") for kind in (2, 7, 8, 7, 6))
    (tmp_path / "utmp").write_bytes(records)
    assert count_users(str(tmp_path / "utmp")) == 2
    assert count_users(str(tmp_path / "none")) == 0


def test_package_changes_and_targets():
    from minion.functions.pkg import _targets, diff

    assert diff({"a": "1", "b": "2"}, {"a": "1", "b": "3", "c": "1"}) == {
        "b": {"old": "2", "new": "3"}, "c": {"old": "", "new": "1"}}
    assert _targets("pkg.install", None, "[nginx, {curl: 7.88.1-10}]", None) == ["nginx", "curl=7.88.1-10"]
    with pytest.raises(FunctionArgError, match="is not a Debian version"):
        _targets("pkg.install", "nginx", None, "--force")
    with pytest.raises(FunctionArgError, match="one of them"):
        _targets("pkg.install", "nginx", "[curl]", None)


def test_cmd_run_timeout_kills_it_and_does_not_echo_the_command():
    from minion.functions import lookup

    res = lookup("cmd.run")(None, "sleep 5 # canary-timeout-x", timeout="0.3")
    assert (res.success, res.retcode) == (False, 124)
    assert "timed out after 0.3 s" in res.ret and "canary-timeout-x" not in res.ret


def test_sys_argspec_in_salts_shape():
    from minion.functions import lookup

    got = lookup("sys.argspec")(None, "file.stats", "pkg.version")
    assert got["file.stats"] == {"args": ["path", "hash_type", "follow_symlinks"], "defaults": [None, True],
                                 "varargs": None, "kwargs": None}
    assert got["pkg.version"] == {"args": None, "defaults": None, "varargs": True, "kwargs": None}


@pytest.mark.parametrize("url", [
    "https://deploy%0aprotocol=https%0ahost=evil.example.com:tok3n@git.example.com/a.git",   # an extra answer line
    "https://deploy:tok3n%0d@git.example.com/a.git",
])
def test_git_latest_refuses_url_credentials_that_would_add_lines_to_gits_answer(url):
    from core.errors import StateArgError
    from minion.states.git import Latest

    with pytest.raises(StateArgError, match="single-line") as err:
        Latest().parse(url, {"target": "/srv/app"})
    assert "tok3n" not in str(err.value)


def test_git_latest_names_a_bad_url_without_its_token():
    from core.errors import StateArgError
    from minion.states.git import Latest

    with pytest.raises(StateArgError, match="is not a repository URL") as err:
        Latest().parse("https://deploy:tok3n@git.example.com/a b.git", {"target": "/srv/app"})
    assert "tok3n" not in str(err.value) and "***@git.example.com" in str(err.value)
