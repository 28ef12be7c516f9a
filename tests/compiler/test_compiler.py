"""The compiler, behaviour by behaviour: SLS files in, ordered chunks with edges out."""
from __future__ import annotations

from typing import Any, Callable, Mapping

import pytest

from core.errors import CompileError, RenderError
from minion.state.compiler import Plan, compile_highstate, compile_sls
from minion.state.contract import Edge
from minion.state.tree import StateTree
from tests.compiler.conftest import fake_validate

MakeTree = Callable[[Mapping[str, str]], StateTree]


def build(make_tree: MakeTree, files: Mapping[str, str], sls: list[str] | None = None,
          grains: dict | None = None, pillar: dict | None = None, opts: dict | None = None) -> Plan:
    tree = make_tree(files)
    if sls is None:
        return compile_highstate(tree, "web1", grains or {"os": "Debian"}, pillar or {}, opts,
                                 validate=fake_validate)
    return compile_sls(tree, sls, grains or {}, pillar or {}, opts, validate=fake_validate)


def order(plan: Plan) -> list[str]:
    """Chunks as `id` (or `id/name` when the name differs), in execution order."""
    return [c.id if c.name == c.id else f"{c.id}/{c.name}" for c in plan.chunks]


def chunk(plan: Plan, state_id: str, name: str | None = None) -> Any:
    return next(c for c in plan.chunks if c.id == state_id and (name is None or c.name == name))


def tag(state: str, state_id: str, name: str, fun: str) -> str:
    return f"{state}_|-{state_id}_|-{name}_|-{fun}"


def errors_of(make_tree: MakeTree, files: Mapping[str, str], sls: list[str] | None = None) -> str:
    with pytest.raises(CompileError) as info:
        build(make_tree, files, sls)
    return "\n".join(info.value.errors)


# --- order ---------------------------------------------------------------------------------

ORDER_CASES = {
    "declaration order": (
        {"a.sls": "zeta: test.nop\nalpha: test.nop\nmid: test.nop\n"}, ["a"],
        ["zeta", "alpha", "mid"]),
    "includes first, each once": (
        {"a.sls": "include: [b, c]\na1: test.nop\n", "b.sls": "b1: test.nop\n",
         "c.sls": "include: [b]\nc1: test.nop\n"}, ["a"],
        ["b1", "c1", "a1"]),
    "several SLS in the order given": (
        {"a.sls": "a1: test.nop\n", "b.sls": "include: [c]\nb1: test.nop\n", "c.sls": "c1: test.nop\n"},
        ["b", "a", "c"], ["c1", "b1", "a1"]),
    "relative includes": (
        {"web/init.sls": "include: [.conf]\nw: test.nop\n",
         "web/conf.sls": "include: [..common, .tls]\nconf: test.nop\n",
         "web/tls.sls": "tls: test.nop\n", "common.sls": "common: test.nop\n"}, ["web"],
        ["common", "tls", "conf", "w"]),
    "include glob": (
        {"all.sls": "include: ['roles.*']\nall: test.nop\n", "roles/db.sls": "db: test.nop\n",
         "roles/web.sls": "web: test.nop\n"}, ["all"],
        ["db", "web", "all"]),
    "order first, numbers, last": (
        {"a.sls": """
            plain1: test.nop
            last1:
              test.nop:
                - order: last
            num10:
              test.nop:
                - order: 10
            first1:
              test.nop:
                - order: first
            num2:
              test.nop:
                - order: 2
            plain2: test.nop
        """}, ["a"],
        ["first1", "num2", "num10", "plain1", "plain2", "last1"]),
    "requisites run first, even a `last` one": (
        {"a.sls": """
            a:
              test.nop:
                - require:
                  - test: c
            b: test.nop
            c:
              test.nop:
                - order: last
        """}, ["a"],
        ["c", "a", "b"]),
    "prereq holder runs before its target": (
        {"a.sls": """
            target: test.nop
            other: test.nop
            holder:
              test.nop:
                - prereq:
                  - test: target
        """}, ["a"],
        ["holder", "target", "other"]),
    "listen and use do not reorder": (
        {"a.sls": """
            first:
              test.nop:
                - listen:
                  - test: second
                - use:
                  - test: second
            second: test.nop
        """}, ["a"],
        ["first", "second"]),
    "watch onchanges onfail pull their targets first": (
        {"a.sls": """
            w:
              test.nop:
                - watch: [x]
                - onchanges: [y]
                - onfail: [z]
            x: test.nop
            y: test.nop
            z: test.nop
        """}, ["a"],
        ["x", "y", "z", "w"]),
}


