"""A hand-built CURVE client: keys and routing id of our choosing, for attacks on the master."""
from __future__ import annotations

import time

from tests.foundation.rawclient import RawClient, fresh_keypair, master_key, minion_keypair

__all__ = ["Rogue", "fresh_keypair", "master_key", "minion_keypair"]


class Rogue(RawClient):
    """A RawClient for attacks on the master: it can also resend until answered."""

    def ask_until_answered(self, message: dict, timeout: float = 15.0) -> dict:
        """Resend until a reply comes (a first connection may be refused and retried)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = self.ask(message, timeout=0.5)
            if reply is not None:
                return reply
        raise AssertionError(f"no reply to {message.get('type')!r} within {timeout}s")
