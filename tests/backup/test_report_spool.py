"""A run's record reaches the catalogue even when the master was away: it waits in the spool,
and the master files it once, under the authenticated minion, whatever the body claims."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import TransportError, WireError
from master.backups.catalogue import Catalogue
from master.backups.service import BackupService
from minion.backup.report import deliver
from minion.spool import Spool

RECORD = {"run_id": "a" * 32, "kind": "backup", "job": "db", "host": "web1", "success": True,
          "finished_at": 1_800_000_000.0, "snapshot_id": "1234abcd", "total_bytes": 10}


def test_record_is_spooled_when_the_master_is_away_and_filed_once(tmp_path: Path) -> None:
    def away(_msg: dict) -> dict:
        raise TransportError("the master did not answer 'backup_report' in time")

    reply = deliver(away, RECORD, str(tmp_path / "spool"))
    assert "spooled" in reply
    (path, msg), = list(Spool(str(tmp_path / "spool" / "returns")).items())
    assert msg["type"] == "backup_report" and msg["report"]["run_id"] == RECORD["run_id"]

    service = BackupService(str(tmp_path / "master.db"))
    service.note_pillar("web1", {"backup": {"jobs": {"db": {"source": "postgres", "cron": "0 3 * * *"}}}})
    assert service.receive("web1", {**msg["report"], "host": "web2"}) is True
    assert service.receive("web1", msg["report"]) is False          # re-delivered after a lost ack
    cat = Catalogue(str(tmp_path / "master.db"), readonly=True)
    (run,) = cat.runs("web1", "db")
    assert run["snapshot_id"] == "1234abcd" and cat.runs("web2", "db") == []


@pytest.mark.parametrize("bad", [
    {**RECORD, "success": "yes"},
    {**RECORD, "kind": "delete"},
    {k: v for k, v in RECORD.items() if k != "run_id"},
    {**RECORD, "error": "x" * 100_000},
    "not a map",
])
def test_malformed_records_are_refused(tmp_path: Path, bad: object) -> None:
    with pytest.raises(WireError):
        BackupService(str(tmp_path / "master.db")).receive("web1", bad)


def test_a_record_for_a_job_the_pillar_does_not_declare_is_refused(tmp_path: Path) -> None:
    service = BackupService(str(tmp_path / "master.db"))
    service.note_pillar("web1", {"backup": {"jobs": {"db": {"source": "postgres", "cron": "0 3 * * *"}}}})
    with pytest.raises(WireError, match="not declared"):
        service.receive("web2", RECORD)                    # web2's pillar declares nothing
    with pytest.raises(WireError, match="not declared"):
        service.receive("web1", {**RECORD, "job": "made-up"})