@pytest.mark.parametrize("files, sls, expected", list(ORDER_CASES.values()), ids=list(ORDER_CASES))
def test_execution_order(make_tree: MakeTree, files: dict, sls: list[str], expected: list[str]) -> None:
    plan = build(make_tree, files, sls)
    assert order(plan) == expected
    assert [c.order for c in plan.chunks] == list(range(len(expected)))


def test_highstate_from_top_in_first_match_order(make_tree: MakeTree) -> None:
    files = {
        "top.sls": "base:\n  '*': [common]\n  'os:Debian': [{match: grain}, debian, common]\n  'db*': [db]\n",
        "common.sls": "include: [users]\ncommon: test.nop\n",
        "users.sls": "users: test.nop\n",
        "debian.sls": "debian: test.nop\n",
        "db.sls": "db: test.nop\n",
    }
    plan = build(make_tree, files, None, grains={"os": "Debian"})
    assert order(plan) == ["users", "common", "debian"]
    assert plan.sls == ["users", "common", "debian"]


# --- forms, names, extend, use ----------------------------------------------------------------

def test_short_forms_and_name_defaults(make_tree: MakeTree) -> None:
    plan = build(make_tree, {"a.sls": """
        vim: pkg.installed
        curl:
          pkg.installed: []
        git:
          pkg.installed:
        nginx:
          pkg:
            - installed
            - version: 1.24.0
        /etc/motd:
          file.managed:
            - contents: hi
        motd_named:
          file.managed:
            - name: /etc/issue
            - mode: 0600
    """}, ["a"])
    assert [(c.state, c.fun, c.id, c.name) for c in plan.chunks] == [
        ("pkg", "installed", "vim", "vim"), ("pkg", "installed", "curl", "curl"),
        ("pkg", "installed", "git", "git"), ("pkg", "installed", "nginx", "nginx"),
        ("file", "managed", "/etc/motd", "/etc/motd"), ("file", "managed", "motd_named", "/etc/issue")]
    assert dict(chunk(plan, "nginx").args) == {"version": "1.24.0"}
    assert dict(chunk(plan, "motd_named").args) == {"mode": 600}
    assert chunk(plan, "motd_named").tag == "file_|-motd_named_|-/etc/issue_|-managed"


def test_one_id_with_several_modules(make_tree: MakeTree) -> None:
    plan = build(make_tree, {"a.sls": """
        nginx:
          pkg.installed: []
          service.running:
            - watch:
              - pkg: nginx
    """}, ["a"])
    assert [c.tag for c in plan.chunks] == [tag("pkg", "nginx", "nginx", "installed"),
                                            tag("service", "nginx", "nginx", "running")]
    assert chunk(plan, "nginx", "nginx").edges == ()
    assert plan.chunks[1].edges == (Edge("watch", tag("pkg", "nginx", "nginx", "installed")),)


def test_names_make_one_chunk_each_and_a_requisite_on_the_id_covers_all(make_tree: MakeTree) -> None:
    plan = build(make_tree, {"a.sls": """
        app:
          service.running:
            - require:
              - pkg: tools
        tools:
          pkg.installed:
            - version: latest
            - names:
              - git
              - curl:
                - version: 8.0
    """}, ["a"])
    assert order(plan) == ["tools/git", "tools/curl", "app"]
    assert dict(chunk(plan, "tools", "git").args) == {"version": "latest"}
    assert dict(chunk(plan, "tools", "curl").args) == {"version": 8.0}
    assert chunk(plan, "app").edges == (
        Edge("require", tag("pkg", "tools", "git", "installed")),
        Edge("require", tag("pkg", "tools", "curl", "installed")))


