"""Calling node RPC procedures on many nodes in parallel.

``RpcRunner.call(procedure, node_names, args)`` resolves the names to
addresses, POSTs ``/<procedure>`` with the JSON argument list to each
node's noded at once (one thread per node, shared keep-alive connections)
and returns ``{name: RpcResult}``. Failures never raise here: each result
carries ``fail_msg`` and the caller decides (``raise_on_failure``).
"""

import grp
import os
import pwd
import socket
import threading

from ganeti import constants
from ganeti import errors
from ganeti import http as ghttp
from ganeti import pathutils
from ganeti import serializer
from ganeti.http import client as http_client
from ganeti.rpc import defs

encode_content = defs.encode_content
decode_content = defs.decode_content

MSG_OFFLINE = "Node is marked offline"
MAX_PARALLEL = 64


class RpcResult:
    """The outcome of one procedure call on one node.

    ``fail_msg`` is None on success, else a message; ``payload`` is the
    procedure's return value (None on failure); ``offline`` says the node
    was skipped because it is marked offline.
    """

    def __init__(self, node, call, payload=None, fail_msg=None,
                 offline=False):
        self.node = node
        self.call = call
        self.payload = payload
        self.fail_msg = fail_msg
        self.offline = offline

    def __repr__(self):
        if self.fail_msg:
            return "<RpcResult %s@%s failed: %s>" % (self.call, self.node,
                                                     self.fail_msg)
        return "<RpcResult %s@%s ok>" % (self.call, self.node)

    def raise_on_failure(self, prefix, prereq=False, ecode=None):
        """Raise OpExecError (OpPrereqError if ``prereq``) on failure.

        The message is ``"<prefix>: <fail_msg>"``, as Ganeti's logical
        units print it.
        """
        if not self.fail_msg:
            return
        msg = "%s: %s" % (prefix, self.fail_msg) if prefix else self.fail_msg
        if prereq:
            raise errors.OpPrereqError(msg, ecode or errors.ECODE_ENVIRON)
        raise errors.OpExecError(msg)


# --- resolvers: names -> [(name, address, offline)] ---

def _lookup_ip(name):
    try:
        return socket.gethostbyname(name)
    except OSError:
        return None


def static_resolver(mapping):
    """Resolver over a fixed ``{name: address}`` map.

    A value may also be ``(address, offline)``; unknown names are used as
    the address themselves (handy for tests and bootstrap).
    """
    def resolve(names):
        result = []
        for name in names:
            value = mapping.get(name, name)
            if isinstance(value, (tuple, list)):
                result.append((name, value[0], bool(value[1])))
            else:
                result.append((name, value, False))
        return result
    return resolve


def _read_ssconf_lines(key):
    try:
        with open(pathutils.ssconf_file(key)) as fh:
            return [line.strip() for line in fh if line.strip()]
    except OSError:
        return []


def ssconf_resolver():
    """Resolver from this node's ssconf (primary IPs, offline nodes).

    Used where no configuration is at hand (watcher, a node talking to
    others); names missing from ssconf fall back to DNS. The files are
    read at each call so that the resolver stays current.
    """
    def resolve(names):
        ips = {}
        for line in _read_ssconf_lines(constants.SS_NODE_PRIMARY_IPS):
            parts = line.split()
            if len(parts) == 2:
                ips[parts[0]] = parts[1]
        offline = set(_read_ssconf_lines(constants.SS_OFFLINE_NODES))
        return [(name, ips.get(name) or _lookup_ip(name), name in offline)
                for name in names]
    return resolve


def config_resolver(cfg):
    """Resolver from the cluster configuration.

    ``cfg.get_all_nodes_info()`` returns ``{uuid: objects.Node}``; callers
    may pass node names or UUIDs, and results are keyed by what they
    passed.
    """
    def resolve(names):
        nodes = cfg.get_all_nodes_info()
        by_key = {}
        for uuid, node in nodes.items():
            by_key[uuid] = node
            by_key[node.name] = node
        result = []
        for name in names:
            node = by_key.get(name)
            if node is None:
                result.append((name, _lookup_ip(name), False))
            else:
                result.append((name, node.primary_ip, bool(node.offline)))
        return result
    return resolve


# --- argument helpers ---

