"""Both CLIs: help that teaches, and usage errors that CI cannot mistake for drift or silence."""
from __future__ import annotations

import subprocess

import pytest


@pytest.mark.parametrize("argv", [
    ["drift", "--no-such-option"],
    ["keys"],
    ["run"],
])
def test_a_usage_error_exits_64_not_2(lpmaster_bin: str, argv: list[str]):
    res = subprocess.run([lpmaster_bin, *argv], capture_output=True, text=True, timeout=60)
    assert res.returncode == 64, res.stderr
    assert "usage: lpmaster" in res.stderr and "error:" in res.stderr


@pytest.mark.parametrize("binary,command", [
    ("lpmaster", "apply"), ("lpmaster", "drift"), ("lpmaster", "keys"), ("lpmaster", "run"),
    ("lpminion", "apply"), ("lpminion", "init"), ("lpminion", "show"),
])
def test_every_command_explains_itself(lpmaster_bin: str, lpminion_bin: str, binary: str, command: str):
    exe = lpmaster_bin if binary == "lpmaster" else lpminion_bin
    res = subprocess.run([exe, command, "--help"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0
    assert f"usage: {binary} {command}" in res.stdout and "--" in res.stdout


def test_a_command_needing_a_config_says_how_to_get_one(lpmaster_bin: str):
    res = subprocess.run([lpmaster_bin, "status"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 64
    assert "-c CONFIG" in res.stderr and "init --dir" in res.stderr


@pytest.mark.parametrize("binary,argv,wanted", [
    ("lpmaster", ["--help"], ["apply", "drift", "keys", "run", "serve", "restore", "drills"]),
    ("lpminion", ["strat"], ["'init'", "'start'", "'apply'", "'show'"]),   # a typo lists every command
    ("lpmaster", ["restore", "--help"], ["usage: lpmaster restore"]),      # registered by backups.py
    ("lpmaster", ["-c", "/nonexistent", "rebuild", "--help"], ["usage: lpmaster rebuild"]),
])
def test_every_command_stays_reachable_when_only_one_is_loaded(lpmaster_bin: str, lpminion_bin: str,
                                                               binary: str, argv: list[str],
                                                               wanted: list[str]):
    exe = lpmaster_bin if binary == "lpmaster" else lpminion_bin
    res = subprocess.run([exe, *argv], capture_output=True, text=True, timeout=60)
    for text in wanted:
        assert text in res.stdout + res.stderr, res.stdout + res.stderr
