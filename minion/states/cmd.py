"""The `cmd` state module: run a shell command, guarded by creates/unless/onlyif.

    build-site:
      cmd.run:
        - name: make -C /srv/site
        - creates: /srv/site/public/index.html
        - cwd: /srv/site
        - runas: www-data
        - env:
            LANG: C.UTF-8
        - watch:
          - file: /srv/site/Makefile

`cmd.run` runs its command through a shell because the user asked for one (SECURITY.md rule 6);
`unless`/`onlyif` too. The command reaches the shell through its environment, never its argv,
so a pillar secret in it is not in /proc/*/cmdline (providers/process.shell_call). A watch on `cmd.run` runs it again only when its own guards allow it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

from core.errors import StateArgError
from minion.providers.process import shell_call
from minion.state.contract import ExecContext, Pending, StateFailed
from minion.states.specargs import as_bool, as_list, as_str, check_known

if TYPE_CHECKING:
    import subprocess

_KNOWN = (
    "creates",
    "unless",
    "onlyif",
    "cwd",
    "env",
    "runas",
    "shell",
    "stateful",
    "timeout",
    "success_retcodes",
    "group",
    "stdin",
)


@dataclass(frozen=True)
class CmdSpec:
    name: str
    creates: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    onlyif: tuple[str, ...] = ()
    cwd: str | None = None
    env: tuple[tuple[str, str], ...] = ()
    runas: str | None = None
    group: str | None = None
    shell: str = "/bin/sh"
    stateful: bool = False
    timeout: float | None = None
    success_retcodes: tuple[int, ...] = (0,)
    stdin: str | None = None


def _parse_env(where: str, value: Any) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    items: list[tuple[str, Any]] = []
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, list) and all(isinstance(d, Mapping) for d in value):
        for d in value:  # Salt's list-of-one-key-dicts form
            items.extend(d.items())
    else:
        raise StateArgError(f"{where}: env must be a mapping of NAME: value, not {value!r}")
    out = []
    for k, v in items:
        if not isinstance(k, str) or not k or "=" in k or "\x00" in k:
            raise StateArgError(f"{where}: bad environment variable name {k!r}")
        out.append((k, "" if v is None else str(v)))
    return tuple(out)


def parse_cmd(where: str, name: str, args: Mapping[str, Any]) -> CmdSpec:
    check_known(where, args, _KNOWN)
    if not isinstance(name, str) or not name.strip():
        raise StateArgError(f"{where}: the command (name) is empty")
    timeout = args.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0
    ):
        raise StateArgError(
            f"{where}: timeout must be a positive number of seconds, not {timeout!r}"
        )
    codes = args.get("success_retcodes", [0])
    codes = [codes] if isinstance(codes, int) else codes
    if not isinstance(codes, list) or not all(
        isinstance(c, int) and not isinstance(c, bool) for c in codes
    ):
        raise StateArgError(f"{where}: success_retcodes must be a list of integers")
    return CmdSpec(
        name=name,
        creates=as_list(where, "creates", args.get("creates")),
        unless=as_list(where, "unless", args.get("unless")),
        onlyif=as_list(where, "onlyif", args.get("onlyif")),
        cwd=as_str(where, "cwd", args.get("cwd")),
        env=_parse_env(where, args.get("env")),
        runas=as_str(where, "runas", args.get("runas")),
        group=as_str(where, "group", args.get("group")),
        shell=as_str(where, "shell", args.get("shell"), "/bin/sh") or "/bin/sh",
        stateful=as_bool(where, "stateful", args.get("stateful")),
        timeout=None if timeout is None else float(timeout),
        success_retcodes=tuple(sorted({0, *codes})),
        stdin=as_str(where, "stdin", args.get("stdin")),
    )


@dataclass(frozen=True)
class Completed:
    pid: int
    retcode: int
    stdout: str
    stderr: str


def run_shell(spec: CmdSpec, command: str, merge_stderr: bool = False) -> Completed:
    """Run `command` through spec.shell with spec's cwd/env/runas/timeout; never raises on rc.
    merge_stderr: stderr goes into stdout, interleaved (the execution function cmd.run's)."""
    env = dict(os.environ)
    kwargs: dict[str, Any] = {}
    if spec.runas:
        import pwd

        try:
            pw = pwd.getpwnam(spec.runas)
        except KeyError:
            raise StateFailed(f"User {spec.runas!r} is not available") from None
        env.update(HOME=pw.pw_dir, USER=pw.pw_name, LOGNAME=pw.pw_name)
        if os.geteuid() == 0:
            kwargs.update(
                user=pw.pw_uid, group=pw.pw_gid, extra_groups=os.getgrouplist(pw.pw_name, pw.pw_gid)
            )
        elif os.geteuid() != pw.pw_uid:
            raise StateFailed(f"runas {spec.runas!r} needs root")
    if spec.group:
        import grp

        try:
            kwargs["group"] = grp.getgrnam(spec.group).gr_gid
        except KeyError:
            raise StateFailed(f"Group {spec.group!r} is not available") from None
    env.update(spec.env)
    argv, script_env = shell_call(spec.shell, command)
    env.update(script_env)
    cwd = spec.cwd
    if cwd is None:  # Salt: the user's home; "/" when it has none (e.g. nobody's /nonexistent)
        home = env.get("HOME") or "/"
        cwd = home if os.path.isdir(home) else "/"
    if not os.path.isdir(cwd):
        raise StateFailed(f"Desired working directory {cwd!r} is not available")
    import subprocess  # here: a run whose guards say "done" starts no process

    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE if spec.stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
            start_new_session=True,
            **kwargs,
        )
    except OSError as exc:
        raise StateFailed(f"Unable to run {command!r}: {exc.strerror or exc}") from exc
    try:
        out, err = proc.communicate(
            spec.stdin.encode() if spec.stdin is not None else None, timeout=spec.timeout
        )
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise StateFailed(f"Command {command!r} timed out after {spec.timeout:g} s") from None
    return Completed(
        pid=proc.pid,
        retcode=proc.returncode,
        stdout=out.decode("utf-8", "replace").rstrip("\n"),
        stderr=(err or b"").decode("utf-8", "replace").rstrip("\n"),
    )


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()
    proc.communicate()


