"""Item 4 of issue 13: I@, J@, S@ and N@ in compound targets, top.sls and on the command line.

Salt's meaning (salt/matchers, observed): I@key:glob and J@key:regex match the minion's pillar
as G@/P@ match grains (glob case-insensitive, `a:b:value` paths, any item of a list); S@ takes
an address or a network and matches the ipv4/ipv6 grains; N@name expands the master's
`nodegroups:` entry (a compound expression, or a list of its words; a list of plain ids is a
list target).
"""
from __future__ import annotations

import json

import pytest

from core.errors import RenderError
from core.targeting import TargetError, matches, select, uses_grains, uses_pillar
from core.top import top_sls_names

GROUPS = {"webs": "L@web1,web2 or G@role:web", "dbs": ["db1", "db2"],
          "all": "N@webs or N@dbs", "debian_dbs": ["N@dbs", "and", "G@os:Debian"],
          "loop": "N@loop2", "loop2": "N@loop"}


@pytest.mark.parametrize(("mid", "grains", "pillar", "target", "hit"), [
    ("a", {}, {"role": "Web"}, "I@role:web", True),
    ("a", {}, {"roles": ["db", "web"]}, "I@roles:w*", True),
    ("a", {}, {"app": {"tier": "front"}}, "I@app:tier:front and not I@app:tier:back", True),
    ("a", {}, {"role": "web"}, "J@role:^w.b$", True),
    ("a", {}, {"role": "web"}, "J@role:^db", False),
    ("a", {"ipv4": ["127.0.0.1", "10.231.0.5"]}, {}, "S@10.231.0.0/24", True),
    ("a", {"ipv4": ["10.231.0.5"]}, {}, "S@10.231.0.5", True),
    ("a", {"ipv4": ["10.231.1.5"]}, {}, "S@10.231.0.0/24", False),
    ("a", {"ipv6": ["fe80::1%eth0"]}, {}, "S@fe80::/64", True),
    ("web2", {}, {}, "N@webs", True),
    ("x", {"role": "web"}, {}, "N@webs", True),
    ("db2", {}, {}, "N@dbs and not N@webs", True),
    ("db1", {"os": "Debian"}, {}, "N@all and N@debian_dbs", True),
    ("db1", {"os": "Arch"}, {}, "N@debian_dbs", False),
])
def test_compound_targets_with_pillar_subnet_and_nodegroups(mid, grains, pillar, target, hit):
    assert matches(mid, grains, target, "compound", pillar=pillar, nodegroups=GROUPS) is hit


def test_bad_targets_say_what_is_wrong():
    with pytest.raises(TargetError, match="unknown nodegroup 'nope'; known: all, "):
        matches("a", {}, "N@nope", "compound", nodegroups=GROUPS)
    with pytest.raises(TargetError, match="refers to itself"):
        matches("a", {}, "loop", "nodegroup", nodegroups=GROUPS)
    with pytest.raises(TargetError, match="not an address or a network"):
        matches("a", {}, "S@10.0.0.0/33", "compound")
    with pytest.raises(TargetError, match="no pillar to match"):
        matches("a", {}, "I@role:web", "compound")


def test_what_a_target_reads_counts_through_nodegroups():
    assert uses_grains("N@webs", "compound", GROUPS) and uses_grains("S@10.0.0.0/8", "compound")
    assert not uses_grains("N@dbs", "compound", GROUPS)
    assert uses_pillar("web* or I@role:web", "compound") and not uses_pillar("webs", "nodegroup", GROUPS)
    assert select({"web1": {}, "db1": {}, "db3": {}}, "dbs", "nodegroup", nodegroups=GROUPS) == ["db1"]
    assert select({"a": {}, "b": {}}, "role:web", "pillar",
                  pillars={"a": {"role": "web"}, "b": {"role": "db"}}) == ["a"]


def test_top_sls_takes_pillar_and_nodegroup_targets():
    top = {"base": {"I@role:web": ["web"], "dbs": [{"match": "nodegroup"}, "db"],
                    "N@webs and S@10.0.0.0/8": ["edge"], "role:web": [{"match": "pillar"}, "p"]}}
    got = top_sls_names(top, "top.sls", "web1", {"ipv4": ["10.1.2.3"]}, pillar={"role": "web"},
                        nodegroups=GROUPS)
    assert got == ["web", "edge", "p"]
    assert top_sls_names(top, "top.sls", "db2", {}, pillar={}, nodegroups=GROUPS) == ["db"]
    with pytest.raises(RenderError, match="unknown nodegroup 'dbs'"):
        top_sls_names(top, "top.sls", "db2", {}, pillar={})


def test_the_master_targets_by_pillar_subnet_and_nodegroup(tmp_path, lpmaster_bin, lpminion_bin):
    """Also: N@ in top.sls through the master, and a warning (or, --strict, an error) for an
    unknown argument in a remote apply."""
    from tests.cluster import Cluster

    with Cluster(tmp_path, lpmaster_bin, lpminion_bin) as c:
        c.add_master_config("nodegroups:\n  dbs: L@m2\n  everyone: N@dbs or I@role:web\n")
        c.write_pillar({"top.sls": "base:\n  m1:\n    - web\n", "web.sls": "role: web\n"})
        c.write_states({"top.sls": "base:\n  'N@dbs':\n    - db\n",
                        "db.sls": "db-here:\n  test.succeed_without_changes:\n    - bogus: 1\n"})
        c.start_master()
        c.add_minions("m1", "m2")
        for flags, target, who in ((["-C"], "I@role:web", {"m1"}), (["-I"], "role:web", {"m1"}),
                                   (["-N"], "everyone", {"m1", "m2"}),
                                   (["-C"], "S@127.0.0.0/8 and not N@dbs", {"m1"})):
            code, data, err = c.run_json(target, "test.ping", *flags)
            assert (code, set(data)) == (0, who), (flags, target, err)
        res = c.cli("apply", "m*", "--json")
        returns = json.loads(res.stdout)
        assert [r["__id__"] for r in returns["m2"].values()] == ["db-here"]
        assert "no target matches minion 'm1'" in json.dumps(returns["m1"])
        (db_here,) = returns["m2"].values()  # an unknown argument: a warning, through the master
        assert db_here["result"] is True and "does not take 'bogus' (ignored)" in db_here["warnings"][0]
        text = c.cli("apply", "m2").stdout
        assert "Warnings: test.succeed_without_changes does not take 'bogus'" in text
        strict = c.cli("apply", "m2", "--strict", "--json")
        assert strict.returncode == 1 and "does not take 'bogus'; it takes" in strict.stdout


def test_a_masterless_top_takes_nodegroups_from_minion_yaml(tmp_path, lpminion_bin):
    import subprocess

    states = tmp_path / "states"
    states.mkdir()
    (states / "top.sls").write_text("base:\n  'N@edge':\n    - edge\n")
    (states / "edge.sls").write_text("edge-here:\n  test.nop: []\n")
    cfg = tmp_path / "minion.yaml"
    cfg.write_text("id: web1\ntrust_first_use: true\nnodegroups:\n  edge: L@web1,web2\n")
    proc = subprocess.run([lpminion_bin, "show", "lowstate", "--json", "-c", str(cfg), "--id",
                           "web1", "--state-tree", str(states)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert [c["__id__"] for c in json.loads(proc.stdout)] == ["edge-here"]
