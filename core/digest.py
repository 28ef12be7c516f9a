"""SHA-256 without loading OpenSSL: `import hashlib` loads libcrypto (about 6 ms of every
process's start); CPython's built-in module gives the same digests.

    from core.digest import sha256
    sha256(b"data").hexdigest()
"""

from __future__ import annotations

try:
    from _sha256 import sha256  # CPython 3.11
except ImportError:  # pragma: no cover - other interpreters
    try:
        from _sha2 import sha256  # type: ignore[no-redef]  # CPython 3.12+
    except ImportError:
        from hashlib import sha256  # type: ignore[no-redef]

__all__ = ["sha256"]
