"""Run a host command from an argv list (never a shell) and turn failures into StateFailed."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from minion.state.contract import StateFailed


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def tail(self, lines: int = 6) -> str:
        """The last lines of stderr (or stdout), for a failure comment."""
        text = (self.stderr.strip() or self.stdout.strip()).splitlines()
        return "\n".join(text[-lines:])


SCRIPT_VAR = "LINKPEEK_SCRIPT"


def shell_call(shell: str, command: str) -> tuple[list[str], dict[str, str]]:
    """The argv and extra environment that run `command` in `shell` with the command in no
    process's argv (it may hold a secret; /proc/PID/cmdline is readable by every user).

    The shell finds the command in its environment (/proc/PID/environ is readable by its own
    user and root only), moves it to an unexported variable and evaluates it, so no child
    inherits it either; `$0`, `exit` and the exit status behave as with `shell -c command`.
    """
    script = f'__lp_script=${SCRIPT_VAR}; unset {SCRIPT_VAR}; eval "$__lp_script"'
    return [shell, "-c", script], {SCRIPT_VAR: command}


def run(
    argv: Sequence[str],
    *,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    timeout: float = 600.0,
) -> CommandResult:
    """Run `argv` and return its result; a missing program or a timeout raises StateFailed."""
    import subprocess

    full_env = dict(os.environ)
    full_env.update({"LC_ALL": "C", "LANG": "C"})
    full_env.update(env or {})
    try:
        proc = subprocess.run(
            list(argv),
            check=False,
            input=input,
            env=full_env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
    except FileNotFoundError as exc:
        raise StateFailed(
            f"{argv[0]} is not installed on this host ({exc.strerror}); "
            f"install it first (a pkg.installed state required by this one)"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise StateFailed(f"{argv[0]} did not finish within {timeout:.0f}s") from exc
    return CommandResult(tuple(argv), proc.returncode, proc.stdout, proc.stderr)


def run_ok(argv: Sequence[str], *, what: str, hint: str = "", **kwargs: object) -> CommandResult:
    """Like run(), but a non-zero exit raises StateFailed("<what> failed: <stderr tail>. <hint>")."""
    result = run(argv, **kwargs)  # type: ignore[arg-type]
    if not result.ok:
        message = f"{what} failed (exit {result.returncode}): {result.tail()}"
        raise StateFailed(f"{message}\n{hint}" if hint else message)
    return result
