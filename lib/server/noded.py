"""ganeti-noded: the node daemon, serving node RPC procedures over HTTPS.

Protocol: ``POST /<procedure>`` with a JSON list of the procedure's
arguments (``ganeti.rpc.defs``); the reply is HTTP 200 with
``[true, payload]`` or ``[false, message]``. Malformed requests get HTTP
400, unknown procedures 404. TLS is mutual: ``server.pem`` is key,
certificate and CA, so only holders of the cluster certificate get in.
"""

import logging
import os
import sys

from ganeti import constants
from ganeti import daemon
from ganeti import http as ghttp
from ganeti import pathutils
from ganeti import serializer
from ganeti.http import server as http_server
from ganeti.rpc import defs

# Job files and config.data travel in request bodies.
MAX_REQUEST_BODY = 256 * 1024 * 1024

_JSON_HEADERS = {"Content-Type": "application/json"}


def _text(status, message):
    return status, {}, (message + "\n").encode("utf-8")


def _json(payload):
    return (ghttp.HTTP_OK, _JSON_HEADERS,
            serializer.dump_json(payload).encode("utf-8"))


def make_handler(functions, procedures=None, rpc_fail=None):
    """The HTTP handler function of noded.

    ``functions`` maps procedure names to backend functions;
    ``procedures`` (default: the whole table) gives their arities;
    ``rpc_fail`` is the exception class meaning an expected failure
    (default ``ganeti.backend.RPCFail``). Tests pass their own tables.
    """
    if procedures is None:
        procedures = defs.PROCEDURES
    if rpc_fail is None:
        from ganeti.backend import RPCFail as rpc_fail

    def handle(method, path, headers, body, client_cert_verified):
        del headers, client_cert_verified  # TLS already required a cert
        if method != "POST":
            return _text(ghttp.HTTP_BAD_REQUEST,
                         "Method %s is not allowed; use POST" % method)
        name = path.split("?", 1)[0].strip("/")
        proc = procedures.get(name)
        if proc is None:
            return _text(ghttp.HTTP_NOT_FOUND,
                         "Unknown procedure '%s'" % name)
        try:
            args = serializer.load_json(body) if body else None
        except (ValueError, UnicodeDecodeError) as err:
            return _text(ghttp.HTTP_BAD_REQUEST,
                         "Request body is not valid JSON: %s" % err)
        if not isinstance(args, list):
            return _text(ghttp.HTTP_BAD_REQUEST,
                         "Request body must be a JSON list of arguments")
        if len(args) != len(proc.args):
            return _text(ghttp.HTTP_BAD_REQUEST,
                         "Procedure '%s' takes %d arguments (%s), got %d" %
                         (name, len(proc.args), ", ".join(proc.args),
                          len(args)))
        func = functions.get(name)
        if func is None:
            return _json([False, "Procedure '%s' is not implemented on this"
                          " node" % name])
        logging.debug("Calling %s", name)
        try:
            payload = func(*args)
        except rpc_fail as err:
            logging.info("%s failed: %s", name, err)
            return _json([False, str(err)])
        except Exception as err:  # pylint: disable=broad-except
            logging.exception("Error in RPC call %s", name)
            return _json([False, "Error while executing backend function:"
                          " %s" % err])
        try:
            return _json([True, payload])
        except (TypeError, ValueError) as err:
            logging.exception("Can't serialise the result of %s", name)
            return _json([False, "Error while executing backend function:"
                          " can't serialise result: %s" % err])

    return handle


def check(options, args):
    """Refuse to start on a node that is not part of a cluster."""
    if args:
        sys.stderr.write("Usage: ganeti-noded [-f] [-d] [-b ADDRESS]"
                         " [-p PORT]\n")
        sys.exit(constants.EXIT_FAILURE)
    cert = pathutils.NODED_CERT_FILE
    if not os.path.isfile(cert):
        sys.stderr.write("Cluster certificate '%s' not found; this node is"
                         " not part of a cluster (yet)\n" % cert)
        sys.exit(constants.EXIT_NOTCLUSTER)
    if options.port is None or not 0 < options.port < 65536:
        sys.stderr.write("Invalid port %s\n" % options.port)
        sys.exit(constants.EXIT_FAILURE)


def prepare(options, _args):
    """Load the backend and bind the port (errors reach the starter)."""
    from ganeti import backend
    cert = pathutils.NODED_CERT_FILE
    handler = make_handler(backend.get_rpc_functions())
    try:
        server = http_server.HttpServer(
            options.bind_address, options.port, handler,
            ssl_params=ghttp.cluster_ssl_params(cert),
            max_body=MAX_REQUEST_BODY)
    except OSError as err:
        raise daemon.DaemonStartError(
            "Can't listen on %s:%s: %s" %
            (options.bind_address or "*", options.port,
             getattr(err, "strerror", None) or err))
    logging.info("Listening on %s:%s", options.bind_address or "*",
                 server.port)
    return server


def execute(_options, _args, server, stop_event):
    server.serve_in_thread()
    while not stop_event.wait(3600):
        pass
    server.shutdown()


def main():
    parser = daemon.new_option_parser("Ganeti node daemon")
    parser.add_option("--no-mlock", dest="mlock", action="store_false",
                      default=True,
                      help="Accepted for compatibility (memory is not"
                      " locked)")
    daemon.generic_main(constants.NODED, parser, check, prepare, execute,
                        default_port=constants.DEFAULT_NODED_PORT,
                        default_bind=constants.IP4_ADDRESS_ANY)
