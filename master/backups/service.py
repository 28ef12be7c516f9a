"""The master daemon's side of the catalogue (MasterServices holds one as `backups`).

    backups = BackupService(config.db_path, mask)
    backups.receive("web1", wire_record)             # validated, masked, stored once
    backups.note_pillar("web1", pillar)              # the jobs web1's compiled pillar declares
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, Mapping

from core.errors import WireError
from master.backups.catalogue import Catalogue, record_from_wire
from master.backups.status import declared_from_pillar

log = logging.getLogger("lp.master.backups")


class BackupService:
    def __init__(self, db_path: str, mask: Callable[[str], str] | None = None) -> None:
        self.catalogue = Catalogue(db_path)
        self._mask = mask or (lambda s: s)

    def receive(self, minion_id: str, data: Any) -> bool:
        """Store a run record of `minion_id` (the authenticated id); WireError for a malformed one
        or for a job its pillar does not declare (which also bounds what a minion can make us store)."""
        record = record_from_wire(data)
        record["finished_at"] = min(record["finished_at"], time.time())   # a run dated ahead would stay "last"
        if not self.catalogue.is_declared(minion_id, record["job"]):
            raise WireError(f"backup job {record['job']!r} is not declared in {minion_id}'s pillar")
        record = {k: (self._mask(v) if isinstance(v, str) and k not in ("run_id", "kind", "job") else v)
                  for k, v in record.items()}
        stored = self.catalogue.add_run(minion_id, record)
        if stored:
            log.info("backup %s %s on %s: %s", record["kind"], record["job"], minion_id,
                     "ok" if record["success"] else "failed")
        return stored

    def note_pillar(self, minion_id: str, pillar: Mapping[str, Any]) -> None:
        """Record the backup jobs the master's own compile of `minion_id`'s pillar declares."""
        try:
            self.catalogue.declare(minion_id, declared_from_pillar(pillar.get("backup")))
        except Exception:   # the pillar reply must go out whatever the catalogue does
            log.exception("could not record the backup jobs of %s", minion_id)

    def forget(self, minion_id: str) -> None:
        self.catalogue.forget(minion_id)

    def close(self) -> None:
        self.catalogue.close()
