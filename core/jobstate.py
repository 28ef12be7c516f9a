"""How a job that never finished is recorded: a `lost` return, told apart by its exit code.

Every job ends in the store as returned, failed or lost. A job is lost when the minion
stopped while running it (the minion reports it after its restart) or when the minion's
connection dropped while it ran (the master records it at once). A lost return is a
failed return whose retcode is LOST_RETCODE and whose text says what happened; a real
return that arrives later replaces the master's guess.
"""
from __future__ import annotations

LOST_RETCODE = 253


def is_lost(retcode: object) -> bool:
    return retcode == LOST_RETCODE


def lost_text(fun: str, why: str) -> str:
    return f"Lost: {why} while it ran {fun}; no result was returned"