def _to_wire(value):
    """Config objects become their dict form; containers are walked."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [_to_wire(v) for v in value]
    if isinstance(value, dict):
        return dict((k, _to_wire(v)) for k, v in value.items())
    return value


def upload_file_args(path):
    """The ``upload_file`` argument list that recreates local ``path``.

    ``[file_name, content, mode, uid, gid, atime, mtime]``; owner and group
    are sent by name, because numeric ids need not agree between nodes.
    """
    st = os.stat(path)
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        user = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        user = st.st_uid
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = st.st_gid
    return [path, encode_content(data), st.st_mode & 0o7777, user, group,
            st.st_atime, st.st_mtime]


# --- the runner ---

class RpcRunner:
    """Calls node procedures; one instance is shared by the whole daemon.

    ``resolver(names) -> [(name, address, offline)]``. The client
    certificate (and the CA the nodes must chain to) is ``cert_file``,
    ``server.pem`` by default; it is re-read when the file changes, so a
    renewed cluster certificate takes effect without a restart.
    """

    def __init__(self, resolver, port=constants.DEFAULT_NODED_PORT,
                 cert_file=None, max_parallel=MAX_PARALLEL):
        self._resolver = resolver
        self._port = port
        self._cert_file = cert_file
        self._slots = threading.BoundedSemaphore(max_parallel)
        self._pool_lock = threading.Lock()
        self._pool = None
        self._pool_key = None

    def _get_pool(self):
        cert = self._cert_file or pathutils.NODED_CERT_FILE
        try:
            st = os.stat(cert)
            key = (cert, st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            key = (cert, None)
        with self._pool_lock:
            if self._pool is None or key != self._pool_key:
                if self._pool is not None:
                    self._pool.close()
                self._pool = http_client.HttpClientPool(
                    ghttp.cluster_ssl_params(cert))
                self._pool_key = key
            return self._pool

    def close(self):
        """Drop the idle connections."""
        with self._pool_lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None

    def call(self, procedure, node_names, args, timeout=None):
        """Call ``procedure`` on every node; returns ``{name: RpcResult}``.

        Offline nodes are answered locally (``version`` is still sent to
        them, to find out whether they are back).
        """
        proc = defs.PROCEDURES.get(procedure)
        if proc is None:
            raise errors.ProgrammerError("Unknown RPC procedure '%s'" %
                                         procedure)
        args = list(args)
        if len(args) != len(proc.args):
            raise errors.ProgrammerError(
                "RPC procedure '%s' takes %d arguments (%s), %d given" %
                (procedure, len(proc.args), ", ".join(proc.args), len(args)))
        if timeout is None:
            timeout = defs.procedure_timeout(procedure, args)
        if isinstance(node_names, str):
            node_names = [node_names]
        body = serializer.dump_json(_to_wire(args)).encode("utf-8")
        results = {}
        todo = []
        for name, address, offline in self._resolver(list(node_names)):
            if offline and procedure != "version":
                results[name] = RpcResult(name, procedure, fail_msg=MSG_OFFLINE,
                                          offline=True)
            elif not address:
                results[name] = RpcResult(
                    name, procedure,
                    fail_msg="Node address could not be resolved")
            else:
                todo.append((name, address))
        if not todo:
            return results
        try:
            pool = self._get_pool()
        except (OSError, ValueError) as err:
            msg = "Can't use the cluster certificate: %s" % err
            for name, _ in todo:
                results[name] = RpcResult(name, procedure, fail_msg=msg)
            return results
        if len(todo) == 1:
            name, address = todo[0]
            results[name] = self._call_one(pool, procedure, name, address,
                                           body, timeout)
            return results
        threads = []
        for name, address in todo:
            thread = threading.Thread(
                target=self._call_into, name="rpc-%s-%s" % (procedure, name),
                args=(results, pool, procedure, name, address, body, timeout),
                daemon=True)
            self._slots.acquire()
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
        return results

    def _call_into(self, results, pool, procedure, name, address, body,
                   timeout):
        try:
            results[name] = self._call_one(pool, procedure, name, address,
                                           body, timeout)
        finally:
            self._slots.release()

    def _call_one(self, pool, procedure, name, address, body, timeout):
        try:
            status, data = pool.request(
                address, self._port, "POST", "/" + procedure, body,
                {"Content-Type": "application/json"}, timeout)
        except ghttp.HttpConnectionError as err:
            return RpcResult(name, procedure,
                             fail_msg="Node is unreachable: %s" % err)
        except Exception as err:  # pylint: disable=broad-except
            return RpcResult(name, procedure,
                             fail_msg="Error while calling node: %s" % err)
        return _parse_reply(name, procedure, status, data)

    def call_single(self, procedure, node_name, args, timeout=None):
        """``call`` on one node; returns its RpcResult."""
        return self.call(procedure, [node_name], args,
                         timeout=timeout)[node_name]

    def upload_file(self, node_names, path):
        """Copy local file ``path`` to the same path on the nodes."""
        return self.call("upload_file", node_names, upload_file_args(path))


def _parse_reply(name, procedure, status, data):
    text = data.decode("utf-8", "replace").strip()
    if status != ghttp.HTTP_OK:
        msg = "Error %d: %s" % (status, ghttp.status_phrase(status))
        if text:
            msg += " (%s)" % text[:400]
        return RpcResult(name, procedure, fail_msg=msg)
    try:
        reply = serializer.load_json(text)
    except ValueError as err:
        return RpcResult(name, procedure,
                         fail_msg="Invalid reply from node: %s" % err)
    if (not isinstance(reply, list) or len(reply) != 2 or
            not isinstance(reply[0], bool)):
        return RpcResult(name, procedure,
                         fail_msg="Invalid reply from node: %s" % text[:200])
    success, payload = reply
    if success:
        return RpcResult(name, procedure, payload=payload)
    return RpcResult(name, procedure, fail_msg=str(payload) or "(no message)")


def _make_caller(procedure, proc):
    def caller(self, node_names, *args, timeout=None):
        return self.call(procedure, node_names, args, timeout=timeout)
    caller.__name__ = "call_" + procedure
    caller.__doc__ = "%s.\n\nArguments: node_names, %s." % (
        proc.doc, ", ".join(proc.args) or "(none)")
    return caller


for _name, _proc in defs.PROCEDURES.items():
    setattr(RpcRunner, "call_" + _name, _make_caller(_name, _proc))
del _name, _proc
