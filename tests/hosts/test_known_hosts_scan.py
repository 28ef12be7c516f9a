"""ssh_known_hosts.present without `key`: the host's keys are scanned (ssh-keyscan) from a real
Debian sshd in a test host (tests/hostlib/vault.py), checked against `fingerprint` when given.

Salt 3008.5, observed with salt-call against such an sshd: without a fingerprint it saves every
key the host offers (or the `enc` one) and says nothing about trusting it; a fingerprint that
matches none fails ("none of their fingerprints match"), an unreachable host fails ("Unable to
receive remote host keys"); its test mode does not scan. Ours scans in test mode too and says
in the comment that a key without a fingerprint is trusted on first use.
"""
from __future__ import annotations

import base64
import hashlib
import logging
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from minion.state.contract import ExecContext
from minion.state.fileclient import LocalFileClient
from minion.state.runner import run_plan
from tests.hostlib.vault import Vault
from tests.runner.conftest import chunk

pytestmark = pytest.mark.host


@pytest.fixture(scope="module")
def sshd(bridge: None) -> Iterator[Vault]:
    vault = Vault.start("khscan")
    vault.host.spawn(["/usr/sbin/sshd", "-D", "-e", "-p", "2222"], log_name="sshd-2222")
    vault.host.wait_for(lambda: _offers(vault.address, 2222), "sshd on port 2222", timeout=30)
    try:
        yield vault
    finally:
        vault.stop()


def _offers(address: str, port: int) -> bool:
    proc = subprocess.run(["ssh-keyscan", "-T", "2", "-p", str(port), address],
                          capture_output=True, text=True)
    return bool(proc.stdout.strip())


def _host_key(vault: Vault, kind: str) -> str:
    return vault.host.read_text(f"/etc/ssh/ssh_host_{kind}_key.pub").split()[1]


def _sha256(key: str) -> bytes:
    return hashlib.sha256(base64.b64decode(key)).digest()


def _run(tmp_path: Path, test: bool = False, **args) -> dict:
    ctx = ExecContext(grains={}, pillar={}, files=LocalFileClient(str(tmp_path)),
                      log=logging.getLogger("test"), test=test)
    name = args.pop("name")
    ((_, res),) = run_plan([chunk("ssh_known_hosts.present", "kh", name, **args)], ctx).items()
    return res


def _ssh_finds(known_hosts: Path, host: str) -> str:
    proc = subprocess.run(["ssh-keygen", "-F", host, "-f", str(known_hosts)],
                          capture_output=True, text=True)
    return proc.stdout if proc.returncode == 0 else ""


def test_without_a_fingerprint_the_scanned_keys_are_trusted_on_first_use_and_said_so(
    sshd: Vault, tmp_path: Path,
):
    kh = tmp_path / "known_hosts"
    ed25519 = _host_key(sshd, "ed25519")
    dry = _run(tmp_path, test=True, name=sshd.address, config=str(kh), enc="ssh-ed25519")
    assert dry["result"] is None and not kh.exists()
    assert "trusted on first use" in dry["comment"]
    assert dry["changes"]["new"] == [{
        "enc": "ssh-ed25519", "key": ed25519, "hostname": sshd.address,
        "fingerprint": ":".join(f"{b:02x}" for b in _sha256(ed25519))}]  # Salt's form
    assert dry["changes"]["old"] is None  # Salt: null when the host was not there
    real = _run(tmp_path, name=sshd.address, config=str(kh), enc="ssh-ed25519")
    assert real["result"] is True and real["changes"] == dry["changes"]
    assert "trusted on first use" in real["comment"]
    assert ed25519 in _ssh_finds(kh, sshd.address)  # hashed, and OpenSSH finds it
    assert kh.read_text().startswith("|1|")
    again = _run(tmp_path, name=sshd.address, config=str(kh), enc="ssh-ed25519")
    assert again["result"] is True and again["changes"] == {}


