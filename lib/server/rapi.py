"""ganeti-rapi: the Remote API daemon (HTTPS on port 5080, master only).

It serves ``ganeti.rapi.resources.TABLE`` through ``ganeti.rapi.handlers``
and is a LUXI client of masterd: queries go to masterd's query code,
changes are submitted as jobs. TLS uses ``rapi.pem`` (key and certificate
in one file) unless ``--no-ssl``; users come from ``rapi/users``, re-read
whenever the file changes. masterd's start-up (``daemon-util
start-master``) starts it, so it follows the master role.

A new certificate (``gnt-cluster renew-crypto --new-rapi-certificate``)
takes effect when the daemon restarts; renew-crypto restarts it.
"""

import logging
import os
import sys

from ganeti import constants
from ganeti import daemon
from ganeti import http as ghttp
from ganeti import pathutils
from ganeti.http import server as http_server

# Instance creation bodies are small; a megabyte-sized body is an error.
MAX_REQUEST_BODY = 4 * 1024 * 1024
DEFAULT_MAX_CLIENTS = 20


def default_port():
    """The ``ganeti-rapi`` entry of /etc/services, else 5080."""
    import socket
    try:
        return socket.getservbyname(constants.RAPI, "tcp")
    except OSError:
        return constants.DEFAULT_RAPI_PORT


def check(options, args):
    """Refuse to run anywhere but on the master, or without a certificate."""
    if args:
        sys.stderr.write("Usage: ganeti-rapi [-f] [-d] [-b ADDRESS]"
                         " [-p PORT] [--no-ssl] [--require-authentication]\n")
        sys.exit(constants.EXIT_FAILURE)
    if options.port is None or not 0 < options.port < 65536:
        sys.stderr.write("Invalid port %s\n" % options.port)
        sys.exit(constants.EXIT_FAILURE)
    from ganeti import errors
    from ganeti import ssconf
    try:
        master = ssconf.SimpleStore().get_master_node()
    except errors.ConfigurationError as err:
        sys.stderr.write("%s\n" % err)
        sys.exit(constants.EXIT_NOTCLUSTER)
    if master != pathutils.get_hostname():
        sys.stderr.write("Not master, exiting\n")
        sys.exit(constants.EXIT_NOTMASTER)
    if options.ssl:
        for path in (options.ssl_key, options.ssl_cert):
            if not os.path.isfile(path):
                sys.stderr.write("SSL certificate or key '%s' not found\n" %
                                 path)
                sys.exit(constants.EXIT_FAILURE)


class RapiDaemon:
    """The users file watch, the LUXI client pool and the HTTP server."""

    def __init__(self, options):
        from ganeti.rapi import auth
        from ganeti.rapi import handlers
        self.users = auth.UsersFile(pathutils.RAPI_USERS_FILE)
        self.users.start_watching()
        self.pool = handlers.ClientPool(size=options.max_clients)
        self.dispatcher = handlers.Dispatcher(
            self.users, self.pool,
            require_auth=options.require_authentication)
        ssl_params = None
        if options.ssl:
            ssl_params = ghttp.SslParams(options.ssl_key, options.ssl_cert)
        self.server = http_server.HttpServer(
            options.bind_address, options.port, self.dispatcher,
            ssl_params=ssl_params, max_body=MAX_REQUEST_BODY,
            server_version="Ganeti %s" % constants.RELEASE_VERSION,
            error_fn=handlers.transport_error, length_required=False)

    def serve(self, stop_event):
        self.server.serve_in_thread()
        while not stop_event.wait(3600):
            pass
        self.server.shutdown()
        self.users.stop_watching()
        self.pool.close()


def prepare(options, _args):
    try:
        rapi = RapiDaemon(options)
    except OSError as err:
        raise daemon.DaemonStartError(
            "Can't listen on %s:%s: %s" %
            (options.bind_address or "*", options.port,
             getattr(err, "strerror", None) or err))
    logging.info("Listening on %s:%s (%s%s)", options.bind_address or "*",
                 rapi.server.port, "HTTPS" if options.ssl else "HTTP",
                 ", authentication required" if
                 options.require_authentication else "")
    return rapi


def execute(_options, _args, rapi, stop_event):
    rapi.serve(stop_event)


def main():
    parser = daemon.new_option_parser("Ganeti Remote API daemon")
    parser.add_option("--require-authentication",
                      dest="require_authentication", action="store_true",
                      default=False,
                      help="Require authentication for every request,"
                      " reads included")
    parser.add_option("--no-ssl", dest="ssl", action="store_false",
                      default=True, help="Serve plain HTTP (no TLS)")
    parser.add_option("-K", "--ssl-key", dest="ssl_key",
                      default=pathutils.RAPI_CERT_FILE, metavar="FILE",
                      help="TLS private key (default: %default)")
    parser.add_option("-C", "--ssl-cert", dest="ssl_cert",
                      default=pathutils.RAPI_CERT_FILE, metavar="FILE",
                      help="TLS certificate (default: %default)")
    parser.add_option("--max-clients", dest="max_clients", type="int",
                      default=DEFAULT_MAX_CLIENTS, metavar="N",
                      help="Idle connections to the master daemon kept for"
                      " reuse (default: %default)")
    daemon.generic_main(constants.RAPI, parser, check, prepare, execute,
                        default_port=default_port(),
                        default_bind=constants.IP4_ADDRESS_ANY)
