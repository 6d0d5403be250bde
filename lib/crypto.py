"""X.509 certificates and secrets of a cluster.

The cluster certificate (``server.pem``) is self-signed and serves as key,
certificate and CA for the node daemons' mutual TLS; ``rapi.pem`` and
``spice.pem`` are made the same way. Certificates are built with the
``cryptography`` package because pyOpenSSL's extension API is gone.
"""

import binascii
import datetime
import hashlib
import secrets

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ganeti import constants
from ganeti import errors
from ganeti.utils import io

# Nodes' clocks may lag the one that made the certificate; a certificate
# valid only from "now" would be refused by them for a while.
_NOT_BEFORE_SLACK = datetime.timedelta(hours=1)

_PEM_CERT_BEGIN = b"-----BEGIN CERTIFICATE-----"


def generate_self_signed(common_name=constants.X509_CERT_CN,
                         validity_days=constants.X509_CERT_DEFAULT_VALIDITY,
                         key_bits=constants.RSA_KEY_BITS):
    """A new RSA key and a self-signed certificate for it, both PEM bytes.

    The certificate is its own CA (basicConstraints CA:TRUE) and allows
    both server and client authentication, because every node uses the
    same certificate for both ends of the node RPC connection.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_bits)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _NOT_BEFORE_SLACK)
        .not_valid_after(now + datetime.timedelta(days=validity_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                       critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False,
            key_encipherment=True, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.SERVER_AUTH,
             ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public),
                       critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public),
            critical=False)
    )
    cert = builder.sign(key, hashes.SHA256())
    key_pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    return key_pem, cert_pem


def write_cert_and_key(path, common_name=constants.X509_CERT_CN,
                       validity_days=constants.X509_CERT_DEFAULT_VALIDITY,
                       mode=0o400):
    """Generate a key and certificate and store both in ``path`` atomically.

    Key first, then certificate, as in Ganeti's ``server.pem``; returns the
    certificate PEM so callers can compute its digest without re-reading.
    """
    key_pem, cert_pem = generate_self_signed(common_name=common_name,
                                             validity_days=validity_days)
    io.write_file(path, key_pem + cert_pem, mode=mode)
    return cert_pem


def _pem_bytes(path_or_pem):
    """PEM data from a path, or the PEM data itself when given bytes/str."""
    if isinstance(path_or_pem, bytes):
        return path_or_pem
    if isinstance(path_or_pem, str) and _PEM_CERT_BEGIN.decode() in path_or_pem:
        return path_or_pem.encode("ascii")
    try:
        return io.read_file(path_or_pem, binary=True)
    except OSError as err:
        raise errors.X509CertError(path_or_pem,
                                   "Can't read certificate: %s" % err)


def load_cert(path_or_pem):
    """The first certificate in a PEM file (or PEM data), as an object.

    A combined key+certificate file is fine: the key block is skipped.
    """
    data = _pem_bytes(path_or_pem)
    start = data.find(_PEM_CERT_BEGIN)
    if start < 0:
        raise errors.X509CertError(str(path_or_pem)[:100],
                                   "No certificate found")
    try:
        return x509.load_pem_x509_certificate(data[start:])
    except ValueError as err:
        raise errors.X509CertError(str(path_or_pem)[:100],
                                   "Invalid certificate: %s" % err)


def cert_digest(path_or_pem):
    """SHA1 fingerprint of a certificate as ``AB:CD:...`` (upper-case).

    This is the form Ganeti stores in ``ssconf_master_candidates_certs``.
    """
    cert = load_cert(path_or_pem)
    der = cert.public_bytes(serialization.Encoding.DER)
    return _colon_hex(hashlib.sha1(der).digest())


def _colon_hex(raw):
    return ":".join("%02X" % b for b in raw)


def load_cert_info(path_or_pem):
    """The facts about a certificate that tools show or check.

    Returns a dict: ``common_name``, ``issuer_cn``, ``serial``,
    ``not_before``/``not_after`` (epoch seconds), ``digest`` (SHA1, as
    ``cert_digest``), ``self_signed`` and ``expired`` (bools).
    """
    cert = load_cert(path_or_pem)

    def _cn(name):
        attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME)
        return attrs[0].value if attrs else None

    not_before = cert.not_valid_before_utc.timestamp()
    not_after = cert.not_valid_after_utc.timestamp()
    der = cert.public_bytes(serialization.Encoding.DER)
    return {
        "common_name": _cn(cert.subject),
        "issuer_cn": _cn(cert.issuer),
        "serial": cert.serial_number,
        "not_before": not_before,
        "not_after": not_after,
        "digest": _colon_hex(hashlib.sha1(der).digest()),
        "self_signed": cert.subject == cert.issuer,
        "expired": not_after < datetime.datetime.now(
            datetime.timezone.utc).timestamp(),
    }


def check_key_matches(path):
    """True if the private key and certificate in ``path`` belong together.

    A ``server.pem`` whose halves come from different generations (a
    botched manual copy) makes TLS fail with obscure errors; callers check
    this first to give a clear message.
    """
    data = _pem_bytes(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except ValueError as err:
        raise errors.X509CertError(path, "Can't load private key: %s" % err)
    cert = load_cert(data)
    fmt = serialization.PublicFormat.SubjectPublicKeyInfo
    enc = serialization.Encoding.DER
    return (key.public_key().public_bytes(enc, fmt) ==
            cert.public_key().public_bytes(enc, fmt))


def generate_hmac_key():
    """A new random secret: 40 lower-case hex characters (160 bits).

    Used for ``hmac.key`` and ``cluster-domain-secret``; callers add the
    trailing newline when writing the file.
    """
    return binascii.hexlify(secrets.token_bytes(20)).decode("ascii")


def write_secret_file(path, mode=0o400):
    """Write a new ``generate_hmac_key`` secret plus newline to ``path``."""
    secret = generate_hmac_key()
    io.write_file(path, secret + "\n", mode=mode)
    return secret
