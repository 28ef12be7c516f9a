"""`lpmaster secret keygen|encrypt` as users run them (real processes)."""
from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest

from core.errors import SecretError
from core.secrets import decrypt, load_secret_key


def _run(lpmaster_bin: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([lpmaster_bin, *args], input=stdin, capture_output=True, text=True,
                          timeout=60)


@pytest.fixture(scope="module")
def keydir(tmp_path_factory, lpmaster_bin) -> str:
    directory = str(tmp_path_factory.mktemp("k") / "secrets")
    proc = _run(lpmaster_bin, "secret", "keygen", "--dir", directory, "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert stat.S_IMODE(os.stat(out["secret_key"]).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    return directory


def test_encrypt_from_stdin_needs_only_the_public_key(lpmaster_bin, keydir, tmp_path):
    pub = tmp_path / "copied.pub"  # a laptop holds a copy of the public key, nothing else
    pub.write_text(open(os.path.join(keydir, "secrets.pub")).read())
    proc = _run(lpmaster_bin, "secret", "encrypt", "--key", "linkpeek:db:password",
                "--pubkey", str(pub), stdin="canary-pw-7781\n")
    assert proc.returncode == 0, proc.stderr
    token = proc.stdout.strip()
    assert token.startswith("ENC[v1,") and "canary-pw-7781" not in proc.stdout + proc.stderr
    secret = load_secret_key(os.path.join(keydir, "secrets.key"))
    assert decrypt(secret, "linkpeek:db:password", token) == b"canary-pw-7781"
    with pytest.raises(SecretError):
        decrypt(secret, "linkpeek:api:key", token)


def test_encrypt_a_file_keeps_its_bytes(lpmaster_bin, keydir, tmp_path):
    value = tmp_path / "key.pem"
    value.write_bytes(b"-----BEGIN-----\nabc\n-----END-----\n")
    proc = _run(lpmaster_bin, "secret", "encrypt", "--key", "tls:key", "--file", str(value),
                "--pubkey", os.path.join(keydir, "secrets.pub"), "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    secret = load_secret_key(os.path.join(keydir, "secrets.key"))
    assert decrypt(secret, "tls:key", out["token"]) == value.read_bytes()


def test_a_value_on_the_command_line_works_with_a_warning(lpmaster_bin, keydir):
    proc = _run(lpmaster_bin, "secret", "encrypt", "--key", "a:b", "value-on-argv",
                "--pubkey", os.path.join(keydir, "secrets.pub"))
    assert proc.returncode == 0
    assert "shell history" in proc.stderr


def test_keygen_does_not_overwrite_a_key(lpmaster_bin, keydir):
    proc = _run(lpmaster_bin, "secret", "keygen", "--dir", keydir)
    assert proc.returncode != 0 and "exists" in proc.stderr


def test_encrypt_without_a_public_key_says_what_it_needs(lpmaster_bin, tmp_path):
    proc = _run(lpmaster_bin, "secret", "encrypt", "--key", "a:b", stdin="x")
    assert proc.returncode != 0 and "--pubkey" in proc.stderr
    proc = _run(lpmaster_bin, "secret", "encrypt", "--key", "a::b", "--pubkey",
                str(tmp_path / "missing.pub"), stdin="x")
    assert proc.returncode != 0 and "missing.pub" in proc.stderr
