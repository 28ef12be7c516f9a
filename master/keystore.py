"""The master's key store: which CURVE key belongs to which minion id, in which state.

Files, as Salt lays them out, under the master's pki dir (0700):

    pki/minions/ID            accepted   (the file holds the Z85 public key)
    pki/minions_pre/ID        pending
    pki/minions_rejected/ID   rejected
    pki/minions_denied/ID     denied     (a second key for an already accepted id)

The index lives in memory. The CLI edits the files directly (and tells a running master);
the daemon re-reads a directory only when its mtime changes, and then only the files whose
inode, size or mtime changed. `lookup` (every message) looks at the accepted directory
alone, so a revocation takes effect at once while a flood of pending keys costs nothing
there. The daemon hands in a `writer` so its own writes (register) happen off the event
loop; the index is updated first.

Trust: a file that is not a regular file, not named as a minion id, or does not hold a
usable CURVE key (wrong length, not Z85, all zeros or another small-order point) is
refused and listed in `problems()`. One key stored under two ids serves neither id.
A self-declared id is only ever used by `register`; everything else maps the
authenticated key to its id here.
"""
from __future__ import annotations

import fnmatch
import logging
import os
import stat
import threading
import time
from dataclasses import dataclass
from typing import Callable

from core.errors import KeyStoreError
from core.keys import ensure_private_dir, fingerprint, is_public_key, z85_decode
from core.wire import MINION_ID_RE

log = logging.getLogger("lp.master.keys")

ACCEPTED, PENDING, REJECTED, DENIED = "accepted", "pending", "rejected", "denied"
STATES = (ACCEPTED, PENDING, REJECTED, DENIED)
_DIRS = {ACCEPTED: "minions", PENDING: "minions_pre", REJECTED: "minions_rejected",
         DENIED: "minions_denied"}
MAX_KEY_FILE_BYTES = 1024

_P = 2 ** 255 - 19
# X25519 points of small order: a "key" that makes every shared secret predictable.
_SMALL_ORDER = frozenset(v.to_bytes(32, "little") for v in (0, 1, _P - 1, _P, _P + 1)) | {
    bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
    bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
}

Writer = Callable[[Callable[[], None]], object]


def key_problem(text: str) -> str | None:
    """Why `text` is not a usable CURVE public key, or None."""
    if len(text) != 40:
        return f"holds {len(text)} characters, not a 40-character Z85 key"
    if not is_public_key(text):
        return "is not Z85 text"
    raw = z85_decode(text)
    if raw[:31] + bytes([raw[31] & 0x7F]) in _SMALL_ORDER:
        return "holds an all-zero or small-order key, which anyone could use"
    return None


@dataclass(frozen=True)
class KeyEntry:
    """One minion key in one state."""

    minion_id: str
    state: str
    key: str

    @property
    def finger(self) -> str:
        return fingerprint(self.key)


_Sig = tuple[int, int, int]   # inode, size, mtime_ns of a key file


