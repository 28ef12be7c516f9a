"""Pillar secrets encrypted at rest: `ENC[v1,...]` tokens for the master's secrets key.

A token is sealed to the master's X25519 public key, so anyone holding the public key can
add a secret and only the master can read it:

    ephemeral X25519 key pair  --ECDH-->  shared secret with the master's public key
    HKDF-SHA256(shared, salt=ephemeral_pub || master_pub, info="linkpeek-ops secret v1") -> key
    ChaCha20-Poly1305(key, nonce, plaintext, associated_data="linkpeek-ops:v1:" + pillar path)

    ENC[v1,<key id>,<base64url(ephemeral_pub || nonce || ciphertext+tag)>]

The pillar path ("linkpeek:db:password") is the associated data, so a token pasted under
another pillar key does not decrypt. The key id (8 hex digits of the public key's SHA-256)
tells a token meant for another master key apart from a tampered one.

    >>> priv, pub = generate_keypair()
    >>> token = encrypt(pub, "app:db:password", b"hunter22")
    >>> decrypt(priv, "app:db:password", token)
    b'hunter22'

Errors are core.errors.SecretError; the pillar service adds the pillar file's name.
"""
from __future__ import annotations

import base64
import hashlib
import os
import re
import stat
from typing import Any, Mapping

from core.errors import ConfigError, SecretError
from core.keys import ensure_private_dir, write_private_file

VERSION = "v1"
TOKEN_PREFIX = "ENC["
_INFO = b"linkpeek-ops secret v1"
_AAD_PREFIX = b"linkpeek-ops:v1:"
_PUB_LEN = 32
_NONCE_LEN = 12
_TAG_LEN = 16
_TOKEN_RE = re.compile(r"^ENC\[([A-Za-z0-9]+),(.*)\]$", re.DOTALL)
_V1_BODY_RE = re.compile(r"^([0-9a-f]{8}),([A-Za-z0-9_\-]+={0,2})$")

SECRET_KEY_HEADER = "linkpeek-ops secrets key v1 (X25519, keep private)"
PUBLIC_KEY_HEADER = "linkpeek-ops secrets public key v1 (X25519)"
SECRET_KEY_FILE = "secrets.key"
PUBLIC_KEY_FILE = "secrets.pub"


def generate_keypair() -> tuple[bytes, bytes]:
    """A fresh X25519 key pair as raw 32-byte (secret, public) keys."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    private = X25519PrivateKey.generate()
    return _raw_private(private), _raw_public(private.public_key())


def key_id(public_key: bytes) -> str:
    """8 hex digits naming a public key (in tokens and in `secret keygen` output)."""
    return hashlib.sha256(public_key).hexdigest()[:8]


def is_token(value: Any) -> bool:
    """Whether a pillar value is an encrypted token (a string starting with `ENC[`)."""
    return isinstance(value, str) and value.lstrip().startswith(TOKEN_PREFIX)


def encrypt(public_key: bytes, pillar_path: str, plaintext: bytes) -> str:
    """Seal `plaintext` to `public_key`, bound to `pillar_path`; return an `ENC[v1,...]` token."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    _check_pillar_path(pillar_path)
    if len(public_key) != _PUB_LEN:
        raise SecretError(f"a secrets public key is {_PUB_LEN} bytes, got {len(public_key)}")
    recipient = X25519PublicKey.from_public_bytes(public_key)
    ephemeral = X25519PrivateKey.generate()
    ephemeral_pub = _raw_public(ephemeral.public_key())
    key = _derive(ephemeral.exchange(recipient), ephemeral_pub, public_key)
    nonce = os.urandom(_NONCE_LEN)
    sealed = ChaCha20Poly1305(key).encrypt(nonce, plaintext, _aad(pillar_path))
    body = base64.urlsafe_b64encode(ephemeral_pub + nonce + sealed).decode("ascii")
    return f"ENC[{VERSION},{key_id(public_key)},{body}]"