def test_extend_appends_requisites_and_overwrites_other_args(make_tree: MakeTree) -> None:
    plan = build(make_tree, {
        "base.sls": """
            nginx: pkg.installed
            certs: pkg.installed
            /etc/nginx/nginx.conf:
              file.managed:
                - source: salt://nginx/nginx.conf
                - mode: 644
                - require:
                  - pkg: nginx
        """,
        "tls.sls": """
            include: [base]
            extend:
              /etc/nginx/nginx.conf:
                file:
                  - mode: 600
                  - require:
                    - pkg: certs
                  - watch:
                    - pkg: certs
              nginx:
                service.running: []
        """}, ["tls"])
    conf = chunk(plan, "/etc/nginx/nginx.conf")
    assert dict(conf.args) == {"source": "salt://nginx/nginx.conf", "mode": 600}
    assert set(conf.edges) == {Edge("require", tag("pkg", "nginx", "nginx", "installed")),
                               Edge("require", tag("pkg", "certs", "certs", "installed")),
                               Edge("watch", tag("pkg", "certs", "certs", "installed"))}
    assert tag("service", "nginx", "nginx", "running") in [c.tag for c in plan.chunks]
    assert plan.high["/etc/nginx/nginx.conf"]["__sls__"] == "base"


def test_use_copies_arguments_but_not_name_or_requisites(make_tree: MakeTree) -> None:
    plan = build(make_tree, {"a.sls": """
        base_file:
          file.managed:
            - name: /etc/base
            - user: www
            - mode: 640
            - require:
              - pkg: vim
        vim: pkg.installed
        copy:
          file.managed:
            - name: /etc/copy
            - mode: 600
            - use:
              - file: base_file
        other:
          file.managed:
            - use_in:
              - file: /etc/copy2
        copy2:
          file.managed:
            - name: /etc/copy2
    """}, ["a"])
    copy = chunk(plan, "copy")
    assert copy.name == "/etc/copy" and dict(copy.args) == {"mode": 600, "user": "www"}
    assert copy.edges == ()
    assert chunk(plan, "base_file").edges == (Edge("require", tag("pkg", "vim", "vim", "installed")),)


# --- requisite targets ----------------------------------------------------------------------

TARGET_CASES = {
    "by ID": ("- pkg: haproxy.install", [tag("pkg", "haproxy.install", "haproxy", "installed")]),
    "by name": ("- pkg: haproxy", [tag("pkg", "haproxy.install", "haproxy", "installed")]),
    "glob on names": ("- file: /etc/apache2/*", [
        tag("file", "apache_main", "/etc/apache2/apache2.conf", "managed"),
        tag("file", "/etc/apache2/ports.conf", "/etc/apache2/ports.conf", "managed")]),
    "bare ID, any module": ("- vim", [tag("pkg", "vim", "vim", "installed"),
                                      tag("file", "vim", "/etc/vim/vimrc", "managed")]),
    "sls": ("- sls: web.apache", [
        tag("file", "apache_main", "/etc/apache2/apache2.conf", "managed"),
        tag("file", "/etc/apache2/ports.conf", "/etc/apache2/ports.conf", "managed")]),
    "id key": ("- id: vim", [tag("pkg", "vim", "vim", "installed"),
                             tag("file", "vim", "/etc/vim/vimrc", "managed")]),
    "single item, not a list": ("  pkg: vim", [tag("pkg", "vim", "vim", "installed")]),
}


