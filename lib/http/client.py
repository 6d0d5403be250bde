"""HTTP(S) client with persistent connections, safe to share between threads.

The master calls the same nodes over and over (job after job); paying a TLS
handshake per call would dominate short RPCs. ``HttpClientPool`` keeps idle
keep-alive connections per (host, port); a thread checks one out for the
duration of a request, so no connection is ever used by two threads.
"""

import http.client
import select
import socket
import ssl
import threading

from ganeti import constants
from ganeti import http as ghttp

DEFAULT_TIMEOUT = constants.RPC_TMO_NORMAL
MAX_IDLE_PER_HOST = 8

# Errors meaning "the server closed this (idle) connection before reading
# our request": a reused connection is then retried once on a new one.
_STALE_ERRORS = (http.client.RemoteDisconnected, BrokenPipeError,
                 ConnectionResetError, http.client.BadStatusLine,
                 ssl.SSLEOFError, ssl.SSLZeroReturnError)


class HttpClientPool:
    """Keep-alive connection pool; ``ssl_params`` None means plain HTTP.

    With ``SslParams`` the client presents ``cert_file``/``key_file`` and
    requires the server's certificate to chain to ``ca_file``; the host
    name is not checked (see ``SslParams.client_context``).
    """

    def __init__(self, ssl_params=None,
                 connect_timeout=constants.RPC_CONNECT_TIMEOUT,
                 max_idle_per_host=MAX_IDLE_PER_HOST):
        self._ssl_context = ssl_params.client_context() if ssl_params else None
        self._connect_timeout = connect_timeout
        self._max_idle = max_idle_per_host
        self._lock = threading.Lock()
        self._idle = {}

    def _checkout(self, host, port):
        """An idle connection to (host, port), or a new unconnected one."""
        while True:
            with self._lock:
                conns = self._idle.get((host, port))
                conn = conns.pop() if conns else None
            if conn is None:
                break
            if _is_usable(conn):
                return conn, True
            conn.close()
        if self._ssl_context is not None:
            conn = http.client.HTTPSConnection(host, port,
                                               timeout=self._connect_timeout,
                                               context=self._ssl_context)
        else:
            conn = http.client.HTTPConnection(host, port,
                                              timeout=self._connect_timeout)
        return conn, False

    def _checkin(self, host, port, conn):
        with self._lock:
            conns = self._idle.setdefault((host, port), [])
            if len(conns) < self._max_idle:
                conns.append(conn)
                return
        conn.close()

    def request(self, host, port, method, path, body=None, headers=None,
                timeout=DEFAULT_TIMEOUT):
        """Send one request; returns ``(status, body_bytes)``.

        Raises ``ganeti.http.HttpConnectionError`` when the server cannot be
        reached or the connection fails (including TLS refusals and
        timeouts). ``timeout`` bounds each socket operation after the
        connection is made; connecting has its own shorter timeout.
        """
        if isinstance(body, str):
            body = body.encode("utf-8")
        hdrs = {"Connection": "keep-alive"}
        if headers:
            hdrs.update(headers)
        if body is not None or method in ("POST", "PUT"):
            hdrs["Content-Length"] = str(len(body or b""))
        while True:
            conn, reused = self._checkout(host, port)
            try:
                return self._do_request(conn, host, port, method, path, body,
                                        hdrs, timeout)
            except _STALE_ERRORS as err:
                conn.close()
                if reused:
                    continue
                raise ghttp.HttpConnectionError(_describe(err))
            except (OSError, http.client.HTTPException) as err:
                conn.close()
                raise ghttp.HttpConnectionError(_describe(err))

    def _do_request(self, conn, host, port, method, path, body, hdrs,
                    timeout):
        if conn.sock is None:
            conn.timeout = self._connect_timeout
            conn.connect()
            _detect_dead_peers(conn.sock)
        conn.sock.settimeout(timeout)
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        if resp.will_close:
            conn.close()
        else:
            self._checkin(host, port, conn)
        return resp.status, data

    def close(self):
        """Close every idle connection."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()


# A peer that vanished (link down, node off) never acknowledges what we
# send and never answers keep-alive probes: fail after ~10-25 s instead of
# the call's timeout (up to hours), without limiting slow but alive calls.
_USER_TIMEOUT_MS = 10000
_KEEPALIVE = (("TCP_KEEPIDLE", 10), ("TCP_KEEPINTVL", 5), ("TCP_KEEPCNT", 3))


def _detect_dead_peers(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for name, value in _KEEPALIVE:
            if hasattr(socket, name):
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name),
                                value)
        if hasattr(socket, "TCP_USER_TIMEOUT"):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT,
                            _USER_TIMEOUT_MS)
    except OSError:  # not a TCP socket (tests on unix sockets)
        pass


def _is_usable(conn):
    """False if the server closed an idle connection (it became readable).

    An idle keep-alive connection has nothing to read; EOF or a TLS
    close-notify make it readable. Catching this first avoids sending a
    request into a dead connection.
    """
    sock = conn.sock
    if sock is None:
        return False
    poller = select.poll()
    try:
        poller.register(sock, select.POLLIN)
        return not poller.poll(0)
    except (OSError, ValueError):
        return False


def _describe(err):
    """A short human description of a connection-level failure."""
    if isinstance(err, socket.timeout):
        return "timed out"
    if isinstance(err, ssl.SSLError):
        return "SSL error: %s" % (err.reason or err)
    if isinstance(err, http.client.RemoteDisconnected):
        return "connection closed by peer"
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return str(err) or type(err).__name__
