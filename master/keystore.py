"""The master's key store: which CURVE key belongs to which minion id, in which state.

Files, as Salt lays them out, under the master's pki dir (0700):

    pki/minions/ID            accepted   (the file holds the Z85 public key)
    pki/minions_pre/ID        pending
    pki/minions_rejected/ID   rejected
    pki/minions_denied/ID     denied     (a second key for an already accepted id)

The CLI edits these files directly; the daemon re-reads them whenever a directory's
mtime changes (checked on every message and every second), so a revocation takes effect
at once. A self-declared id is only ever used by `register`; everything else maps the
authenticated key to its id here.
"""
from __future__ import annotations

import fnmatch
import os
import time
from dataclasses import dataclass

from core.errors import KeyStoreError
from core.keys import ensure_private_dir, fingerprint, is_public_key, write_public_file
from core.wire import MINION_ID_RE

ACCEPTED, PENDING, REJECTED, DENIED = "accepted", "pending", "rejected", "denied"
STATES = (ACCEPTED, PENDING, REJECTED, DENIED)
_DIRS = {ACCEPTED: "minions", PENDING: "minions_pre", REJECTED: "minions_rejected",
         DENIED: "minions_denied"}


@dataclass(frozen=True)
class KeyEntry:
    """One minion key in one state."""

    minion_id: str
    state: str
    key: str

    @property
    def finger(self) -> str:
        return fingerprint(self.key)


