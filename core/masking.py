"""Masking: every value that came from a secret becomes `***` wherever it could leak.

    >>> m = Masker({"hunter22"})
    >>> m.mask("password=hunter22")
    'password=***'
    >>> m.mask_data({"comment": "set to hunter22", "n": 1})
    {'comment': 'set to ***', 'n': 1}

A secret is also found in the forms a template or an encoder commonly gives it: JSON
and YAML double-quoted escapes, and, for a multi-line secret (a PEM key), each of its
lines, because a unified diff prints them one per line. Substrings shorter than
MIN_SUBSTRING (4) characters are not hunted inside free text (they would garble it);
a data value exactly equal to any secret is masked whatever its length.

Diffs: `mask_diff` replaces a diff that would reveal a secret by one line saying the
content changed (the secret hidden), rather than a diff with holes in it.
"""
from __future__ import annotations

import json
import logging
import re
import threading
from typing import Any, Iterable

MASK = "***"
MIN_SUBSTRING = 4
DIFF_HIDDEN = "<the content changed; the diff is hidden because it contains a secret>"
# The keys of a state's `changes` that hold a diff or whole file contents.
_DIFF_KEYS = frozenset({"diff"})


class Masker:
    """Replaces known secret values by `***` in text and data; callable as `mask(text)`.

    Thread-safe; `add` grows the set (the master learns secrets per compiled pillar).
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._forms: set[str] = set()   # what the pattern hunts: every secret's forms
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def __call__(self, text: str) -> str:
        return self.mask(text)

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Learn more secret values (non-strings are turned into their text)."""
        new = {s if isinstance(s, str) else str(s) for s in secrets} - {""}
        with self._lock:
            if new <= self._secrets:
                return
            for secret in new - self._secrets:
                self._forms |= {f for f in _forms(secret) if len(f) >= MIN_SUBSTRING}
            self._secrets |= new
            # Longest first, so a secret that contains another is masked whole.
            ordered = sorted(self._forms, key=lambda f: (-len(f), f))
            self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def reveals(self, text: str) -> bool:
        """Whether `text` contains a secret (in any form this masker hunts)."""
        pattern = self._pattern
        return bool(pattern and isinstance(text, str) and pattern.search(text))

    def mask(self, text: str) -> str:
        """`text` with every secret replaced by `***`."""
        if not isinstance(text, str):
            return text
        if text in self._secrets:
            return MASK
        pattern = self._pattern
        return pattern.sub(MASK, text) if pattern is not None else text

    def mask_data(self, obj: Any) -> Any:
        """A copy of `obj` (dicts, lists, tuples, strings) with secrets masked, keys included."""
        if not self._secrets:
            return obj
        return self._walk(obj)

    def mask_diff(self, diff: str) -> str:
        """The diff itself when it reveals no secret, else one line saying the content changed."""
        return DIFF_HIDDEN if self.reveals(diff) or diff in self._secrets else diff

    def mask_for_users(self, text: str) -> str:
        """ExecContext.mask: like `mask`, but a unified diff that reveals a secret is replaced whole.

        The runner masks every string of a state's return through this one callable, so a
        diff is told apart by its shape (`--- ` header or an `@@` hunk line).
        """
        if isinstance(text, str) and self.reveals(text) and _looks_like_diff(text):
            return DIFF_HIDDEN
        return self.mask(text)

    def mask_changes(self, changes: Any) -> Any:
        """A state's `changes` with diffs that reveal a secret replaced, everything else masked."""
        if not self._secrets or not isinstance(changes, dict):
            return self.mask_data(changes)
        out: dict[Any, Any] = {}
        for key, value in changes.items():
            diff = key in _DIFF_KEYS and isinstance(value, str)
            out[self.mask(key)] = self.mask_diff(value) if diff else self.mask_changes(value)
        return out

    def mask_state_return(self, ret: Any) -> Any:
        """Salt's state return {tag: {name, result, changes, comment, ...}} with secrets masked."""
        if not self._secrets or not isinstance(ret, dict):
            return self.mask_data(ret)
        out: dict[Any, Any] = {}
        for tag, state in ret.items():
            if isinstance(state, dict):
                out[self.mask(tag)] = {k: (self.mask_changes(v) if k == "changes" else self._walk(v))
                                       for k, v in state.items()}
            else:
                out[self.mask(tag)] = self._walk(state)
        return out

    def _walk(self, obj: Any) -> Any:
        if isinstance(obj, str):
            return self.mask(obj)
        if isinstance(obj, dict):
            return {self._walk(k): self._walk(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self._walk(v) for v in obj]
        if isinstance(obj, tuple):
            return tuple(self._walk(v) for v in obj)
        if isinstance(obj, (bytes, bytearray)):
            try:
                text = bytes(obj).decode("utf-8")
            except UnicodeDecodeError:
                return obj
            masked = self.mask(text)
            return obj if masked == text else masked.encode("utf-8")
        return obj


class MaskingLogFilter(logging.Filter):
    """A logging.Filter that masks secrets in each record's final message (and its traceback).

    Attach it to handlers (see `install_log_masking`), so records from every logger pass it.
    """

    def __init__(self, masker: Masker) -> None:
        super().__init__()
        self.masker = masker

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.masker:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a record whose args do not fit its format: leave it to logging
            return True
        masked = self.masker.mask(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.masker.mask(record.exc_text)
        return True


def install_log_masking(masker: Masker, logger: logging.Logger | None = None) -> MaskingLogFilter:
    """Add a MaskingLogFilter to every handler of `logger` (default: the root logger)."""
    target = logger or logging.getLogger()
    filt = MaskingLogFilter(masker)
    for handler in target.handlers:
        if not any(isinstance(f, MaskingLogFilter) and f.masker is masker for f in handler.filters):
            handler.addFilter(filt)
    return filt


def _looks_like_diff(text: str) -> bool:
    return text.startswith(("--- ", "---\n", "@@ ")) or "\n@@ " in text


def _forms(secret: str) -> set[str]:
    """The secret and the encodings it commonly takes in files and messages."""
    forms = {secret}
    json_form = json.dumps(secret)[1:-1]
    forms.add(json_form)
    forms.add(json.dumps(secret, ensure_ascii=False)[1:-1])
    forms.add(secret.replace("'", "''"))  # YAML single-quoted
    forms |= _yaml_double_quoted(secret)
    forms.add(repr(secret)[1:-1])  # Python repr (tracebacks, %r in logs)
    if "\n" in secret or "\r" in secret:
        forms |= {line.strip() for line in secret.splitlines() if len(line.strip()) >= MIN_SUBSTRING}
    return forms


def _yaml_double_quoted(secret: str) -> set[str]:
    """The secret as a YAML emitter writes it in double quotes (ASCII-only and Unicode)."""
    import yaml

    forms = set()
    for allow_unicode in (False, True):
        dumped = yaml.safe_dump(secret, default_style='"', allow_unicode=allow_unicode,
                                width=1 << 30)
        body = dumped.split("\n...", 1)[0].strip()
        if body.endswith("..."):
            body = body[:-3].rstrip()
        if len(body) >= 2 and body[0] == body[-1] == '"':
            forms.add(body[1:-1])
    return forms