class KeyStore:
    """Key states on disk, with an in-memory index refreshed incrementally when files change."""

    def __init__(self, pki_dir: str, writer: Writer | None = None) -> None:
        self.pki_dir = pki_dir
        self._writer = writer
        self._dir_stamp: dict[str, int] = {}
        self._scanned_at: dict[str, float] = {}
        # state -> name -> (file signature, key or None when the file was refused)
        self._files: dict[str, dict[str, tuple[_Sig, str | None]]] = {s: {} for s in STATES}
        self._bad: dict[str, str] = {}                  # path -> why it was refused
        self._unflushed: dict[tuple[str, str], str | None] = {}   # our writes not yet on disk
        self._lock = threading.RLock()
        self._by_key: dict[str, KeyEntry] = {}
        self._by_state: dict[str, dict[str, KeyEntry]] = {s: {} for s in STATES}
        self._conflicts: dict[str, list[str]] = {}      # key -> the ids it is stored under
        self._conflicted_ids: set[str] = set()

    def ensure_dirs(self) -> None:
        ensure_private_dir(self.pki_dir)
        for sub in _DIRS.values():
            ensure_private_dir(os.path.join(self.pki_dir, sub))

    def _dir(self, state: str) -> str:
        return os.path.join(self.pki_dir, _DIRS[state])

    # -- reading the files ---------------------------------------------------------------

    def refresh(self, force: bool = False, states: tuple[str, ...] = STATES) -> bool:
        """Re-read the directories of `states` that changed; True if the index changed."""
        with self._lock:  # a write finishing meanwhile stays in the overlay until we are done
            changed = False
            for state in states:
                changed |= self._scan(state, force)
            if changed:
                for state in set(STATES) - set(states):  # the index is rebuilt from all of them
                    self._scan(state, force)
                self._rebuild()
        return changed

    def _scan(self, state: str, force: bool) -> bool:
        path = self._dir(state)
        try:
            stamp = os.stat(path).st_mtime_ns
        except FileNotFoundError:
            stamp = 0
        now = time.time()
        # File times are coarse (a few ms): a change in the same tick as our last scan
        # leaves the stamp equal, so re-scan (rate-limited) while a change is recent.
        recent = now - stamp / 1e9 < 2.0 and now - self._scanned_at.get(state, 0.0) > 0.1
        if not force and stamp == self._dir_stamp.get(state) and not recent:
            return False
        try:
            names = os.listdir(path)
        except FileNotFoundError:
            names = []
        self._dir_stamp[state], self._scanned_at[state] = stamp, now   # not on a failed read: it is tried again
        old = self._files[state]
        new: dict[str, tuple[_Sig, str | None]] = {}
        for name in names:
            if name.startswith("."):
                continue  # our own temporary files
            full = os.path.join(path, name)
            try:
                st = os.lstat(full)
            except FileNotFoundError:
                continue
            sig = (st.st_ino, st.st_size, st.st_mtime_ns)
            known = old.get(name)
            if known is not None and known[0] == sig:
                new[name] = known
                continue
            key, why = self._read(name, full, st)
            if why is not None:
                self._report(full, why)
            else:
                self._bad.pop(full, None)
            new[name] = (sig, key)
        for name in set(old) - set(new):
            self._bad.pop(os.path.join(path, name), None)
        if new == old:
            return False
        self._files[state] = new
        return True

    @staticmethod
    def _read(name: str, full: str, st: os.stat_result) -> tuple[str | None, str | None]:
        """(key, None) for a good key file, (None, why) for a refused one."""
        if not MINION_ID_RE.fullmatch(name):
            return None, "is not named as a minion id (letters, digits, '.', '_', '-')"
        if not stat.S_ISREG(st.st_mode):
            return None, "is not a regular file"
        if st.st_size > MAX_KEY_FILE_BYTES:
            return None, f"is {st.st_size} bytes, too big for a key file"
        try:
            fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            try:
                data = os.read(fd, MAX_KEY_FILE_BYTES + 1)
            finally:
                os.close(fd)
            text = data.decode("ascii").strip()
        except OSError as exc:
            return None, f"cannot be read: {exc.strerror}"
        except UnicodeDecodeError:
            return None, "is not ASCII text"
        why = key_problem(text)
        return (None, why) if why else (text, None)

    def _report(self, path: str, why: str) -> None:
        if self._bad.get(path) != why:
            log.warning("key file %r %s; refused (fix or delete it)", path, why)
        self._bad[path] = why

    def _rebuild(self) -> None:
        """The index from the files read, with our own writes not yet on disk laid over."""
        by_state: dict[str, dict[str, KeyEntry]] = {s: {} for s in STATES}
        for state in STATES:
            for name, (_, key) in self._files[state].items():
                if key is not None:
                    by_state[state][name] = KeyEntry(name, state, key)
        with self._lock:
            pending_writes = dict(self._unflushed)
        for (state, name), key in pending_writes.items():
            if key is None:
                by_state[state].pop(name, None)
            else:
                by_state[state][name] = KeyEntry(name, state, key)
        ids_of: dict[str, set[str]] = {}
        by_key: dict[str, KeyEntry] = {}
        for state in STATES:
            for mid, entry in by_state[state].items():
                ids_of.setdefault(entry.key, set()).add(mid)
                # a key accepted anywhere wins over the same key (same id) in another state
                if entry.key not in by_key or state == ACCEPTED:
                    by_key[entry.key] = entry
        conflicts = {key: sorted(ids) for key, ids in ids_of.items() if len(ids) > 1}
        for key, ids in conflicts.items():
            if self._conflicts.get(key) != ids:
                log.error("one key (%s) is stored under %d ids: %s; serving none of them until "
                          "the wrong ones are deleted (lpmaster keys delete ID)",
                          fingerprint(key)[:23], len(ids), ", ".join(ids))
            by_key.pop(key, None)
        self._conflicts = conflicts
        self._conflicted_ids = {mid for ids in conflicts.values() for mid in ids}
        self._by_key, self._by_state = by_key, by_state

    def problems(self) -> list[str]:
        """Every refused key file and every key stored under two ids, as sentences."""
        self.refresh()
        out = [f"key file {path} {why}; refused" for path, why in sorted(self._bad.items())]
        out += [f"one key ({fingerprint(key)[:23]}...) is stored under {', '.join(ids)}: "
                "none of them is served until the wrong ones are deleted"
                for key, ids in sorted(self._conflicts.items())]
        return out

    # -- lookups -------------------------------------------------------------------------

    def lookup(self, key: str, refresh: bool = True) -> KeyEntry | None:
        """The entry for an authenticated key; None for an unknown key or one under two ids.

        Only the accepted directory is checked for changes here (cheap, on every message);
        the others are re-read by `refresh()` (the daemon's key watch, and every listing).
        `refresh=False`: the caller checked it an instant ago (the daemon, once per burst of
        requests read at one wakeup).
        """
        if refresh:
            self.refresh(states=(ACCEPTED,))
        return self._by_key.get(key)

    def accepted_id(self, key: str) -> str | None:
        """The minion id of `key` if it is accepted, else None."""
        entry = self.lookup(key)
        return entry.minion_id if entry is not None and entry.state == ACCEPTED else None

    def accepted_key(self, minion_id: str) -> str | None:
        """The accepted key of `minion_id` (None: none, or its key is also another id's), as
        fresh as `lookup` (for a handler on the message path: no scan of the other states)."""
        self.refresh(states=(ACCEPTED,))
        entry = self._by_state[ACCEPTED].get(minion_id)
        return None if entry is None or minion_id in self._conflicted_ids else entry.key

    def accepted(self) -> dict[str, str]:
        """id -> key of every accepted minion (an id whose key is also another id's: none)."""
        self.refresh()
        return {mid: e.key for mid, e in self._by_state[ACCEPTED].items() if mid not in self._conflicted_ids}

    def pending_count(self) -> int:
        return len(self._by_state[PENDING])

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
        Works on the in-memory index (the daemon refreshes it); writes go to the writer.
        """
        if not MINION_ID_RE.fullmatch(minion_id) or not isinstance(key, str) or key_problem(key):
            raise KeyStoreError("invalid id or key")
        if self._writer is None:
            self.refresh()
        self._refuse_conflicted(key, minion_id)
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
            raise PendingFull(f"too many pending keys ({max_pending}); not recording {minion_id}")
        self._write(PENDING, minion_id, key)
        return PENDING

    def _refuse_conflicted(self, key: str, minion_id: str) -> None:
        ids = self._conflicts.get(key)
        if ids is not None or minion_id in self._conflicted_ids:
            raise KeyStoreError(f"the key store holds one key under several ids ({', '.join(ids or [minion_id])}); "
                                "none is served until the operator deletes the wrong ones")

    def accept(self, minion_id: str) -> KeyEntry:
        """Pending or rejected -> accepted."""
        self.refresh()
        if minion_id in self._by_state[ACCEPTED]:
            raise KeyStoreError(f"{minion_id} is already accepted")
        self._refuse_conflicted("", minion_id)
        return self._move(minion_id, (PENDING, REJECTED), ACCEPTED)

    def preseed(self, minion_id: str, key: str) -> KeyEntry:
        """Accept `key` for an id that has no key yet (`lpmaster keys gen`)."""
        if not MINION_ID_RE.fullmatch(minion_id) or not isinstance(key, str) or key_problem(key):
            raise KeyStoreError("invalid id or key")
        self.refresh()
        if any(minion_id in self._by_state[state] for state in STATES):
            raise KeyStoreError(f"{minion_id} already has a key")
        holder = self._by_key.get(key)
        held_by = holder.minion_id if holder is not None else next(iter(self._conflicts.get(key, ())), None)
        if held_by is not None:
            raise KeyStoreError(f"this key is already stored for {held_by}")
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
        self._remove(ACCEPTED, from_id)  # first: the key is never under two ids (served by neither)
        if old is not None and old.key != new.key:
            self._write(REJECTED, to_id, old.key)
        self._write(ACCEPTED, to_id, new.key)
        return old

    def delete(self, minion_id: str, states: tuple[str, ...] | None = None) -> list[KeyEntry]:
        """Remove every key of `minion_id` in `states` (default: any state)."""
        self.refresh()
        gone = []
        for state in states or STATES:
            entry = self._by_state[state].get(minion_id)
            if entry is not None:
                self._remove(state, minion_id)
                gone.append(entry)
        if not gone:
            raise KeyStoreError(f"no key for {minion_id}")
        return gone

    def _write(self, state: str, minion_id: str, key: str) -> None:
        self._change(state, minion_id, key)

    def _remove(self, state: str, minion_id: str) -> None:
        self._change(state, minion_id, None)

    def _change(self, state: str, minion_id: str, key: str | None) -> None:
        """Update the index now; put the file change on disk (through the writer, if any)."""
        with self._lock:
            self._unflushed[(state, minion_id)] = key
        entries = self._by_state[state]
        old = entries.pop(minion_id, None)
        if key is not None:
            entries[minion_id] = KeyEntry(minion_id, state, key)
        for touched in {key, old.key if old is not None else None} - {None}:
            self._reindex(touched, minion_id)  # type: ignore[arg-type]

        def persist() -> None:
            try:
                self._persist(state, minion_id, key)
            except OSError as exc:
                log.error("cannot write the %s key of %s: %s", state, minion_id, exc.strerror)
            finally:
                with self._lock:
                    if self._unflushed.get((state, minion_id), "") == key:
                        del self._unflushed[(state, minion_id)]

        if self._writer is None:
            persist()
        else:
            self._writer(persist)

    def _reindex(self, key: str, minion_id: str) -> None:
        """Point `key` at its entry after a change to `minion_id` (accepted wins over other states)."""
        held = self._by_key.get(key)
        if (held is not None and held.minion_id != minion_id) or key in self._conflicts:
            self._rebuild()  # another id is involved: work it out from everything
            return
        same = [self._by_state[s][minion_id] for s in STATES
                if self._by_state[s].get(minion_id) is not None and self._by_state[s][minion_id].key == key]
        if same:
            self._by_key[key] = same[0]
        else:
            self._by_key.pop(key, None)

    def _persist(self, state: str, minion_id: str, key: str | None) -> None:
        path = os.path.join(self._dir(state), minion_id)
        if key is None:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            return
        self.ensure_dirs()
        tmp = os.path.join(self._dir(state), f".{minion_id}.tmp")  # not an id: never indexed
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        try:
            os.write(fd, (key + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)


class PendingFull(KeyStoreError):
    """The pending list is at its cap (`max_pending_keys`): a new key is not recorded."""
