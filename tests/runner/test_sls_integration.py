"""Compiler + runner together, from SLS text as users write it (apply_local, the library call)."""

from __future__ import annotations

from pathlib import Path

from minion.local import apply_local


def _apply(tmp_path: Path, sls: str, test: bool = False, name: str = "site"):
    tree = tmp_path / "states"
    tree.mkdir(exist_ok=True)
    (tree / f"{name}.sls").write_text(sls)
    return apply_local(
        str(tree), None, {"os": "Debian"}, "web1", [name], test, str(tmp_path / "cache")
    )


def _by_id(results):
    return {r["__id__"]: r for r in results.values()}


def test_watch_prereq_onchanges_failhard_from_sls(tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    sls = f"""
{out}/app.conf:
  file.managed:
    - contents: port=80
    - makedirs: True

maintenance-on:
  cmd.run:
    - name: echo on >> {out}/log
    - prereq:
      - file: {out}/app.conf

restart-app:
  cmd.wait:
    - name: echo restart >> {out}/log
    - watch:
      - file: {out}/app.conf

notify:
  test.succeed_with_changes:
    - onchanges:
      - file: {out}/app.conf
"""
    results, code = _apply(tmp_path, sls)
    assert code == 0, results
    res = _by_id(results)
    assert (out / "log").read_text() == "on\nrestart\n"
    assert res["maintenance-on"]["__run_num__"] < res[f"{out}/app.conf"]["__run_num__"]
    assert res["notify"]["changes"]

    results, code = _apply(tmp_path, sls)
    res = _by_id(results)
    assert code == 0 and (out / "log").read_text() == "on\nrestart\n"
    assert (
        res["notify"]["changes"] == {} and res["maintenance-on"]["comment"] == "No changes detected"
    )

    (out / "app.conf").write_text("port=81\n")
    results, code = _apply(tmp_path, sls, test=True)
    res = _by_id(results)
    assert res[f"{out}/app.conf"]["result"] is None and res["restart-app"]["result"] is None
    assert (out / "log").read_text() == "on\nrestart\n"


def test_failhard_in_sls_stops_the_run(tmp_path: Path):
    out = tmp_path / "out"
    sls = f"""
broken:
  test.fail_without_changes:
    - failhard: True
{out}/never:
  file.managed:
    - contents: x
    - makedirs: True
"""
    results, code = _apply(tmp_path, sls)
    assert code == 1 and list(_by_id(results)) == ["broken"]
    assert not (out / "never").exists()


def test_names_and_require_on_failed_state_from_sls(tmp_path: Path):
    out = tmp_path / "out"
    sls = f"""
dirs:
  file.directory:
    - makedirs: True
    - names:
      - {out}/a
      - {out}/b
bad:
  test.fail_without_changes
after-dirs:
  test.succeed_with_changes:
    - require:
      - file: dirs
after-bad:
  test.succeed_with_changes:
    - require:
      - test: bad
"""
    results, code = _apply(tmp_path, sls)
    res = _by_id(results)
    assert code == 1
    assert (out / "a").is_dir() and (out / "b").is_dir()
    assert res["after-dirs"]["result"] is True
    assert res["after-bad"]["comment"] == "One or more requisite failed: site.bad"


def test_require_any_from_sls(tmp_path: Path):
    sls = """
bad:
  test.fail_without_changes
good:
  test.succeed_without_changes
either:
  test.succeed_with_changes:
    - require_any:
      - test: bad
      - test: good
only-bad:
  test.succeed_with_changes:
    - require_any:
      - test: bad
"""
    results, code = _apply(tmp_path, sls)
    res = _by_id(results)
    assert res["either"]["result"] is True and res["either"]["changes"]
    assert res["only-bad"]["result"] is False