@pytest.mark.parametrize("item, expected", list(TARGET_CASES.values()), ids=list(TARGET_CASES))
def test_requisite_targets(make_tree: MakeTree, item: str, expected: list[str]) -> None:
    files = {
        "web/apache.sls": """
            apache_main:
              file.managed:
                - name: /etc/apache2/apache2.conf
            /etc/apache2/ports.conf:
              file.managed: []
        """,
        "tools.sls": """
            haproxy.install:
              pkg.installed:
                - name: haproxy
            vim:
              pkg.installed: []
              file.managed:
                - name: /etc/vim/vimrc
        """,
        "app.sls": f"""
            include: [web.apache, tools]
            app:
              service.running:
                - require:
                  {item}
        """,
    }
    plan = build(make_tree, files, ["app"])
    app = chunk(plan, "app")
    assert [e.target for e in app.edges] == expected
    assert all(e.kind == "require" for e in app.edges)
    position = {c.tag: c.order for c in plan.chunks}
    assert all(position[t] < app.order for t in expected)


@pytest.mark.parametrize("kind", ["require", "watch", "onchanges", "onfail", "prereq", "listen"])
def test_in_forms_become_edges_on_the_target(make_tree: MakeTree, kind: str) -> None:
    plan = build(make_tree, {"a.sls": f"""
        conf:
          file.managed:
            - name: /etc/app.conf
            - {kind}_in:
              - service: app
        app: service.running
    """}, ["a"])
    app = chunk(plan, "app")
    assert app.edges == (Edge(kind, tag("file", "conf", "/etc/app.conf", "managed")),)
    assert chunk(plan, "conf").edges == ()
    expected = ["app", "conf//etc/app.conf"] if kind == "prereq" else ["conf//etc/app.conf", "app"]
    assert order(plan) == expected


def test_chunk_args_hold_no_control_keys(make_tree: MakeTree) -> None:
    plan = build(make_tree, {"a.sls": """
        x:
          cmd.run:
            - name: echo hi
            - cwd: /tmp
            - creates: /tmp/done
            - order: 5
            - failhard: true
            - require: [y]
            - watch_in: [y2]
            - onchanges_in: [y2]
            - listen: [y]
        y: test.nop
        y2: test.nop
    """}, ["a"])
    x = chunk(plan, "x")
    assert dict(x.args) == {"cwd": "/tmp", "creates": "/tmp/done"}
    assert x.name == "echo hi" and x.failhard is True and x.source == "a.sls:1"


def test_failhard_from_options_applies_to_every_state(make_tree: MakeTree) -> None:
    files = {"a.sls": "a: test.nop\nb:\n  test.nop:\n    - failhard: false\n"}
    assert [c.failhard for c in build(make_tree, files, ["a"]).chunks] == [False, False]
    assert [c.failhard for c in build(make_tree, files, ["a"], opts={"failhard": True}).chunks] == [True, False]


def test_jinja_sees_grains_pillar_and_sls(make_tree: MakeTree) -> None:
    plan = build(make_tree, {
        "web/map.jinja": "{% set web = {'port': salt['pillar.get']('web:port', 80)} %}\n",
        "web/init.sls": """
            {% from 'web/map.jinja' import web %}
            {% for site in pillar['sites'] %}
            site_{{ site }}:
              file.managed:
                - name: /etc/nginx/sites/{{ site }}
                - contents: "listen {{ web.port }}; # {{ grains['os'] }} {{ sls }}"
            {% endfor %}
        """}, ["web"], grains={"os": "Debian"}, pillar={"sites": ["a", "b"], "web": {"port": 8080}})
    assert order(plan) == ["site_a//etc/nginx/sites/a", "site_b//etc/nginx/sites/b"]
    assert chunk(plan, "site_b").args["contents"] == "listen 8080; # Debian web"


# --- errors -----------------------------------------------------------------------------------

