"""Hands out the master's public key on first contact (plain TCP, one line, then close).

A CURVE client must know the server's key before it can connect, so a new minion
fetches it here once and checks it against the fingerprint it was given
(`lpminion init --master-finger`), or records it when trust-on-first-use was chosen.
Only public material is served; the line is `LPMASTERKEY 1 <Z85 key>`.
"""
from __future__ import annotations

import asyncio
import logging

log = logging.getLogger("lp.master.keyannounce")

BANNER = "LPMASTERKEY 1"


async def serve_master_key(host: str, port: int, public_key: str) -> asyncio.AbstractServer:
    """Start the announcer; the caller closes the returned server."""
    line = f"{BANNER} {public_key}\n".encode("ascii")

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(line)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    try:
        return await asyncio.start_server(answer, host, port, reuse_address=True)
    except OSError as exc:
        from core.errors import TransportError
        raise TransportError(f"cannot listen on {host}:{port} for key announcements: {exc.strerror}") from exc
