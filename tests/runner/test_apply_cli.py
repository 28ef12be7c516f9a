"""`lpminion apply --local` as users run it: whole processes on real trees under tmp dirs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TOP = "base:\n  '*':\n    - site\n"


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    tree = tmp_path / "states"
    for rel, text in files.items():
        p = tree / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tree


def _apply(
    lpminion_bin: str, tmp_path: Path, tree: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            lpminion_bin,
            "apply",
            "--local",
            "--state-tree",
            str(tree),
            "--id",
            "web1",
            "--cachedir",
            str(tmp_path / "cache"),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _site(out: Path) -> str:
    return f"""
{out}/conf.d:
  file.directory:
    - makedirs: True
{out}/conf.d/app.conf:
  file.managed:
    - source: salt://files/app.conf
    - template: jinja
    - context:
        port: {{{{ pillar.get('port', 8080) }}}}
    - require:
      - file: {out}/conf.d
restart:
  cmd.run:
    - name: echo restarted >> {out}/restarts
    - onchanges:
      - file: {out}/conf.d/app.conf
"""


def test_converge_then_noop_then_test_mode(lpminion_bin: str, tmp_path: Path):
    out = tmp_path / "host"
    tree = _tree(
        tmp_path,
        {
            "top.sls": TOP,
            "site.sls": _site(out),
            "files/app.conf": "id={{ grains['id'] }} port={{ port }}\n",
        },
    )
    first = _apply(lpminion_bin, tmp_path, tree)
    assert first.returncode == 0, first.stdout + first.stderr
    assert (out / "conf.d/app.conf").read_text() == "id=web1 port=8080\n"
    assert (out / "restarts").read_text() == "restarted\n"
    assert "Succeeded: 3 (changed=3)" in first.stdout and "Failed:    0" in first.stdout

    second = _apply(lpminion_bin, tmp_path, tree, "--json")
    assert second.returncode == 0
    ret = json.loads(second.stdout)
    assert len(ret) == 3 and all(r["result"] is True and r["changes"] == {} for r in ret.values())
    tag = f"file_|-{out}/conf.d/app.conf_|-{out}/conf.d/app.conf_|-managed"
    assert ret[tag]["__sls__"] == "site" and ret[tag]["__run_num__"] == 1
    assert (out / "restarts").read_text() == "restarted\n"

    (out / "conf.d/app.conf").write_text("drifted\n")
    dry = _apply(lpminion_bin, tmp_path, tree, "--test")
    assert dry.returncode == 0
    assert (
        "Result: None" in dry.stdout
        and "-drifted" in dry.stdout
        and "+id=web1 port=8080" in dry.stdout
    )
    assert (out / "conf.d/app.conf").read_text() == "drifted\n"
    assert (out / "restarts").read_text() == "restarted\n"


def test_a_failed_state_exits_1_and_verbose_shows_all(lpminion_bin: str, tmp_path: Path):
    tree = _tree(
        tmp_path,
        {"one.sls": "ok:\n  test.succeed_without_changes\nbad:\n  test.fail_without_changes\n"},
    )
    quiet = _apply(lpminion_bin, tmp_path, tree, "one")
    assert quiet.returncode == 1
    assert "ID: bad" in quiet.stdout and "ID: ok" not in quiet.stdout
    loud = _apply(lpminion_bin, tmp_path, tree, "--verbose", "one")
    assert "ID: ok" in loud.stdout and "ID: bad" in loud.stdout


@pytest.mark.parametrize(
    "files,where",
    [
        (
            {
                "top.sls": TOP,
                "site.sls": "f:\n  file.managed:\n    - name: {out}/f\n    - contents: x\n"
                "{{% if %}}\n",
            },
            "site.sls:5",
        ),
        (
            {
                "top.sls": TOP,
                "site.sls": "f:\n  file.managed:\n    - name: {out}/f\n    - contents: x\n"
                "g:\n  - bad: [\n",
            },
            "site.sls:",
        ),
        (
            {
                "top.sls": TOP,
                "site.sls": "f:\n  file.managed:\n    - name: {out}/f\n    - contents: x\n"
                "    - require:\n      - file: nowhere\n",
            },
            "site.sls",
        ),
    ],
)
def test_render_yaml_and_compile_errors_exit_2_and_change_nothing(
    lpminion_bin: str, tmp_path: Path, files: dict[str, str], where: str
):
    out = tmp_path / "host"
    out.mkdir()
    tree = _tree(tmp_path, {k: v.format(out=out) for k, v in files.items()})
    res = _apply(lpminion_bin, tmp_path, tree)
    assert res.returncode == 2, res.stdout + res.stderr
    assert where in res.stdout + res.stderr
    assert os.listdir(out) == []


def test_a_bad_value_fails_its_state_and_strict_refuses_the_tree(lpminion_bin: str, tmp_path: Path):
    out = tmp_path / "host"
    out.mkdir()
    site = (f"f:\n  file.managed:\n    - name: {out}/f\n    - contents: x\n    - mode: 999\n"
            f"g:\n  file.managed:\n    - name: {out}/g\n    - contents: y\n")
    tree = _tree(tmp_path, {"top.sls": TOP, "site.sls": site})
    res = _apply(lpminion_bin, tmp_path, tree)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "mode must be octal" in res.stdout
    assert os.listdir(out) == ["g"]
    os.unlink(out / "g")
    res = _apply(lpminion_bin, tmp_path, tree, "--strict")
    assert res.returncode == 2 and "site.sls:1" in res.stdout + res.stderr
    assert os.listdir(out) == []


def test_a_second_concurrent_run_is_refused(lpminion_bin: str, tmp_path: Path):
    tree = _tree(tmp_path, {"one.sls": "ok:\n  test.succeed_with_changes\n"})
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\nfrom minion.state.lock import state_run_lock\n"
            "with state_run_lock(sys.argv[1], 'apply --local site'):\n"
            " print('locked', flush=True)\n sys.stdin.readline()",
            str(tmp_path / "cache"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=str(Path(__file__).parents[2]),
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        res = _apply(lpminion_bin, tmp_path, tree, "one")
        assert res.returncode == 1
        assert (
            "another state run is in progress" in res.stderr and f"pid {holder.pid}" in res.stderr
        )
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert _apply(lpminion_bin, tmp_path, tree, "one").returncode == 0


def test_failhard_from_the_command_line(lpminion_bin: str, tmp_path: Path):
    tree = _tree(
        tmp_path,
        {"one.sls": "bad:\n  test.fail_without_changes\nlater:\n  test.succeed_with_changes\n"},
    )
    res = _apply(lpminion_bin, tmp_path, tree, "--failhard", "--json", "one")
    assert res.returncode == 1
    assert list(json.loads(res.stdout)) == ["test_|-bad_|-bad_|-fail_without_changes"]


def test_minion_config_gives_id_custom_grains_and_the_lock_dir(lpminion_bin: str, tmp_path: Path):
    cfgdir = tmp_path / "minion"
    subprocess.run(
        [
            lpminion_bin,
            "init",
            "--dir",
            str(cfgdir),
            "--id",
            "cfg1",
            "--master",
            "127.0.0.1",
            "--trust-first-use",
            "--grain",
            "role=web",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    tree = _tree(
        tmp_path, {"g.sls": "r:\n  test.nop:\n    - comment: '{{ grains.role }} {{ grains.id }}'\n"}
    )
    res = subprocess.run(
        [
            lpminion_bin,
            "-c",
            str(cfgdir / "minion.yaml"),
            "apply",
            "--local",
            "--state-tree",
            str(tree),
            "--json",
            "g",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["test_|-r_|-r_|-nop"]["comment"] == "web cfg1"
    assert (cfgdir / "cache" / "run" / "state.lock").exists()