class KeyStore:
    """Key states on disk, with an in-memory index refreshed when the files change."""

    def __init__(self, pki_dir: str) -> None:
        self.pki_dir = pki_dir
        self._stamp: tuple[int, ...] | None = None
        self._scanned_at = 0.0
        self._by_key: dict[str, KeyEntry] = {}
        self._by_state: dict[str, dict[str, KeyEntry]] = {s: {} for s in STATES}

    def ensure_dirs(self) -> None:
        ensure_private_dir(self.pki_dir)
        for sub in _DIRS.values():
            ensure_private_dir(os.path.join(self.pki_dir, sub))

    def _dir(self, state: str) -> str:
        return os.path.join(self.pki_dir, _DIRS[state])

    def _current_stamp(self) -> tuple[int, ...]:
        stamp = []
        for state in STATES:
            try:
                stamp.append(os.stat(self._dir(state)).st_mtime_ns)
            except FileNotFoundError:
                stamp.append(0)
        return tuple(stamp)

    def refresh(self, force: bool = False) -> bool:
        """Re-read the files if any state directory changed; True if the index changed."""
        stamp = self._current_stamp()
        now = time.time()
        # File times are coarse (a few ms): a change in the same tick as our last scan
        # leaves the stamp equal, so re-scan (rate-limited) while a change is recent.
        recent = now - max(stamp) / 1e9 < 2.0 and now - self._scanned_at > 0.1
        if not force and stamp == self._stamp and not recent:
            return False
        self._scanned_at = now
        by_key: dict[str, KeyEntry] = {}
        by_state: dict[str, dict[str, KeyEntry]] = {s: {} for s in STATES}
        for state in STATES:
            try:
                names = os.listdir(self._dir(state))
            except FileNotFoundError:
                continue
            for name in names:
                if not MINION_ID_RE.fullmatch(name):
                    continue
                try:
                    with open(os.path.join(self._dir(state), name), encoding="ascii") as fh:
                        key = fh.read().strip()
                except (OSError, UnicodeDecodeError):
                    continue
                if not is_public_key(key):
                    continue
                entry = KeyEntry(name, state, key)
                by_state[state][name] = entry
                # a key accepted anywhere wins over the same key in another state
                if key not in by_key or state == ACCEPTED:
                    by_key[key] = entry
        changed = by_state != self._by_state
        self._by_key, self._by_state, self._stamp = by_key, by_state, stamp
        return changed

    # -- lookups -------------------------------------------------------------------------

    def lookup(self, key: str) -> KeyEntry | None:
        """The entry for an authenticated key (fresh from disk if the files changed)."""
        self.refresh()
        return self._by_key.get(key)

    def accepted_id(self, key: str) -> str | None:
        """The minion id of `key` if it is accepted, else None."""
        entry = self.lookup(key)
        return entry.minion_id if entry is not None and entry.state == ACCEPTED else None

    def accepted(self) -> dict[str, str]:
        """id -> key of every accepted minion."""
        self.refresh()
        return {mid: e.key for mid, e in self._by_state[ACCEPTED].items()}

    def list_ids(self) -> dict[str, list[str]]:
        """Salt's shape: {"accepted": [...], "pending": [...], "rejected": [...], "denied": [...]}."""
        self.refresh()
        return {s: sorted(self._by_state[s]) for s in STATES}

    def match(self, pattern: str, states: tuple[str, ...]) -> list[KeyEntry]:
        """Entries in `states` whose id is `pattern` or matches it as a glob."""
        self.refresh()
        out = []
        for state in states:
            for mid, entry in sorted(self._by_state[state].items()):
                if mid == pattern or fnmatch.fnmatchcase(mid, pattern):
                    out.append(entry)
        return out

    # -- changes -------------------------------------------------------------------------

    def register(self, minion_id: str, key: str, max_pending: int = 1000) -> str:
        """A minion asks to join with `key` as `minion_id`; return the state it is in now.

        Same key as the accepted one: accepted. A different key for an accepted (or
        pending) id: denied, never a replacement. Unknown id: pending, up to the cap.
        """
        if not MINION_ID_RE.fullmatch(minion_id) or not is_public_key(key):
            raise KeyStoreError("invalid id or key")
        self.refresh()
        for state in (ACCEPTED, REJECTED, PENDING):
            entry = self._by_state[state].get(minion_id)
            if entry is None:
                continue
            if entry.key == key:
                return state
            self._write(DENIED, minion_id, key)
            return DENIED
        denied = self._by_state[DENIED].get(minion_id)
        if denied is not None and denied.key == key:
            return DENIED
        if len(self._by_state[PENDING]) >= max_pending:
            raise KeyStoreError(f"too many pending keys ({max_pending}); not recording {minion_id}")
        self._write(PENDING, minion_id, key)
        return PENDING

    def accept(self, minion_id: str) -> KeyEntry:
        """Pending or rejected -> accepted."""
        self.refresh()
        if minion_id in self._by_state[ACCEPTED]:
            raise KeyStoreError(f"{minion_id} is already accepted")
        return self._move(minion_id, (PENDING, REJECTED), ACCEPTED)

    def preseed(self, minion_id: str, key: str) -> KeyEntry:
        """Accept `key` for an id that has no key yet (`lpmaster keys gen`)."""
        if not MINION_ID_RE.match(minion_id) or not is_public_key(key):
            raise KeyStoreError("invalid id or key")
        self.refresh()
        if any(minion_id in self._by_state[state] for state in STATES):
            raise KeyStoreError(f"{minion_id} already has a key")
        self._write(ACCEPTED, minion_id, key)
        return KeyEntry(minion_id, ACCEPTED, key)

    def reject(self, minion_id: str) -> KeyEntry:
        """Pending or accepted -> rejected (an accepted minion is cut off)."""
        self.refresh()
        return self._move(minion_id, (PENDING, ACCEPTED), REJECTED)

    def _move(self, minion_id: str, sources: tuple[str, str], dest: str) -> KeyEntry:
        """Move `minion_id`'s key from the first of `sources` that holds it to `dest`."""
        for state in sources:
            entry = self._by_state[state].get(minion_id)
            if entry is not None:
                self._write(dest, minion_id, entry.key)
                self._remove(state, minion_id)
                return KeyEntry(minion_id, dest, entry.key)
        raise KeyStoreError(f"no {sources[0]} or {sources[1]} key for {minion_id}")

    def transfer(self, from_id: str, to_id: str) -> KeyEntry | None:
        """`lpmaster rebuild`: the accepted key of `from_id` becomes `to_id`'s accepted key and
        `from_id` is gone. `to_id`'s previous accepted key (the lost machine's) moves to
        rejected, so it cannot come back; that entry is returned (None if it had none)."""
        self.refresh()
        new = self._by_state[ACCEPTED].get(from_id)
        if new is None:
            raise KeyStoreError(f"no accepted key for {from_id}")
        old = self._by_state[ACCEPTED].get(to_id)
        if old is not None and old.key != new.key:
            self._write(REJECTED, to_id, old.key)
        self._write(ACCEPTED, to_id, new.key)
        self._remove(ACCEPTED, from_id)
        return old

    def delete(self, minion_id: str) -> list[KeyEntry]:
        """Remove every key of `minion_id`, in any state."""
        self.refresh()
        gone = []
        for state in STATES:
            entry = self._by_state[state].get(minion_id)
            if entry is not None:
                self._remove(state, minion_id)
                gone.append(entry)
        if not gone:
            raise KeyStoreError(f"no key for {minion_id}")
        return gone

    def _write(self, state: str, minion_id: str, key: str) -> None:
        self.ensure_dirs()
        write_public_file(os.path.join(self._dir(state), minion_id), key + "\n")
        self.refresh(force=True)

    def _remove(self, state: str, minion_id: str) -> None:
        try:
            os.unlink(os.path.join(self._dir(state), minion_id))
        except FileNotFoundError:
            pass
        self.refresh(force=True)
