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


def test_network_and_key_listing_helpers_answer_as_salt():
    """Salt 3008.5 on a host with ipv4 [10.231.0.1, 127.0.0.1, 192.0.2.2] answered:
    ip_addrs() ['10.231.0.1', '192.0.2.2'], include_loopback=True all three, cidr='127.0.0.0/8'
    [] (loopback still left out), ip_addrs6() without ::1, grains.ls() sorted names."""
    from core.templatecontext import TemplateFunctions

    grains = {"ipv4": ["192.0.2.2", "127.0.0.1", "10.231.0.1"], "ipv6": ["::1", "fd00::2"]}
    salt = TemplateFunctions("m1", grains, {"app": {"b": 1, "a": 2}}, {})
    assert salt["network.ip_addrs"]() == ["10.231.0.1", "192.0.2.2"]
    assert salt["network.ip_addrs"](include_loopback=True) == ["10.231.0.1", "127.0.0.1",
                                                               "192.0.2.2"]
    assert salt["network.ip_addrs"](cidr="127.0.0.0/8") == []
    assert salt["network.ip_addrs"](cidr="10.0.0.0/8") == ["10.231.0.1"]
    assert salt["network.ip_addrs6"]() == ["fd00::2"]
    assert salt["grains.ls"]() == ["ipv4", "ipv6"] and salt["pillar.keys"]("app") == ["b", "a"]


def test_a_file_template_sees_its_source_as_salt_gives_it(tree):
    files = {"web/t.j2": "{{ source }} {{ saltenv }}\n",
             "t.sls": "t:\n  file.managed:\n    - name: @HOST@/t\n    - source: salt://web/t.j2\n"
                      "    - template: jinja\n"}
    tree.run(tree.compile(files, ["t"]))
    assert (tree.host / "t").read_text() == "salt://web/t.j2 base\n"