ERROR_CASES = {
    "missing include": (
        {"a.sls": "x: test.nop\ninclude:\n  - nothere\n"}, ["a"],
        ["a.sls:2: include of SLS 'nothere' not found"]),
    "missing SLS asked for": ({"a.sls": "x: test.nop\n"}, ["b"], ["SLS 'b' not found"]),
    "relative include above the top": (
        {"a.sls": "include: [..up]\nx: test.nop\n"}, ["a"], ["a.sls:1: include '..up' goes above"]),
    "requisite on an unknown ID": (
        {"a.sls": "x: test.nop\ny:\n  test.nop:\n    - require:\n      - pkg: ghost\n"}, ["a"],
        ["a.sls:2: test.nop 'y' has `require: pkg: ghost`, but no state in this run matches it"]),
    "_in on an unknown ID": (
        {"a.sls": "y:\n  test.nop:\n    - watch_in:\n      - ghost\n"}, ["a"],
        ["a.sls:1: test.nop 'y' has `watch_in: ghost`"]),
    "conflicting IDs across files": (
        {"a.sls": "include: [b]\nsame: test.nop\n", "b.sls": "other: test.nop\nsame: test.nop\n"}, ["a"],
        ["conflicting ID 'same': declared in b.sls:2 (SLS b) and in a.sls:2 (SLS a)"]),
    "extend of an unknown ID": (
        {"a.sls": "x: test.nop\nextend:\n  ghost:\n    test:\n      - foo: 1\n"}, ["a"],
        ["a.sls:2: cannot extend ID 'ghost'"]),
    "cycle": (
        {"a.sls": "x:\n  test.nop:\n    - require: [z]\ny:\n  test.nop:\n    - watch: [x]\n"
                  "z:\n  test.nop:\n    - onchanges: [y]\n"}, ["a"],
        ["requisite cycle", "test.nop 'x' (a.sls:1)", "test.nop 'y' (a.sls:4)", "test.nop 'z' (a.sls:7)"]),
    "prereq cycle": (
        {"a.sls": "x:\n  test.nop:\n    - prereq: [y]\n    - require: [y]\ny: test.nop\n"}, ["a"],
        ["requisite cycle", "'x'", "'y'"]),
    "unknown module": ({"a.sls": "x: nosuch.thing\n"}, ["a"], ["a.sls:1: nosuch.thing 'x': unknown state module"]),
    "unknown function": ({"a.sls": "x: pkg.frobnicate\n"}, ["a"], ["a.sls:1: pkg.frobnicate 'x': 'pkg' has no function"]),
    "bad argument": ({"a.sls": "x:\n  file.managed:\n    - mode: [1]\n"}, ["a"], ["a.sls:1: file.managed 'x': mode must be"]),
    "two functions": ({"a.sls": "x:\n  pkg:\n    - installed\n    - removed\n"}, ["a"],
                      ["a.sls:1: ID 'x': state 'pkg' names more than one function"]),
    "no function": ({"a.sls": "x:\n  pkg:\n    - name: vim\n"}, ["a"], ["a.sls:1: ID 'x': state 'pkg' names no function"]),
    "body not a mapping": ({"a.sls": "x:\n  - pkg.installed\n"}, ["a"], ["a.sls:1: ID 'x' must map state modules"]),
    "args not a list": ({"a.sls": "x:\n  pkg.installed:\n    name: vim\n"}, ["a"], ["must be a list of arguments"]),
    "bad order": ({"a.sls": "x:\n  test.nop:\n    - order: soon\n"}, ["a"], ["a.sls:1: ID 'x': `order` must be"]),
    "SLS not a mapping": ({"a.sls": "- x\n"}, ["a"], ["a.sls:1: an SLS must be a mapping"]),
    "same state twice": ({"a.sls": "x:\n  test.nop:\n    - names: [a, a]\n"}, ["a"], ["declared twice"]),
}


@pytest.mark.parametrize("files, sls, fragments", list(ERROR_CASES.values()), ids=list(ERROR_CASES))
def test_compile_errors_name_files_and_lines(make_tree: MakeTree, files: dict, sls: list[str],
                                             fragments: list[str]) -> None:
    message = errors_of(make_tree, files, sls)
    for fragment in fragments:
        assert fragment in message


