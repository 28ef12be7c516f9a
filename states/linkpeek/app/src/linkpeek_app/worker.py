"""The title fetcher: takes queued links from the database and records their titles.

    python -m linkpeek_app.worker /etc/linkpeek/production.ini
"""
from __future__ import annotations

import logging
import signal
import sys
import time

import plaster

from linkpeek_app.store import Store
from linkpeek_app.titles import fetch_title

log = logging.getLogger("linkpeek.worker")
IDLE_S = 0.5


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m linkpeek_app.worker CONFIG.ini", file=sys.stderr)
        return 64
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = plaster.get_settings(argv[0], "app:main")
    store = Store.from_settings(settings)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    while not stopping:
        try:
            store.ensure_schema()
            break
        except Exception as exc:  # noqa: BLE001 (wait for the database)
            log.warning("database not ready: %s", exc)
            time.sleep(2)
    log.info("worker started")
    while not stopping:
        try:
            link = store.claim()
        except Exception as exc:  # noqa: BLE001 (the database went away: retry)
            log.warning("claim failed: %s", exc)
            time.sleep(2)
            continue
        if link is None:
            time.sleep(IDLE_S)
            continue
        try:
            title, error = fetch_title(link.url), None
        except Exception as exc:  # noqa: BLE001 (any fetch failure is recorded on the link)
            title, error = None, f"{type(exc).__name__}: {exc}"[:500]
        store.done(link.id, title, error)
        log.info("link %s: %s", link.id, title or error)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
