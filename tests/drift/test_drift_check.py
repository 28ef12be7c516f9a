"""The minion's drift check as a timeline on real files, with the real compiler and runner:
apply, check clean, edit by hand (corrective), change the blueprint (pending), fix, clean again."""
from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

from core.drift import CLEAN, CORRECTIVE, DRIFTED, FAILING, PENDING
from core.errors import TransportError
from minion.drift_check import DriftLedger, plan_fingerprint, run_drift_check

runner = pytest.importorskip("minion.state.runner")
compiler = pytest.importorskip("minion.state.compiler")
LocalFileClient = pytest.importorskip("minion.state.fileclient").LocalFileClient
from minion.state.contract import ExecContext  # noqa: E402
from minion.state.tree import StateTree  # noqa: E402

GRAINS = {"id": "web1", "os": "Debian"}


class Host:
    """A state tree and a target directory standing in for the host's /etc."""

    def __init__(self, tmp: Path) -> None:
        self.tree = tmp / "states"
        self.etc = tmp / "etc"
        self.tree.mkdir()
        self.etc.mkdir()
        self.ledger = DriftLedger(str(tmp / "cache" / "drift.json"))
        self.write_tree("Welcome to LinkPeek")

    def write_tree(self, motd: str, banner: str = "authorised use only") -> None:
        (self.tree / "top.sls").write_text("base:\n  '*':\n    - base\n")
        (self.tree / "base.sls").write_text(textwrap.dedent(f"""\
            motd:
              file.managed:
                - name: {self.etc}/motd
                - contents: {motd}
            banner:
              file.managed:
                - name: {self.etc}/issue.net
                - contents: {banner}
            """))

    def compile(self):
        pillar = {"role": "web"}
        plan = compiler.compile_highstate(StateTree(str(self.tree)), "web1", GRAINS, pillar)
        return plan.chunks, pillar

    def run(self, chunks, test):
        ctx = ExecContext(grains=GRAINS, pillar={}, files=LocalFileClient(str(self.tree)),
                          log=logging.getLogger("test"), test=test)
        return runner.run_plan(chunks, ctx)

    def apply(self):
        chunks, pillar = self.compile()
        ret = self.run(chunks, test=False)
        self.ledger.record_apply(plan_fingerprint(chunks, pillar), ret)
        return ret

    def check(self):
        return run_drift_check("web1", compile_plan=self.compile, run_test=lambda c: self.run(c, True),
                               ledger=self.ledger)


def test_timeline_corrective_then_pending_then_clean(tmp_path):
    host = Host(tmp_path)
    never_applied = host.check()
    assert never_applied.status == DRIFTED and never_applied.drifted[0].kind == PENDING
    assert not (host.etc / "motd").exists()              # the check changed nothing

    host.apply()
    assert host.check().status == CLEAN

    (host.etc / "motd").write_text("edited by hand\n")
    hand = host.check()
    assert hand.status == DRIFTED
    (drift,) = hand.drifted
    assert drift.kind == CORRECTIVE and drift.name == f"{host.etc}/motd"
    assert "-edited by hand" in drift.diff and "+Welcome to LinkPeek" in drift.diff
    assert (host.etc / "motd").read_text() == "edited by hand\n"

    host.apply()
    host.write_tree("Welcome to LinkPeek v2")
    blueprint = host.check()
    assert blueprint.drifted[0].kind == PENDING
    assert "+Welcome to LinkPeek v2" in blueprint.drifted[0].diff

    host.apply()
    clean = host.check()
    assert clean.status == CLEAN
    assert clean.seq > blueprint.seq > hand.seq


def test_hand_edit_stays_corrective_while_another_state_changed_in_the_blueprint(tmp_path):
    host = Host(tmp_path)
    host.apply()
    (host.etc / "motd").write_text("edited by hand\n")
    host.write_tree("Welcome to LinkPeek", banner="new banner")
    kinds = {d.name.rsplit("/", 1)[-1]: d.kind for d in host.check().drifted}
    assert kinds == {"motd": CORRECTIVE, "issue.net": PENDING}


def test_a_tree_that_does_not_compile_is_a_failing_report(tmp_path):
    host = Host(tmp_path)
    (host.tree / "base.sls").write_text("motd:\n  file.managed:\n    - require:\n      - file: nowhere\n")
    report = host.check()
    assert report.status == FAILING and report.compile_errors


def test_a_check_that_cannot_reach_the_master_makes_no_report(tmp_path):
    """No blueprint, no verdict: a report kept from an earlier check must not be replaced."""
    host = Host(tmp_path)
    seq_before = host.ledger.next_seq(0.0)

    def master_away():
        raise TransportError("the master did not answer in time")

    with pytest.raises(TransportError):
        run_drift_check("web1", compile_plan=master_away, run_test=lambda c: host.run(c, True),
                        ledger=host.ledger)
    assert host.ledger.next_seq(0.0) == seq_before + 1  # no sequence number was spent on it


def test_a_partly_failed_apply_does_not_become_the_applied_revision(tmp_path):
    host = Host(tmp_path)
    host.apply()
    good = host.ledger.applied_revision
    (host.tree / "base.sls").write_text("broken:\n  test.fail_without_changes\n")
    host.apply()
    assert host.ledger.applied_revision == good
    assert DriftLedger(host.ledger.path).applied_revision == good


def test_state_digests_follow_each_state_and_a_template_follows_everything():
    def plan(motd: str, pillar_port: int):
        chunks = [{"state": "file", "fun": "managed", "id": "motd", "name": "/etc/motd", "order": 0,
                   "args": {"contents": motd}},
                  {"state": "file", "fun": "managed", "id": "conf", "name": "/etc/app.conf", "order": 1,
                   "args": {"source": "salt://app.conf.j2", "template": "jinja"}}]
        return plan_fingerprint(chunks, {"port": pillar_port})

    base, pillar_changed, motd_changed = plan("hi", 80), plan("hi", 81), plan("ho", 80)
    motd, conf = "file_|-motd_|-/etc/motd_|-managed", "file_|-conf_|-/etc/app.conf_|-managed"
    assert set(base.states) == {motd, conf}
    assert pillar_changed.states[motd] == base.states[motd]       # the motd did not change
    assert pillar_changed.states[conf] != base.states[conf]       # a template may use the pillar
    assert motd_changed.states[motd] != base.states[motd]
    assert len({base.revision, pillar_changed.revision, motd_changed.revision}) == 3


def test_record_converged_records_the_apply_and_takes_a_sequence_number_in_one(tmp_path):
    path = str(tmp_path / "drift.json")
    ledger = DriftLedger(path)
    first = ledger.next_seq(0.0)
    fingerprint = plan_fingerprint([], {"a": 1})
    assert ledger.record_converged(fingerprint, {"s": {"result": False}}, now=0.0) is None
    assert ledger.applied_revision is None
    seq = ledger.record_converged(fingerprint, {"s": {"result": True}}, now=0.0)
    assert seq == first + 1
    reread = DriftLedger(path)  # on disk, as a restarted minion reads it
    assert (reread.applied_revision, reread.next_seq(0.0)) == (fingerprint.revision, seq + 1)