def guards(spec: CmdSpec) -> Pending | None:
    """A no-change Pending when creates/onlyif/unless say the command must not run; else None."""
    if spec.creates and all(os.path.exists(p) for p in spec.creates):
        return Pending(comment=f"All files in creates exist: {', '.join(spec.creates)}")
    for check in spec.onlyif:
        if run_shell(spec, check).retcode != 0:
            return Pending(comment="onlyif condition is false", skip_watch=True)
    if spec.unless and all(run_shell(spec, check).retcode == 0 for check in spec.unless):
        return Pending(comment="unless condition is true", skip_watch=True)
    return None


def parse_stateful(stdout: str) -> tuple[bool, str, str]:
    """Salt's stateful protocol: the last stdout line is JSON or `changed=yes comment='...'`.

    Returns (changed, comment, stdout without that line).
    """
    import json
    import shlex

    lines = stdout.rstrip("\n").split("\n")
    last = lines[-1].strip() if lines else ""
    data: dict[str, Any] = {}
    if last.startswith("{"):
        try:
            data = json.loads(last)
        except ValueError:
            data = {}
    else:
        try:
            for word in shlex.split(last):
                if "=" in word:
                    key, _, value = word.partition("=")
                    data[key] = value
        except ValueError:
            data = {}
    if "changed" not in data:
        return True, "", stdout
    changed = str(data["changed"]).lower() in ("yes", "true", "1")
    return changed, str(data.get("comment", "")), "\n".join(lines[:-1])


class Run:
    """cmd.run: run the command unless its guards say it is done."""

    where = "cmd.run"
    own_guards = True  # creates/unless/onlyif run with the command's cwd, env and runas

    def parse(self, name: str, args: Mapping[str, Any]) -> CmdSpec:
        return parse_cmd(self.where, name, args)

    def check(self, ctx: ExecContext, spec: CmdSpec) -> Pending:
        skip = guards(spec)
        if skip is not None:
            return skip
        return Pending(
            changes={"command": spec.name},
            comment=f"Command {spec.name!r} would have been executed",
        )

    def apply(self, ctx: ExecContext, spec: CmdSpec, pending: Pending) -> dict[str, Any]:
        done = run_shell(spec, spec.name)
        changes: dict[str, Any] = {
            "pid": done.pid,
            "retcode": done.retcode,
            "stdout": done.stdout,
            "stderr": done.stderr,
        }
        pending.applied_comment = f"Command {spec.name!r} run"
        if done.retcode not in spec.success_retcodes:
            raise StateFailed(f"Command {spec.name!r} run; it exited {done.retcode}", changes)
        if spec.stateful:
            changed, comment, stdout = parse_stateful(done.stdout)
            pending.applied_comment = comment or pending.applied_comment
            if not changed:
                return {}
            changes["stdout"] = stdout
        return changes

    def watch(self, ctx: ExecContext, spec: CmdSpec) -> dict[str, Any]:
        """A watched state changed: run again, unless the command's own guards say it is done."""
        if guards(spec) is not None:
            return {}
        return self.apply(ctx, spec, Pending())

    def check_watch(self, ctx: ExecContext, spec: CmdSpec) -> Pending:
        return Run.check(self, ctx, spec)  # what watch would do: cmd.run's check, guards and all


class Wait(Run):
    """cmd.wait (Salt's older form): runs only when a watched state changed."""

    where = "cmd.wait"

    def check(self, ctx: ExecContext, spec: CmdSpec) -> Pending:
        return Pending(comment="Runs only when a watched state changes")


FUNCTIONS = {"run": Run(), "wait": Wait()}
