"""CURVE keypairs on disk: generation, loading with permission checks, fingerprints.

A keypair is two files in a 0700 directory: `NAME.pub` (the Z85 public key, 40 chars)
and `NAME.key` (the Z85 secret key, 0600). Our code writes both (pyzmq's certificate
helper writes 0644). Loading refuses a secret key that group or others can read, or
that sits in a directory others can enter.

A fingerprint is the SHA-256 of the raw 32-byte public key, as colon-separated hex
(what `lpmaster keys finger` prints and `lpminion init --master-finger` takes).
"""
from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from typing import Callable

from core.atomicfile import write_atomically
from core.errors import KeyStoreError

_Z85_CHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
_Z85_INDEX = {c: i for i, c in enumerate(_Z85_CHARS)}


@dataclass(frozen=True)
class KeyPair:
    """A CURVE keypair in Z85 text."""

    public: str
    secret: str


def z85_decode(text: str) -> bytes:
    """Decode Z85 (length a multiple of 5); KeyStoreError on a bad character."""
    if len(text) % 5:
        raise KeyStoreError("Z85 text length must be a multiple of 5")
    out = bytearray()
    for i in range(0, len(text), 5):
        value = 0
        for ch in text[i:i + 5]:
            if ch not in _Z85_INDEX:
                raise KeyStoreError(f"invalid Z85 character {ch!r}")
            value = value * 85 + _Z85_INDEX[ch]
        if value > 0xFFFFFFFF:
            raise KeyStoreError("invalid Z85 group")
        out += value.to_bytes(4, "big")
    return bytes(out)


def is_public_key(text: object) -> bool:
    """Whether `text` is a well-formed Z85 CURVE key (40 chars -> 32 bytes)."""
    if not isinstance(text, str) or len(text) != 40:
        return False
    try:
        return len(z85_decode(text)) == 32
    except KeyStoreError:
        return False


def fingerprint(public_key: str) -> str:
    """SHA-256 of the raw public key, as `ab:cd:...` (95 characters, one line)."""
    if not is_public_key(public_key):
        raise KeyStoreError("not a CURVE public key")
    digest = hashlib.sha256(z85_decode(public_key)).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def normalize_fingerprint(text: str) -> str:
    """Accept a fingerprint with or without colons, any case; return the canonical form."""
    hexdigits = text.strip().lower().replace(":", "")
    if len(hexdigits) != 64 or any(c not in "0123456789abcdef" for c in hexdigits):
        raise KeyStoreError(f"not a SHA-256 fingerprint: {text.strip()[:100]!r}")
    return ":".join(hexdigits[i:i + 2] for i in range(0, 64, 2))


def ensure_private_dir(path: str) -> None:
    """Create `path` (and parents) with mode 0700; tighten it if it exists."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)


def write_private_file(path: str, text: str, mode: int = 0o600) -> None:
    """Write `text` to `path` with `mode` (atomically, never briefly wider: core/atomicfile)."""
    write_atomically(path, lambda out: out.write(text.encode()), mode)


def write_public_file(path: str, text: str) -> None:
    """Write a public key file (0644 is fine for public material)."""
    write_private_file(path, text, 0o644)


def generate_keypair(directory: str, name: str, overwrite: bool = False) -> KeyPair:
    """Create `directory/NAME.pub` and `directory/NAME.key`; refuse to overwrite unless asked."""
    from core import channel  # the only module that imports zmq

    return _write_keypair(directory, name, channel.curve_keypair, overwrite)


def install_keypair(directory: str, name: str, secret: str, overwrite: bool = False) -> KeyPair:
    """Install a given secret key (and its derived public half) as `directory/NAME.{key,pub}`."""
    from core import channel

    return _write_keypair(directory, name, lambda: (channel.curve_public(secret), secret), overwrite)


def _write_keypair(directory: str, name: str, make: Callable[[], tuple[str, str]],
                   overwrite: bool) -> KeyPair:
    """Write the (public, secret) pair `make()` gives, once the name is known to be free."""
    ensure_private_dir(directory)
    pub_path, key_path = _paths(directory, name)
    if not overwrite and (os.path.exists(pub_path) or os.path.exists(key_path)):
        raise KeyStoreError(f"a keypair {name!r} already exists in {directory}")
    public, secret = make()
    write_private_file(key_path, secret + "\n")
    write_public_file(pub_path, public + "\n")
    return KeyPair(public=public, secret=secret)


def read_secret_key(path: str) -> str:
    """Read a Z85 CURVE secret key file, refusing one that group or others can read."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise KeyStoreError(f"cannot read key {path}: {exc.strerror}") from exc
    secret = _read_key_text(path)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyStoreError(f"secret key {path} is readable by others "
                            f"(mode {stat.S_IMODE(mode):04o}); run chmod 600 {path}")
    if not is_public_key(secret):  # same Z85 shape as a public key
        raise KeyStoreError(f"{path} does not hold a CURVE secret key")
    return secret


def load_keypair(directory: str, name: str) -> KeyPair:
    """Load a keypair, refusing a secret key that others could read."""
    pub_path, key_path = _paths(directory, name)
    check_private(directory, key_path)
    public = read_public_key(pub_path)
    with open(key_path, encoding="ascii") as fh:
        secret = fh.read().strip()
    if not is_public_key(secret):
        raise KeyStoreError(f"{key_path} does not hold a CURVE secret key")
    return KeyPair(public=public, secret=secret)


def read_public_key(path: str) -> str:
    """Read one Z85 public key file."""
    public = _read_key_text(path)
    if not is_public_key(public):
        raise KeyStoreError(f"{path} does not hold a CURVE public key")
    return public


def _read_key_text(path: str) -> str:
    try:
        with open(path, encoding="ascii") as fh:
            return fh.read().strip()
    except OSError as exc:
        raise KeyStoreError(f"cannot read key {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise KeyStoreError(f"{path} is not a key file") from exc


def check_private(directory: str, key_path: str) -> None:
    """The secret key file must be 0600-ish and its directory closed to others."""
    try:
        dir_mode = os.stat(directory).st_mode
        key_mode = os.stat(key_path).st_mode
    except FileNotFoundError as exc:
        raise KeyStoreError(f"missing key file: {exc.filename}") from exc
    if dir_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyStoreError(f"key directory {directory} is open to others "
                            f"(mode {stat.S_IMODE(dir_mode):04o}); run chmod 700 {directory}")
    if key_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyStoreError(f"secret key {key_path} is readable by others "
                            f"(mode {stat.S_IMODE(key_mode):04o}); run chmod 600 {key_path}")


def _paths(directory: str, name: str) -> tuple[str, str]:
    return os.path.join(directory, f"{name}.pub"), os.path.join(directory, f"{name}.key")
