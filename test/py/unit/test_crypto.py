"""Cluster certificates and secrets (ganeti.crypto)."""

import hashlib
import os
import re
import ssl
import stat
import time

import pytest

from ganeti import crypto
from ganeti import errors

DIGEST_RE = re.compile(r"^([0-9A-F]{2}:){19}[0-9A-F]{2}$")


@pytest.fixture(scope="module")
def pair():
    return crypto.generate_self_signed(common_name="node1.example.com",
                                       validity_days=30)


def test_generate_returns_pem_key_and_cert(pair):
    key_pem, cert_pem = pair
    assert key_pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert cert_pem.startswith(b"-----BEGIN CERTIFICATE-----")


def test_cert_is_self_signed_with_requested_name(pair):
    info = crypto.load_cert_info(pair[1])
    assert info["common_name"] == "node1.example.com"
    assert info["issuer_cn"] == "node1.example.com"
    assert info["self_signed"] is True
    assert info["expired"] is False


def test_expiry_follows_validity_days(pair):
    info = crypto.load_cert_info(pair[1])
    expected = time.time() + 30 * 86400
    assert abs(info["not_after"] - expected) < 120, info
    # valid a little before "now", for nodes whose clocks lag
    assert info["not_before"] < time.time() - 60


def test_default_validity_is_five_years():
    _, cert = crypto.generate_self_signed()
    info = crypto.load_cert_info(cert)
    days = (info["not_after"] - time.time()) / 86400
    assert 5 * 365 - 1 < days <= 5 * 365
    assert info["common_name"] == "ganeti.example.com"


def test_expired_certificate_is_reported():
    _, cert = crypto.generate_self_signed(validity_days=0)
    assert crypto.load_cert_info(cert)["expired"] is True


def test_digest_format_is_sha1_with_colons(pair, tmp_path):
    digest = crypto.cert_digest(pair[1])
    assert DIGEST_RE.match(digest), digest
    # same digest from a combined key+cert file and from str PEM
    path = tmp_path / "combined.pem"
    path.write_bytes(pair[0] + pair[1])
    assert crypto.cert_digest(str(path)) == digest
    assert crypto.cert_digest(pair[1].decode()) == digest
    assert crypto.load_cert_info(str(path))["digest"] == digest


def test_digest_matches_ssl_module(pair):
    der = ssl.PEM_cert_to_DER_cert(pair[1].decode())
    expected = ":".join("%02X" % b for b in hashlib.sha1(der).digest())
    assert crypto.cert_digest(pair[1]) == expected


def test_write_cert_and_key_is_usable_by_ssl(tmp_path):
    path = str(tmp_path / "server.pem")
    crypto.write_cert_and_key(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o400
    data = open(path, "rb").read()
    assert data.index(b"PRIVATE KEY") < data.index(b"CERTIFICATE")
    assert crypto.check_key_matches(path)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(path)
    ctx.load_verify_locations(path)


def test_mismatched_key_detected(tmp_path, pair):
    other_key, _ = crypto.generate_self_signed()
    path = tmp_path / "bad.pem"
    path.write_bytes(other_key + pair[1])
    assert not crypto.check_key_matches(str(path))


def test_missing_or_invalid_cert_raises(tmp_path):
    with pytest.raises(errors.X509CertError):
        crypto.cert_digest(str(tmp_path / "missing.pem"))
    bad = tmp_path / "bad.pem"
    bad.write_text("no certificate here")
    with pytest.raises(errors.X509CertError):
        crypto.load_cert_info(str(bad))


def test_hmac_key_is_40_hex_and_random():
    keys = set(crypto.generate_hmac_key() for _ in range(5))
    assert len(keys) == 5
    for key in keys:
        assert re.match(r"^[0-9a-f]{40}$", key)


def test_write_secret_file(tmp_path):
    path = str(tmp_path / "hmac.key")
    secret = crypto.write_secret_file(path)
    assert open(path).read() == secret + "\n"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o400
