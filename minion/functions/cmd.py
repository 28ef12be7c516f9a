"""cmd.*: run a shell command the user asked for (the one place a shell is used, rule 6).

    lpmaster run 'web*' cmd.run 'systemctl is-active nginx'
    lpmaster run web1 cmd.run_all 'make -C /srv/site' cwd=/srv runas=deploy timeout=600
    lpmaster run web1 cmd.retcode 'test -e /srv/site/.ready'

The command reaches the shell through its environment, never an argv (minion/providers/
process.shell_call), so a secret in it is not readable in /proc/*/cmdline while it runs.
As in Salt: the working directory is the user's home; `env` is a map (YAML on the command
line: env='{LANG: C.UTF-8}'); a non-zero exit fails the job unless `ignore_retcode=True` or
it is one of `success_retcodes`.
"""
from __future__ import annotations

from typing import Any

from core.errors import StateArgError
from minion.functions import FunctionResult
from minion.functions.signature import FunctionArgError

DEFAULT_TIMEOUT_S = 3600.0
MAX_OUTPUT_BYTES = 1024 * 1024


def run(ctx: Any, cmd: Any, cwd: str | None = None, stdin: str | None = None, runas: str | None = None,
        group: str | None = None, shell: str | None = None, env: Any = None, timeout: float | None = None,
        ignore_retcode: bool = False, success_retcodes: Any = None, python_shell: bool = True) -> FunctionResult:
    """Run `cmd` in a shell (/bin/sh, or `shell`); its output, stderr merged in. Fails on a non-zero exit."""
    res = _run("cmd.run", cmd, locals(), merge_stderr=True)
    return _result(res, res["stdout"], ignore_retcode)


def run_all(ctx: Any, cmd: Any, cwd: str | None = None, stdin: str | None = None, runas: str | None = None,
            group: str | None = None, shell: str | None = None, env: Any = None, timeout: float | None = None,
            ignore_retcode: bool = False, success_retcodes: Any = None,
            python_shell: bool = True) -> FunctionResult:
    """Run `cmd`; return {"pid", "retcode", "stdout", "stderr"}, as Salt's cmd.run_all."""
    res = _run("cmd.run_all", cmd, locals(), merge_stderr=False)
    return _result(res, res, ignore_retcode)


def run_stdout(ctx: Any, cmd: Any, cwd: str | None = None, stdin: str | None = None, runas: str | None = None,
               group: str | None = None, shell: str | None = None, env: Any = None, timeout: float | None = None,
               ignore_retcode: bool = False, success_retcodes: Any = None,
               python_shell: bool = True) -> FunctionResult:
    """Run `cmd`; its standard output only."""
    res = _run("cmd.run_stdout", cmd, locals(), merge_stderr=False)
    return _result(res, res["stdout"], ignore_retcode)


def retcode(ctx: Any, cmd: Any, cwd: str | None = None, stdin: str | None = None, runas: str | None = None,
            group: str | None = None, shell: str | None = None, env: Any = None, timeout: float | None = None,
            ignore_retcode: bool = False, success_retcodes: Any = None,
            python_shell: bool = True) -> FunctionResult:
    """Run `cmd`; its exit code (the job fails on a non-zero one unless `ignore_retcode=True`)."""
    res = _run("cmd.retcode", cmd, locals(), merge_stderr=False)
    return _result(res, res["retcode"], ignore_retcode)


def _result(res: dict[str, Any], ret: Any, ignore_retcode: bool) -> FunctionResult:
    ok = res.pop("ok") or ignore_retcode
    return FunctionResult(ret, success=ok, retcode=0 if ok else (res["retcode"] or 1))


def _run(where: str, cmd: Any, given: dict[str, Any], merge_stderr: bool) -> dict[str, Any]:
    from minion.state.contract import StateFailed
    from minion.states.cmd import parse_cmd, run_shell

    if not isinstance(cmd, str) or not cmd.strip():
        raise FunctionArgError(f"{where} needs a command, e.g. {where} 'uptime'")
    if "\x00" in cmd:
        raise FunctionArgError(f"{where}: the command contains a NUL byte")
    if given["python_shell"] is False:
        raise FunctionArgError(f"{where}: python_shell=False is not supported; the command always runs in a shell")
    args = {k: given[k] for k in ("cwd", "stdin", "runas", "group", "shell") if given[k] is not None}
    args["env"] = _yaml(where, "env", given["env"])
    args["timeout"] = given["timeout"] if given["timeout"] is not None else DEFAULT_TIMEOUT_S
    codes = _yaml(where, "success_retcodes", given["success_retcodes"])
    if codes is not None:
        args["success_retcodes"] = codes
    try:
        spec = parse_cmd(where, cmd, args)
    except StateArgError as exc:
        raise FunctionArgError(str(exc)) from None
    try:
        done = run_shell(spec, cmd, merge_stderr=merge_stderr)
    except StateFailed as exc:
        text = str(exc).replace(repr(cmd), "the command")
        return {"pid": 0, "retcode": 124 if "timed out" in text else 1, "stdout": text, "stderr": "", "ok": False}
    return {"pid": done.pid, "retcode": done.retcode, "stdout": _cap(done.stdout), "stderr": _cap(done.stderr),
            "ok": done.retcode in spec.success_retcodes}


def _yaml(where: str, key: str, value: Any) -> Any:
    """A map or list given on the command line as YAML text (Salt reads CLI arguments as YAML)."""
    if not isinstance(value, str):
        return value
    import yaml

    try:
        return yaml.safe_load(value)
    except yaml.YAMLError:
        raise FunctionArgError(f"{where}: {key}= is not valid YAML: {value[:80]!r}") from None


def _cap(text: str) -> str:
    return text if len(text) <= MAX_OUTPUT_BYTES else text[:MAX_OUTPUT_BYTES] + "\n(output cut at 1 MiB)"
