"""ENC[...] tokens: round trip, binding to the pillar key, and every way a token can be bad."""
from __future__ import annotations

import base64
import os
import stat

import pytest

from core.errors import ConfigError, SecretError
from core.secrets import (decrypt, decrypt_pillar, encrypt, generate_keypair, key_id,
                          load_public_key, load_secret_key, write_keypair)


@pytest.fixture(scope="module")
def keypair() -> tuple[bytes, bytes]:
    return generate_keypair()


def test_round_trip_gives_back_the_plaintext(keypair):
    secret, public = keypair
    token = encrypt(public, "linkpeek:db:password", "pässword ✓".encode())
    assert token.startswith(f"ENC[v1,{key_id(public)},") and token.endswith("]")
    assert decrypt(secret, "linkpeek:db:password", token) == "pässword ✓".encode()


def test_two_encryptions_of_one_value_differ(keypair):
    _, public = keypair
    assert encrypt(public, "a:b", b"same") != encrypt(public, "a:b", b"same")


def test_a_token_moved_to_another_pillar_key_does_not_decrypt(keypair):
    secret, public = keypair
    token = encrypt(public, "linkpeek:db:password", b"s3cret")
    with pytest.raises(SecretError, match="linkpeek:api:token.*another pillar key"):
        decrypt(secret, "linkpeek:api:token", token)


def test_a_token_for_another_master_names_both_keys(keypair):
    secret, public = keypair
    _, other_public = generate_keypair()
    token = encrypt(other_public, "a:b", b"x")
    with pytest.raises(SecretError, match=f"{key_id(other_public)}.*{key_id(public)}"):
        decrypt(secret, "a:b", token)


@pytest.mark.parametrize("mangle, message", [
    (lambda t: t[:-1], "malformed or truncated"),
    (lambda t: t[:40] + "]", "truncated"),
    (lambda t: t.replace("ENC[v1,", "ENC[v9,"), "unknown token version 'v9'"),
    (lambda t: "ENC[]", "malformed"),
    (lambda t: t[:70] + ("A" if t[70] != "A" else "B") + t[71:], "altered"),
    (lambda t: t.replace(",", ",!!", 2), "malformed"),
])
def test_bad_tokens_are_clear_errors_not_crashes(keypair, mangle, message):
    secret, public = keypair
    token = encrypt(public, "a:b", b"value-that-is-long-enough")
    with pytest.raises(SecretError, match=message):
        decrypt(secret, "a:b", mangle(token))


def test_a_flipped_bit_anywhere_in_the_payload_is_detected(keypair):
    secret, public = keypair
    token = encrypt(public, "a:b", b"payload")
    body = token[len("ENC[v1,") + 9:-1]
    raw = bytearray(base64.urlsafe_b64decode(body))
    for i in range(len(raw)):
        flipped = bytearray(raw)
        flipped[i] ^= 0x01
        bad = token[:len("ENC[v1,") + 9] + base64.urlsafe_b64encode(bytes(flipped)).decode() + "]"
        with pytest.raises(SecretError):
            decrypt(secret, "a:b", bad)


def test_a_token_folded_over_lines_by_yaml_still_decrypts(keypair):
    secret, public = keypair
    token = encrypt(public, "a:b", b"folded")
    folded = token[:30] + "\n  " + token[30:]
    assert decrypt(secret, "a:b", folded) == b"folded"


def test_decrypt_pillar_binds_each_value_to_its_path_and_returns_the_secrets(keypair):
    secret, public = keypair
    pillar = {
        "linkpeek": {"db": {"password": encrypt(public, "linkpeek:db:password", b"dbpw-1234"),
                            "user": "lp"},
                     "api_keys": [encrypt(public, "linkpeek:api_keys", b"key-one"), "plain"]},
        "port": 8080,
    }
    new, secrets = decrypt_pillar(pillar, secret)
    assert new == {"linkpeek": {"db": {"password": "dbpw-1234", "user": "lp"},
                                "api_keys": ["key-one", "plain"]}, "port": 8080}
    assert secrets == {"dbpw-1234", "key-one"}
    assert "ENC[" in pillar["linkpeek"]["db"]["password"]  # the input is left as it was


def test_decrypt_pillar_reports_the_path_and_token_of_the_bad_value(keypair):
    secret, public = keypair
    token = encrypt(public, "right:key", b"v")
    with pytest.raises(SecretError) as info:
        decrypt_pillar({"wrong": {"key": token}}, secret)
    assert info.value.pillar_path == "wrong:key"
    assert info.value.token == token


def test_decrypt_pillar_without_a_key_says_to_make_one(keypair):
    _, public = keypair
    with pytest.raises(SecretError, match="no secrets key.*secret keygen"):
        decrypt_pillar({"a": encrypt(public, "a", b"v")}, None)


def test_key_files_are_private_and_load_back(tmp_path):
    directory = tmp_path / "pki" / "secrets"
    secret_path, public_path = write_keypair(str(directory))
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(secret_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(public_path).st_mode) == 0o644
    secret, public = load_secret_key(secret_path), load_public_key(public_path)
    assert decrypt(secret, "x", encrypt(public, "x", b"ok")) == b"ok"


def test_keygen_refuses_to_overwrite_a_key_unless_forced(tmp_path):
    secret_path, _ = write_keypair(str(tmp_path / "k"))
    first = load_secret_key(secret_path)
    with pytest.raises(ConfigError, match="exists"):
        write_keypair(str(tmp_path / "k"))
    assert load_secret_key(secret_path) == first
    write_keypair(str(tmp_path / "k"), overwrite=True)
    assert load_secret_key(secret_path) != first


def test_a_secret_key_readable_by_others_is_refused(tmp_path):
    secret_path, _ = write_keypair(str(tmp_path / "k"))
    os.chmod(secret_path, 0o644)
    with pytest.raises(ConfigError, match="0600"):
        load_secret_key(secret_path)
    os.chmod(secret_path, 0o600)
    os.chmod(tmp_path / "k", 0o755)
    with pytest.raises(ConfigError, match="0700"):
        load_secret_key(secret_path)
