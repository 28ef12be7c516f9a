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
    assert (remote.env.get("LINKPEEK_GIT_PASSWORD") if want[2] is not None else None) == want[2]
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
