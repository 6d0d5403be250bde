"""HTTP(S) transport shared by the node daemon, its clients and RAPI.

``server.HttpServer`` and ``client.HttpClientPool`` both take an
``SslParams``; the TLS set-up lives here so that the two ends cannot drift
apart (protocol floor, ciphers, how the cluster certificate acts as CA).
"""

import http.client
import ssl

# Ganeti 3.0's cipher list; only affects TLS <= 1.2 (1.3 suites are fixed).
DEFAULT_CIPHERS = "HIGH:-DES:-3DES:-EXPORT:-DH"

HTTP_OK = 200
HTTP_BAD_REQUEST = 400
HTTP_UNAUTHORIZED = 401
HTTP_FORBIDDEN = 403
HTTP_NOT_FOUND = 404
HTTP_METHOD_NOT_ALLOWED = 405
HTTP_LENGTH_REQUIRED = 411
HTTP_PAYLOAD_TOO_LARGE = 413
HTTP_INTERNAL_SERVER_ERROR = 500


def status_phrase(status):
    """``Not Found`` for 404, and so on (empty for unknown codes)."""
    return http.client.responses.get(status, "")


class HttpError(Exception):
    """A request could not be carried out (no HTTP status to report)."""


class HttpConnectionError(HttpError):
    """The peer could not be reached, or the connection broke."""


class SslParams:
    """Key, certificate and CA files of one end of a TLS connection.

    ``key_file`` may equal ``cert_file`` (a combined PEM such as
    ``server.pem``); a client without a certificate passes None for
    both. ``ca_file`` is the set of certificates the peer's must
    chain to; with the cluster's self-signed certificate it is that same
    file. ``require_client_cert`` only matters on the server side.
    """

    def __init__(self, key_file, cert_file, ca_file=None,
                 require_client_cert=False, ciphers=DEFAULT_CIPHERS):
        self.key_file = key_file
        self.cert_file = cert_file
        self.ca_file = ca_file
        self.require_client_cert = require_client_cert
        self.ciphers = ciphers

    def __repr__(self):
        return ("SslParams(key_file=%r, cert_file=%r, ca_file=%r,"
                " require_client_cert=%r)" %
                (self.key_file, self.cert_file, self.ca_file,
                 self.require_client_cert))

    def _base_context(self, purpose):
        ctx = ssl.SSLContext(purpose)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.ciphers:
            try:
                ctx.set_ciphers(self.ciphers)
            except ssl.SSLError:
                pass  # an OpenSSL that spells the list differently
        if self.cert_file:
            ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx

    def server_context(self):
        """An SSLContext for the listening side."""
        ctx = self._base_context(ssl.PROTOCOL_TLS_SERVER)
        if self.ca_file:
            ctx.load_verify_locations(cafile=self.ca_file)
        if self.require_client_cert:
            if not self.ca_file:
                raise ValueError("require_client_cert needs a ca_file")
            ctx.verify_mode = ssl.CERT_REQUIRED
        elif self.ca_file:
            ctx.verify_mode = ssl.CERT_OPTIONAL
        else:
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def client_context(self):
        """An SSLContext for the connecting side.

        The peer must present a certificate chaining to ``ca_file``; its
        host name is not checked, because Ganeti authenticates nodes by the
        cluster certificate, and nodes are addressed by IP.
        """
        ctx = self._base_context(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        if self.ca_file:
            ctx.load_verify_locations(cafile=self.ca_file)
            ctx.verify_mode = ssl.CERT_REQUIRED
        else:
            ctx.verify_mode = ssl.CERT_NONE
        return ctx


def cluster_ssl_params(pem_file):
    """Mutual-TLS parameters where one combined PEM is key, cert and CA."""
    return SslParams(pem_file, pem_file, ca_file=pem_file,
                     require_client_cert=True)
