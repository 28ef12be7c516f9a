"""Certificates among managed files: real PEM files made with cryptography, real expiry arithmetic."""
from __future__ import annotations

import datetime as dt
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from minion.certs import expiring, find_certificates, managed_paths

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)


def make_cert(cn: str, days_valid: int) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(NOW - dt.timedelta(days=30))
            .not_valid_after(NOW + dt.timedelta(days=days_valid)).sign(key, hashes.SHA256()))
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), pem_key


def test_managed_paths_from_low_chunks():
    low = [{"state": "file", "fun": "managed", "name": "/etc/ssl/a.pem"},
           {"state": "file", "fun": "directory", "name": "/etc/ssl"},
           {"state": "cmd", "fun": "run", "name": "true"},
           {"state": "file", "fun": "managed", "name": "/etc/ssl/a.pem"}]
    assert managed_paths(low) == ["/etc/ssl/a.pem"]


def test_certificates_expiring_within_the_window_are_reported(tmp_path):
    soon, soon_key = make_cert("soon.example", 10)
    later, _ = make_cert("later.example", 200)
    gone, _ = make_cert("gone.example", -2)
    (tmp_path / "soon.pem").write_bytes(soon_key + soon)          # key and cert in one file
    (tmp_path / "chain.pem").write_bytes(later + gone)
    (tmp_path / "motd").write_text("hello\n")
    os.mkfifo(tmp_path / "fifo")
    paths = [str(tmp_path / n) for n in ("soon.pem", "chain.pem", "motd", "fifo", "missing.pem")]
    certs = find_certificates(paths)
    assert sorted(c.subject for c in certs) == ["CN=gone.example", "CN=later.example", "CN=soon.example"]
    found = expiring(certs, now=NOW.timestamp())
    assert [(c.subject, c.days_left) for c in found] == [("CN=gone.example", -2.0), ("CN=soon.example", 10.0)]
    assert found[1].path == str(tmp_path / "soon.pem")
    assert [c.subject for c in expiring(certs, now=NOW.timestamp(), window_days=5)] == ["CN=gone.example"]


def test_a_broken_certificate_block_is_skipped(tmp_path):
    good, _ = make_cert("ok.example", 3)
    bad = b"-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n"
    (tmp_path / "mixed.pem").write_bytes(bad + good)
    assert [c.subject for c in find_certificates([str(tmp_path / "mixed.pem")])] == ["CN=ok.example"]
