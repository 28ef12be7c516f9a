"""cmd.*: run a shell command the user asked for (the one place a shell is used, rule 6)."""
from __future__ import annotations

import os
import subprocess
from typing import Any

from minion.functions import FunctionResult

DEFAULT_TIMEOUT_S = 3600.0
MAX_OUTPUT_BYTES = 1024 * 1024


def _run(cmd: Any, cwd: Any, timeout: Any, env: Any, stderr_to_stdout: bool) -> dict[str, Any]:
    if not isinstance(cmd, str) or not cmd.strip():
        raise ValueError("cmd.run needs a command string")
    if "\x00" in cmd:
        raise ValueError("command contains a NUL byte")
    run_env = dict(os.environ)
    if env is not None:
        if not isinstance(env, dict):
            raise ValueError("env must be a map")
        run_env.update({str(k): str(v) for k, v in env.items()})
    try:
        proc = subprocess.run(["/bin/sh", "-c", cmd], cwd=cwd or "/", env=run_env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT if stderr_to_stdout else subprocess.PIPE,
                              timeout=float(timeout) if timeout else DEFAULT_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or b""
        return {"pid": 0, "retcode": 124, "stdout": _text(out) + "\n(timed out)", "stderr": ""}
    return {"pid": 0, "retcode": proc.returncode, "stdout": _text(proc.stdout),
            "stderr": _text(proc.stderr or b"")}


def _text(data: bytes) -> str:
    text = data[:MAX_OUTPUT_BYTES].decode("utf-8", errors="replace")
    return text[:-1] if text.endswith("\n") else text


def run(ctx: Any, cmd: Any, cwd: Any = None, timeout: Any = None, env: Any = None) -> FunctionResult:
    """Run `cmd` with /bin/sh; return its output (stderr merged). Fails on a non-zero exit."""
    res = _run(cmd, cwd, timeout, env, stderr_to_stdout=True)
    return FunctionResult(res["stdout"], success=res["retcode"] == 0, retcode=res["retcode"])


def run_all(ctx: Any, cmd: Any, cwd: Any = None, timeout: Any = None, env: Any = None) -> FunctionResult:
    """Run `cmd`; return {"retcode", "stdout", "stderr", "pid"}."""
    res = _run(cmd, cwd, timeout, env, stderr_to_stdout=False)
    return FunctionResult(res, success=res["retcode"] == 0, retcode=res["retcode"])