def test_every_error_is_reported_at_once(make_tree: MakeTree) -> None:
    message = errors_of(make_tree, {
        "a.sls": "include: [gone]\nx:\n  test.nop:\n    - require: [ghost]\ny: nosuch.fun\n"
                 "c1:\n  test.nop:\n    - require: [c2]\nc2:\n  test.nop:\n    - require: [c1]\n"}, ["a"])
    assert len(message.splitlines()) == 4
    for fragment in ("'gone' not found", "`require: ghost`", "unknown state module", "requisite cycle"):
        assert fragment in message


@pytest.mark.parametrize("files, location", [
    ({"a.sls": "x: test.nop\ny: {{ nothere }}\n"}, "a.sls:2"),
    ({"a.sls": "include: [b]\n", "b.sls": "x: test.nop\nx: test.nop\n"}, "b.sls:2"),
    ({"a.sls": "{% if %}\n"}, "a.sls:1"),
])
def test_render_errors_stop_with_file_and_line(make_tree: MakeTree, files: dict, location: str) -> None:
    with pytest.raises(RenderError) as info:
        build(make_tree, files, ["a"])
    assert info.value.location == location


def test_highstate_without_a_match_is_an_error(make_tree: MakeTree) -> None:
    with pytest.raises(CompileError, match="no target matches minion 'web1'"):
        build(make_tree, {"top.sls": "base:\n  'db*': [db]\n", "db.sls": "x: test.nop\n"})


def test_highstate_without_a_top_is_an_error(make_tree: MakeTree) -> None:
    with pytest.raises(CompileError, match="no top.sls"):
        build(make_tree, {"db.sls": "x: test.nop\n"})


def test_default_validation_uses_the_state_module_registry(make_tree: MakeTree) -> None:
    tree = make_tree({"a.sls": "x: nosuch.thing\ny: test.nop\n"})
    with pytest.raises(CompileError) as info:
        compile_sls(tree, ["a"], {}, {})
    assert info.value.errors == [
        "a.sls:1: nosuch.thing 'x': unknown state module 'nosuch'; known: " + info.value.errors[0].split("known: ")[1]]


def test_sls_names_cannot_leave_the_tree(make_tree: MakeTree, tmp_path: Any) -> None:
    (tmp_path / "evil.sls").write_text("x: test.nop\n")
    tree = make_tree({"a.sls": "include: ['../evil']\n"})
    for names in (["../evil"], ["a"], ["/etc/passwd"]):
        with pytest.raises(CompileError):
            compile_sls(tree, names, {}, {}, validate=fake_validate)


@pytest.mark.parametrize("kind", ["require_any", "watch_any", "onchanges_any", "onfail_any"])
def test_any_forms_are_edges_of_their_own_kind(make_tree: MakeTree, kind: str) -> None:
    plan = build(make_tree, {"a.sls": f"""
        app:
          test.nop:
            - {kind}:
              - test: one
              - test: two
        one: test.nop
        two: test.nop
    """}, ["a"])
    assert order(plan) == ["one", "two", "app"]
    assert chunk(plan, "app").edges == (Edge(kind, tag("test", "one", "one", "nop")),
                                        Edge(kind, tag("test", "two", "two", "nop")))


def test_sls_path_variables_follow_the_file(make_tree: MakeTree) -> None:
    plan = build(make_tree, {
        "top.sls": "base:\n  '*': [nginx, nginx.conf, motd]\n",
        "nginx/init.sls": "n:\n  test.nop:\n    - v: '{{ sls }}|{{ slspath }}|{{ tpldir }}|{{ slsdotpath }}|{{ tplfile }}'\n",
        "nginx/conf.sls": "c:\n  test.nop:\n    - v: '{{ sls }}|{{ slspath }}|{{ tpldir }}|{{ slsdotpath }}|{{ tplfile }}'\n",
        "motd.sls": "m:\n  test.nop:\n    - v: '{{ sls }}|{{ slspath }}|{{ tpldir }}|{{ slsdotpath }}|{{ tplfile }}'\n",
    })
    assert [c.args["v"] for c in plan.chunks] == [
        "nginx|nginx|nginx|nginx|nginx/init.sls",
        "nginx.conf|nginx|nginx|nginx|nginx/conf.sls",
        "motd||.||motd.sls",
    ]