def decrypt(secret_key: bytes, pillar_path: str, token: str) -> bytes:
    """Open a token sealed for this key and this pillar path; SecretError says why it cannot."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    kid, payload = _parse(token, pillar_path)
    private = X25519PrivateKey.from_private_bytes(secret_key)
    own_pub = _raw_public(private.public_key())
    if kid != key_id(own_pub):
        raise SecretError(f"pillar key {pillar_path!r}: the token was encrypted for secrets key {kid}, "
                          f"but this master's key is {key_id(own_pub)} (encrypt it again with "
                          "this master's public key)")
    ephemeral_pub = payload[:_PUB_LEN]
    nonce = payload[_PUB_LEN:_PUB_LEN + _NONCE_LEN]
    sealed = payload[_PUB_LEN + _NONCE_LEN:]
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_pub))
    except ValueError as exc:  # an all-zero shared secret: a crafted ephemeral key
        raise SecretError(f"pillar key {pillar_path!r}: the token is corrupt ({exc})") from exc
    key = _derive(shared, ephemeral_pub, own_pub)
    try:
        return ChaCha20Poly1305(key).decrypt(nonce, sealed, _aad(pillar_path))
    except InvalidTag:
        raise SecretError(f"pillar key {pillar_path!r}: the token does not decrypt: it was altered, "
                          "or it was encrypted for another pillar key (a token is bound to the key "
                          "given to `lpmaster secret encrypt --key`)") from None


def decrypt_pillar(pillar: Mapping[str, Any], secret_key: bytes | None) -> tuple[dict[str, Any], set[str]]:
    """Decrypt every `ENC[...]` string in a pillar; return (new pillar, the set of secret values).

    A value's pillar path is its keys joined by ':' ("linkpeek:db:password"); items of a
    list are bound to the list's own path. Raises SecretError carrying `.pillar_path` and
    `.token` so the caller can name the file the token came from.
    """
    secrets: set[str] = set()

    def walk(node: Any, path: str) -> Any:
        if isinstance(node, Mapping):
            return {k: walk(v, f"{path}:{k}" if path else str(k)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(item, path) for item in node]
        if is_token(node):
            if secret_key is None:
                raise _located(SecretError(
                    f"pillar key {path!r} holds an ENC[...] token but the master has no secrets key "
                    "(run `lpmaster secret keygen`)"), path, node)
            try:
                plain = decrypt(secret_key, path, node)
                text = plain.decode("utf-8")
            except SecretError as exc:
                raise _located(exc, path, node)
            except UnicodeDecodeError:
                raise _located(SecretError(f"pillar key {path!r}: the secret is not UTF-8 text"),
                               path, node) from None
            secrets.add(text)
            return text
        return node

    return walk(pillar, ""), secrets


# --- key files ---------------------------------------------------------------------------


def write_keypair(directory: str, overwrite: bool = False) -> tuple[str, str]:
    """Create a key pair in `directory` (made 0700): secrets.key 0600, secrets.pub 0644.

    Refuses to replace an existing secret key unless `overwrite` (every token made for it
    would become unreadable). Returns (secret key path, public key path).
    """
    ensure_private_dir(directory)
    secret_path = os.path.join(directory, SECRET_KEY_FILE)
    public_path = os.path.join(directory, PUBLIC_KEY_FILE)
    if os.path.exists(secret_path) and not overwrite:
        raise ConfigError(f"{secret_path} exists; replacing it makes every ENC[...] token made for it "
                          "unreadable (pass --force if that is what you want)")
    secret, public = generate_keypair()
    write_private_file(secret_path, f"# {SECRET_KEY_HEADER}\n{_b64(secret)}\n")
    write_private_file(public_path, f"# {PUBLIC_KEY_HEADER}, id {key_id(public)}\n{_b64(public)}\n", 0o644)
    return secret_path, public_path


def load_public_key(path: str) -> bytes:
    """Read a secrets public key file (only the public key is needed to encrypt)."""
    return _read_key(path, "public")


def load_secret_key(path: str) -> bytes:
    """Read the master's secrets key; refuse it when others could read it or its directory."""
    try:
        st = os.stat(path)
        dir_st = os.stat(os.path.dirname(os.path.abspath(path)))
    except FileNotFoundError:
        raise ConfigError(f"no secrets key at {path} (run `lpmaster secret keygen`)") from None
    if stat.S_IMODE(st.st_mode) & 0o077:
        raise ConfigError(f"{path} is readable by others (mode {stat.S_IMODE(st.st_mode):04o}); "
                          "it must be 0600")
    if stat.S_IMODE(dir_st.st_mode) & 0o077:
        raise ConfigError(f"{os.path.dirname(os.path.abspath(path))} is open to others "
                          f"(mode {stat.S_IMODE(dir_st.st_mode):04o}); it must be 0700")
    return _read_key(path, "secret")


