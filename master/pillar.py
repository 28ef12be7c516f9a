"""The master's pillar service: one minion's pillar, compiled fresh, secrets decrypted.

    service = PillarService(pillar_tree, secrets_key_path)
    pillar, secrets = service.compile_for("web1", grains)

The pillar tree is read for every call (editing a file needs no restart). `ENC[...]`
values are decrypted with the master's secrets key (core.secrets), each bound to its
pillar path; a token that does not decrypt raises SecretError naming the pillar file it
came from. Every secret value decrypted is also added to `service.masker`, which the
master's log filter and job store use.
"""
from __future__ import annotations

import os
import threading
from typing import Any, Mapping

from core.errors import ConfigError, SecretError
from core.masking import Masker


def secrets_dir(master_root: str) -> str:
    """Where the master keeps its secrets key pair: ROOT/pki/secrets (0700)."""
    return os.path.join(master_root, "pki", "secrets")


def secrets_key_path(master_root: str) -> str:
    from core.secrets import SECRET_KEY_FILE
    return os.path.join(secrets_dir(master_root), SECRET_KEY_FILE)


def secrets_pub_path(master_root: str) -> str:
    from core.secrets import PUBLIC_KEY_FILE
    return os.path.join(secrets_dir(master_root), PUBLIC_KEY_FILE)


class PillarService:
    """Compiles pillars for minions; remembers each minion's secret values for masking."""

    def __init__(self, pillar_tree: str, secrets_key_path: str | None = None,
                 masker: Masker | None = None) -> None:
        self.pillar_tree = pillar_tree
        self.secrets_key_path = secrets_key_path
        self.masker = masker if masker is not None else Masker()
        self._key: bytes | None = None
        self._key_stamp: tuple[int, int] | None = None
        self._lock = threading.Lock()
        self._minion_secrets: dict[str, frozenset[str]] = {}

    def compile_for(self, minion_id: str, grains: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
        """(pillar, secret values) for one minion. RenderError / SecretError name the file."""
        from core.pillar import compile_pillar
        from core.secrets import decrypt_pillar

        found: set[str] = set()

        def decrypt(merged: dict[str, Any]) -> dict[str, Any]:
            if not _has_token(merged):
                return merged
            try:
                new, secrets = decrypt_pillar(merged, self._secret_key())
            except SecretError as exc:
                raise SecretError(f"{self._locate(exc)}: {exc}") from None
            found.update(secrets)
            return new

        if not os.path.isdir(self.pillar_tree):
            pillar: dict[str, Any] = {}
        else:
            # Grains come from the minion: they may shape values, never pick whose pillar
            # (and whose secrets) a minion gets (SECURITY.md rule 3).
            pillar = compile_pillar(self.pillar_tree, minion_id, dict(grains), transform=decrypt,
                                    trust_grains=False)
        self.masker.add(found)
        with self._lock:
            self._minion_secrets[minion_id] = frozenset(found)
        return pillar, found

    def check_secrets_key(self) -> None:
        """ConfigError when the secrets key exists but others could read it (the master
        refuses to start then, SECURITY.md rule 10); no key at all is fine."""
        from core.secrets import load_secret_key

        if self.secrets_key_path and os.path.exists(self.secrets_key_path):
            load_secret_key(self.secrets_key_path)

    def secrets_of(self, minion_id: str) -> frozenset[str]:
        """The secret values in the last pillar compiled for this minion (for masking its returns)."""
        with self._lock:
            return self._minion_secrets.get(minion_id, frozenset())

    def _secret_key(self) -> bytes | None:
        """The secrets key, re-read when the file changes; None when the master has none."""
        from core.secrets import load_secret_key

        path = self.secrets_key_path
        if not path:
            return None
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return None
        stamp = (st.st_ino, st.st_mtime_ns)
        with self._lock:
            if self._key is None or self._key_stamp != stamp:
                try:
                    self._key = load_secret_key(path)
                except ConfigError as exc:
                    raise SecretError(str(exc)) from None
                self._key_stamp = stamp
            return self._key

    def _locate(self, exc: SecretError) -> str:
        """The pillar file(s) holding the token that failed, found by its text."""
        token = getattr(exc, "token", None)
        if isinstance(token, str):
            needles = [token.strip(), "".join(token.split())[-24:]]
            for needle in needles:
                hits = _files_containing(self.pillar_tree, needle) if needle else []
                if hits:
                    return ", ".join(hits)
        return f"a file of the pillar tree {self.pillar_tree}"


def _has_token(node: Any) -> bool:
    from core.secrets import is_token

    if isinstance(node, Mapping):
        return any(_has_token(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_token(v) for v in node)
    return is_token(node)


def _files_containing(root: str, needle: str) -> list[str]:
    hits: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            try:
                with open(path, encoding="utf-8", errors="replace") as fh:
                    if needle in fh.read():
                        hits.append(path)
            except OSError:
                continue
    return hits


def masked_pillar(config: Any, minion_id: str) -> tuple[dict[str, Any], bool]:
    """What `lpmaster pillar show ID` prints: (that minion's pillar with secrets masked,
    whether the master knows the minion's grains). Grains come from the job store."""
    from core.masking import Masker
    from master.minion_grains import stored_grains

    grains, known = stored_grains(config, minion_id)
    service = PillarService(config.pillar_tree, secrets_key_path(config.root), Masker())
    pillar, secrets = service.compile_for(minion_id, grains)
    return Masker(secrets).mask_data(pillar), known
