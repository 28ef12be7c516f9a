"""Item 1 of issue 13: the template helpers formulas call, as Salt 3008.5 answers them.

Recorded with `salt-call --local state.show_sls` on the same SLS: file.file_exists is true for
a file and false for a directory; file.join/dirname/basename are path arithmetic; user.info
has exactly the keys below ({} for an unknown user) and `salt.user.info(name)` is the same
call; cp.list_master lists the tree's files (prefix filters), cp.list_master_dirs its
directories (not the root); log.* returns True. An unknown helper is undefined: `is defined`
false, `in salt` false (`is callable` stays true, as Jinja's undefined is, in Salt too), and
calling it fails the render.
"""
from __future__ import annotations

import pwd

import pytest

from core.errors import RenderError

USER_INFO_KEYS = {"fullname", "gid", "groups", "home", "homephone", "name", "other", "passwd",
                  "roomnumber", "shell", "uid", "workphone"}

HELPERS = {
    "sub/x.txt": "x",
    "h.sls": """
    {% do salt['log.debug']('hello from a template') %}
    h:
      test.nop:
        - comment: >-
            {{ {
              "exists": salt['file.file_exists']('@HOST@/f'),
              "dir_is_not_file": salt['file.file_exists']('@HOST@'),
              "dexists": salt['file.directory_exists']('@HOST@'),
              "join": salt['file.join']('/a', 'b', 'c'),
              "dirname": salt['file.dirname']('/a/b/c.txt'),
              "basename": salt['file.basename']('/a/b/c.txt'),
              "hasexec": salt['cmd.has_exec']('sh'),
              "hasnoexec": salt['cmd.has_exec']('no-such-binary-xyz'),
              "root": salt['user.info']('root'),
              "root_attr": salt.user.info('root'),
              "nouser": salt['user.info']('nosuchuserxyz'),
              "list_master": salt['cp.list_master'](),
              "list_master_dirs": salt['cp.list_master_dirs'](),
              "prefixed": salt['cp.list_master'](prefix='sub'),
              "year": salt['status.time']('%Y') | length,
              "logret": salt['log.info']('x'),
            } | json }}
    """,
}


def test_helpers_answer_as_salt(tree):
    import json

    (tree.host / "f").write_text("x")
    plan = tree.compile(HELPERS, ["h"])
    got = json.loads(plan.chunks[0].args["comment"])
    root = pwd.getpwnam("root")
    assert got["exists"] is True and got["dir_is_not_file"] is False and got["dexists"] is True
    assert (got["join"], got["dirname"], got["basename"]) == ("/a/b/c", "/a/b", "c.txt")
    assert (got["hasexec"], got["hasnoexec"]) == (True, False)
    assert set(got["root"]) == USER_INFO_KEYS and got["root"] == got["root_attr"]
    assert (got["root"]["uid"], got["root"]["home"], got["root"]["groups"]) == (0, root.pw_dir,
                                                                                ["root"])
    assert got["nouser"] == {}
    assert got["list_master"] == ["h.sls", "sub/x.txt"]
    assert got["list_master_dirs"] == ["sub"] and got["prefixed"] == ["sub/x.txt"]
    assert got["year"] == 4 and got["logret"] is True


UNKNOWN = {
    "u.sls": """
    h:
      test.nop:
        - comment: >-
            {{ [salt['nosuch.thing'] is defined, 'nosuch.thing' in salt, 'file.join' in salt,
                salt.nosuch is defined, salt.user.nosuch is defined,
                salt['cmd.run'] is defined] | json }}
    """,
    "call.sls": """
    {% set out = salt['cmd.run']('id') %}
    h:
      test.nop: []
    """,
    "branch.sls": """
    h:
      test.nop:
        - comment: {{ salt['cmd.run']('id') if salt['cmd.run'] is defined else 'no cmd.run' }}
    """,
}


def test_an_unknown_helper_is_undefined_and_calling_it_names_it(tree):
    import json

    plan = tree.compile(UNKNOWN, ["u"])
    assert json.loads(plan.chunks[0].args["comment"]) == [False, False, True, False, False, False]
    assert tree.compile(UNKNOWN, ["branch"]).chunks[0].args["comment"] == "no cmd.run"
    with pytest.raises(RenderError) as info:
        tree.compile(UNKNOWN, ["call"])
    assert str(info.value).startswith(
        "call.sls:1: salt['cmd.run'] is not available in templates here (only read-only "
        "lookups are: ")
