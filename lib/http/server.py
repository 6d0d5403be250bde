"""A threaded HTTP/1.1 server, optionally TLS, with one pluggable handler.

The node daemon and the RAPI daemon both use it. A handler is a plain
function::

    handler_fn(method, path, headers, body, client_cert_verified)
        -> (status, headers_dict, body_bytes)

so protocol logic (noded's procedure dispatch, RAPI's resources) stays out
of the transport. Every connection gets its own daemon thread; the TLS
handshake happens in that thread, so a slow or hostile client cannot stall
the accept loop. Connections are kept alive between requests.
"""

import http.server
import logging
import socket
import socketserver
import threading
import time

from ganeti import http as ghttp

DEFAULT_MAX_BODY = 64 * 1024 * 1024
DEFAULT_IDLE_TIMEOUT = 300
DEFAULT_HANDSHAKE_TIMEOUT = 10

_BODY_METHODS = frozenset(["POST", "PUT", "PATCH"])
# After refusing a too large body, read at most this much of it for at
# most this long before closing.
_DRAIN_LIMIT = 16 * 1024 * 1024
_DRAIN_SECONDS = 2.0


class _RequestHandler(http.server.BaseHTTPRequestHandler):
    """Turns one HTTP request into a call of the server's handler_fn."""

    protocol_version = "HTTP/1.1"
    server_version = "Ganeti"

    def version_string(self):
        return self.server.server_version or self.server_version

    def setup(self):
        self.timeout = self.server.idle_timeout
        super().setup()

    # BaseHTTPRequestHandler dispatches on do_<METHOD>; all go one way.
    def do_GET(self):
        self._handle()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def _handle(self):
        body = self._read_body()
        if body is None:
            return
        verified = self.server.peer_verified(self.connection)
        try:
            status, headers, out = self.server.handler_fn(
                self.command, self.path, self.headers, body, verified)
        except Exception:  # pylint: disable=broad-except
            logging.exception("Error in HTTP handler for %s %s",
                              self.command, self.path)
            status, headers, out = (ghttp.HTTP_INTERNAL_SERVER_ERROR, {},
                                    b"Internal server error\n")
        self._reply(status, headers or {}, out)

    def _read_body(self):
        """The request body, or None after an error reply was sent."""
        length = self.headers.get("Content-Length")
        if length is None:
            if (self.headers.get("Transfer-Encoding") or
                    (self.command in _BODY_METHODS and
                     self.server.length_required)):
                self._error(ghttp.HTTP_LENGTH_REQUIRED,
                            "Content-Length header required")
                return None
            return b""
        try:
            size = int(length)
            if size < 0:
                raise ValueError(length)
        except ValueError:
            self._error(ghttp.HTTP_BAD_REQUEST,
                        "Invalid Content-Length %r" % length)
            return None
        if size > self.server.max_body:
            self._too_large(size)
            self._drain(size)
            return None
        body = self.rfile.read(size)
        if len(body) != size:
            self.close_connection = True
            return None
        return body

    def handle_expect_100(self):
        """Refuse an oversized body before the client sends it."""
        try:
            size = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            size = 0
        if size > self.server.max_body:
            self._too_large(size)
            return False
        return super().handle_expect_100()

    def _too_large(self, size):
        self._error(ghttp.HTTP_PAYLOAD_TOO_LARGE,
                    "Request body of %d bytes exceeds the limit of %d" %
                    (size, self.server.max_body))

    def _drain(self, size):
        """Read and drop (part of) an unwanted body after the error reply,
        so that a client still sending it gets to read the reply instead
        of a connection reset."""
        left = min(size, _DRAIN_LIMIT)
        deadline = time.monotonic() + _DRAIN_SECONDS
        try:
            self.connection.settimeout(_DRAIN_SECONDS)
            while left > 0 and time.monotonic() < deadline:
                chunk = self.rfile.read1(min(left, 65536))
                if not chunk:
                    break
                left -= len(chunk)
        except (OSError, ValueError):
            pass

    def _error(self, status, message):
        """Reply with an error and drop the connection (body unread)."""
        self.close_connection = True
        if self.server.error_fn is not None:
            headers, body = self.server.error_fn(status, message)
        else:
            headers, body = {}, (message + "\n").encode("utf-8")
        headers = dict(headers, Connection="close")
        self._reply(status, headers, body)

    def _reply(self, status, headers, body):
        if isinstance(body, str):
            body = body.encode("utf-8")
        body = body or b""
        self.send_response(status)
        lower = dict((k.lower(), v) for k, v in headers.items())
        if "content-type" not in lower:
            self.send_header("Content-Type", "text/plain; charset=utf-8")
        for name, value in headers.items():
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        logging.debug("%s %s", self.address_string(), format % args)

    def log_error(self, format, *args):  # pylint: disable=redefined-builtin
        logging.info("%s %s", self.address_string(), format % args)


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """TCPServer that does the TLS handshake in each connection's thread.

    (``http.server.HTTPServer`` is avoided: its bind does a reverse DNS
    look-up, which hangs in network namespaces without a resolver.)
    """

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, family, ssl_context, handler_fn, max_body,
                 idle_timeout, handshake_timeout, options):
        self.address_family = family
        self.server_version = options.get("server_version")
        self.error_fn = options.get("error_fn")
        self.length_required = options.get("length_required", True)
        self.ssl_context = ssl_context
        self.handler_fn = handler_fn
        self.max_body = max_body
        self.idle_timeout = idle_timeout
        self.handshake_timeout = handshake_timeout
        self._conn_lock = threading.Lock()
        self._connections = set()
        super().__init__(address, _RequestHandler, bind_and_activate=False)
        if family == socket.AF_INET6:
            # Also accept IPv4 on "::" like most daemons do.
            try:
                self.socket.setsockopt(socket.IPPROTO_IPV6,
                                       socket.IPV6_V6ONLY, 0)
            except OSError:
                pass
        try:
            self.server_bind()
            self.server_activate()
        except BaseException:
            self.server_close()
            raise

    def process_request_thread(self, request, client_address):
        conn = request
        self._track(conn, True)
        try:
            # Headers and body leave in separate writes; with Nagle on, the
            # body waits for the client's delayed ACK (40 ms per request).
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.ssl_context is not None:
                request.settimeout(self.handshake_timeout)
                conn = self.ssl_context.wrap_socket(request, server_side=True)
                self._track(request, False)
                self._track(conn, True)
            self.finish_request(conn, client_address)
        except Exception as err:  # pylint: disable=broad-except
            # TLS refusals (no or wrong client certificate) and clients
            # going away are routine; they must not kill the server.
            logging.debug("Connection from %s failed: %s",
                          client_address[0], err)
        finally:
            self._track(conn, False)
            _close_socket(conn)

    def _track(self, conn, add):
        with self._conn_lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def close_connections(self):
        """Shut down every open client connection (idle keep-alives too)."""
        with self._conn_lock:
            conns = list(self._connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    @staticmethod
    def peer_verified(conn):
        """True if the peer presented a certificate that verified."""
        getpeercert = getattr(conn, "getpeercert", None)
        if getpeercert is None:
            return False
        try:
            return bool(getpeercert())
        except (ValueError, OSError):
            return False

    def handle_error(self, request, client_address):
        logging.debug("Error handling request from %s", client_address,
                      exc_info=True)


def _close_socket(conn):
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        conn.close()
    except OSError:
        pass


class HttpServer:
    """A listening HTTP(S) server; see the module docstring for handler_fn.

    ``bind`` is an IPv4 or IPv6 address ("" or "0.0.0.0" for all); ``port``
    0 picks a free port (read it back from ``.port``). Without
    ``ssl_params`` the server speaks plain HTTP. Binding happens in the
    constructor, so a daemon can report "address in use" before it
    detaches from the terminal.

    Optional behaviour (RAPI uses these, noded keeps the defaults):
    ``server_version`` is the ``Server`` header; ``error_fn(status,
    message) -> (headers, body)`` formats the errors the transport itself
    answers (411, 413, bad Content-Length); with ``length_required``
    False a POST/PUT without Content-Length has an empty body (as curl
    sends ``-X PUT`` without data) instead of getting 411.
    """

    def __init__(self, bind, port, handler_fn, ssl_params=None,
                 max_body=DEFAULT_MAX_BODY, idle_timeout=DEFAULT_IDLE_TIMEOUT,
                 handshake_timeout=DEFAULT_HANDSHAKE_TIMEOUT,
                 server_version=None, error_fn=None, length_required=True):
        bind = bind or "0.0.0.0"
        family = socket.AF_INET6 if ":" in bind else socket.AF_INET
        ssl_context = ssl_params.server_context() if ssl_params else None
        self.ssl_params = ssl_params
        self._server = _Server((bind, port), family, ssl_context, handler_fn,
                               max_body, idle_timeout, handshake_timeout,
                               {"server_version": server_version,
                                "error_fn": error_fn,
                                "length_required": length_required})
        self.bind = bind
        self.port = self._server.server_address[1]
        self._thread = None
        self._serving = threading.Event()

    def serve_forever(self):
        """Serve in the calling thread until ``shutdown`` is called."""
        self._serving.set()
        try:
            self._server.serve_forever(poll_interval=0.2)
        finally:
            self._serving.clear()

    def serve_in_thread(self):
        """Serve from a new daemon thread; returns that thread."""
        self._serving.set()  # so that an early shutdown() still stops it
        self._thread = threading.Thread(target=self.serve_forever,
                                        name="http-%s" % self.port,
                                        daemon=True)
        self._thread.start()
        return self._thread

    def shutdown(self):
        """Stop accepting, close the listening socket and all connections."""
        if self._serving.is_set():
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._server.server_close()
        self._server.close_connections()