def parse_key_text(text: str) -> bytes:
    """A raw 32-byte key from a key file's text (# comments, one base64 line) or bare base64."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if len(lines) != 1:
        raise SecretError("a key file holds one base64 line (after # comments)")
    try:
        raw = base64.b64decode(lines[0], validate=True)
    except ValueError:
        raise SecretError("the key is not valid base64") from None
    if len(raw) != _PUB_LEN:
        raise SecretError(f"a key is {_PUB_LEN} bytes, this one is {len(raw)}")
    return raw


# --- internals ---------------------------------------------------------------------------


def _parse(token: str, pillar_path: str) -> tuple[str, bytes]:
    if not isinstance(token, str):
        raise SecretError(f"pillar key {pillar_path!r}: a token is a string, got {type(token).__name__}")
    compact = "".join(token.split())  # YAML may fold a long token over lines
    match = _TOKEN_RE.match(compact)
    if match is None:
        raise SecretError(f"pillar key {pillar_path!r}: malformed or truncated ENC[...] token "
                          "(it must look like ENC[v1,<key id>,<data>])")
    version, body = match.groups()
    if version != VERSION:
        raise SecretError(f"pillar key {pillar_path!r}: unknown token version {version!r} "
                          f"(this master reads {VERSION})")
    body_match = _V1_BODY_RE.match(body)
    if body_match is None:
        raise SecretError(f"pillar key {pillar_path!r}: malformed ENC[v1,...] token")
    kid, data = body_match.groups()
    try:
        payload = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    except ValueError:
        raise SecretError(f"pillar key {pillar_path!r}: the token's data is not valid base64") from None
    if len(payload) < _PUB_LEN + _NONCE_LEN + _TAG_LEN:
        raise SecretError(f"pillar key {pillar_path!r}: the token is truncated")
    return kid, payload


def _derive(shared: bytes, ephemeral_pub: bytes, recipient_pub: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral_pub + recipient_pub,
                info=_INFO).derive(shared)


def _aad(pillar_path: str) -> bytes:
    return _AAD_PREFIX + pillar_path.encode("utf-8")


def _check_pillar_path(pillar_path: str) -> None:
    parts = pillar_path.split(":")
    if not pillar_path or any(p == "" for p in parts):
        raise SecretError(f"a pillar key looks like a:b:c, got {pillar_path!r}")


def _located(exc: SecretError, path: str, token: str) -> SecretError:
    exc.pillar_path = path  # type: ignore[attr-defined]
    exc.token = token  # type: ignore[attr-defined]
    return exc


def _raw_private(private: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization as ser
    return private.private_bytes(ser.Encoding.Raw, ser.PrivateFormat.Raw, ser.NoEncryption())


def _raw_public(public: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization as ser
    return public.public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _read_key(path: str, what: str) -> bytes:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read(4096)
    except FileNotFoundError:
        raise ConfigError(f"no {what} key file at {path}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return parse_key_text(text)
    except SecretError as exc:
        raise ConfigError(f"{path}: {exc}") from None