def test_a_formula_written_for_salt_compiles(make_tree: MakeTree) -> None:
    """The shape of a typical Salt formula: map.jinja with filter_by and import_yaml, tpldir,
    whitespace control, include of a sibling, watch_in, and a pillar lookup merge."""
    plan = build(make_tree, {
        "top.sls": "base:\n  'web*':\n    - nginx\n",
        "nginx/defaults.yaml": "nginx:\n  pkg: nginx\n  service: nginx\n  port: 80\n  conf_mode: 0644\n",
        "nginx/map.jinja": """
            {%- import_yaml tpldir ~ '/defaults.yaml' as defaults %}
            {%- set os_map = salt['grains.filter_by']({
                'Debian': {'user': 'www-data'},
                'RedHat': {'user': 'nginx'},
            }, grain='os_family', merge=salt['pillar.get']('nginx:lookup', {})) %}
            {%- set nginx = salt['slsutil.merge'](defaults.nginx, os_map) %}
        """,
        "nginx/init.sls": """
            {%- from tpldir ~ "/map.jinja" import nginx with context %}
            include:
              - {{ slsdotpath }}.config

            nginx-pkg:
              pkg.installed:
                - name: {{ nginx.pkg }}

            nginx-service:
              service.running:
                - name: {{ nginx.service }}
                - enable: True
                - require:
                  - pkg: nginx-pkg
        """,
        "nginx/config.sls": """
            {%- from tpldir ~ "/map.jinja" import nginx with context %}
            nginx-config:
              file.managed:
                - name: /etc/nginx/nginx.conf
                - source: salt://{{ tpldir }}/files/nginx.conf
                - template: jinja
                - user: {{ nginx.user }}
                - mode: {{ nginx.conf_mode }}
                - context:
                    port: {{ nginx.port }}
                - watch_in:
                  - service: nginx-service
        """,
    }, grains={"os_family": "Debian"}, pillar={"nginx": {"lookup": {"user": "nginx-custom"}}})
    assert order(plan) == ["nginx-config//etc/nginx/nginx.conf", "nginx-pkg/nginx", "nginx-service/nginx"]
    conf = chunk(plan, "nginx-config")
    assert dict(conf.args) == {"source": "salt://nginx/files/nginx.conf", "template": "jinja",
                               "user": "nginx-custom", "mode": 644, "context": {"port": 80}}
    assert set(chunk(plan, "nginx-service").edges) == {
        Edge("require", tag("pkg", "nginx-pkg", "nginx", "installed")),
        Edge("watch", tag("file", "nginx-config", "/etc/nginx/nginx.conf", "managed"))}


def test_exclude_drops_ids_and_whole_sls(make_tree: MakeTree) -> None:
    plan = build(make_tree, {
        "a.sls": "include: [b, c]\nexclude:\n  - id: b2\n  - sls: c\na1: test.nop\n",
        "b.sls": "b1: test.nop\nb2: test.nop\n",
        "c.sls": "c1: test.nop\n"}, ["a"])
    assert order(plan) == ["b1", "a1"]


def test_names_may_carry_their_own_requisites(make_tree: MakeTree) -> None:
    plan = build(make_tree, {"a.sls": """
        sites:
          file.managed:
            - require: []
            - names:
              - /etc/a:
                - require:
                  - test: late
              - /etc/b
        late: test.nop
    """}, ["a"])
    assert order(plan) == ["late", "sites//etc/a", "sites//etc/b"]
    assert chunk(plan, "sites", "/etc/a").edges == (Edge("require", tag("test", "late", "late", "nop")),)
    assert chunk(plan, "sites", "/etc/b").edges == ()