def test_without_enc_every_key_the_host_offers_is_saved(sshd: Vault, tmp_path: Path):
    kh = tmp_path / "kh"
    real = _run(tmp_path, name=sshd.address, config=str(kh), hash_known_hosts=False)
    assert real["result"] is True
    offered = {(e["enc"], e["key"]) for e in real["changes"]["new"]}
    assert ("ssh-ed25519", _host_key(sshd, "ed25519")) in offered
    assert ("ssh-rsa", _host_key(sshd, "rsa")) in offered and len(offered) >= 3
    assert sorted(kh.read_text().splitlines()) == sorted(
        f"{sshd.address} {enc} {key}" for enc, key in offered)


@pytest.mark.parametrize("form", ["openssh", "salt-hex"])
def test_a_matching_fingerprint_pins_that_key_only(sshd: Vault, tmp_path: Path, form: str):
    kh = tmp_path / "kh"
    ed25519 = _host_key(sshd, "ed25519")
    digest = _sha256(ed25519)
    fp = ("SHA256:" + base64.b64encode(digest).decode().rstrip("=") if form == "openssh"
          else ":".join(f"{b:02x}" for b in digest))
    real = _run(tmp_path, name=sshd.address, config=str(kh), fingerprint=fp)
    assert real["result"] is True, real
    assert [(e["enc"], e["key"]) for e in real["changes"]["new"]] == [("ssh-ed25519", ed25519)]
    assert "trusted on first use" not in real["comment"] and "checked" in real["comment"]
    assert len(kh.read_text().splitlines()) == 1
    again = _run(tmp_path, name=sshd.address, config=str(kh), fingerprint=fp)
    assert again["result"] is True and again["changes"] == {}


def test_a_fingerprint_no_key_matches_fails_and_writes_nothing(sshd: Vault, tmp_path: Path):
    kh = tmp_path / "kh"
    wrong = "SHA256:" + base64.b64encode(b"\x01" * 32).decode().rstrip("=")
    for test in (True, False):
        res = _run(tmp_path, test=test, name=sshd.address, config=str(kh), fingerprint=wrong)
        assert res["result"] is False and "none matches the fingerprint" in res["comment"]
        assert "ssh-ed25519 SHA256:" in res["comment"]  # what it does offer
    assert not kh.exists()


def test_another_port_is_scanned_there_and_written_bracketed(sshd: Vault, tmp_path: Path):
    kh = tmp_path / "kh"
    real = _run(tmp_path, name=sshd.address, config=str(kh), port=2222, enc="ssh-ed25519")
    assert real["result"] is True, real
    assert _host_key(sshd, "ed25519") in _ssh_finds(kh, f"[{sshd.address}]:2222")
    assert not _ssh_finds(kh, sshd.address)


def test_an_unreachable_port_fails_saying_no_key_was_received(sshd: Vault, tmp_path: Path):
    res = _run(tmp_path, name=sshd.address, config=str(tmp_path / "kh"), port=2299, timeout=3)
    assert res["result"] is False and "Unable to receive remote host keys" in res["comment"]


def test_a_host_already_present_is_not_rescanned_and_its_key_never_replaced(
    sshd: Vault, tmp_path: Path,
):
    kh = tmp_path / "kh"
    planted = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    kh.write_text(f"{sshd.address} ssh-ed25519 {planted}\n")
    res = _run(tmp_path, name=sshd.address, config=str(kh), enc="ssh-ed25519")
    assert res["result"] is True and res["changes"] == {}
    assert kh.read_text() == f"{sshd.address} ssh-ed25519 {planted}\n"


@pytest.mark.parametrize("args,message", [
    ({"key": "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
      "fingerprint": "SHA256:x"}, "give key or fingerprint, not both"),
    ({"fingerprint": "SHA256:tooshort"}, "fingerprint must be SHA256:"),
    ({"fingerprint": "ab:cd"}, "colon hex"),
    ({"enc": "ssh-bogus"}, "enc must be one of"),
    ({"timeout": 0}, "timeout must be"),
])
def test_bad_scan_arguments_are_refused_saying_what_to_give(args, message):
    from core.errors import StateArgError
    from minion.states.ssh_known_hosts import Present

    with pytest.raises(StateArgError, match=message):
        Present().parse("git.internal", {"config": "/etc/ssh/ssh_known_hosts", **args})
