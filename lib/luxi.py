"""LUXI: the master daemon's Unix-socket protocol.

Messages are UTF-8 JSON terminated by the byte 0x03. A request is
``{"method", "args", "version"}``; a reply ``{"success", "result",
"version"}`` where a failed ``result`` is an encoded exception.
"""

import os
import socket
import time

from ganeti import constants
from ganeti import errors
from ganeti import serializer

ETX = b"\x03"
KEY_METHOD = "method"
KEY_ARGS = "args"
KEY_SUCCESS = "success"
KEY_RESULT = "result"
KEY_VERSION = "version"

REQ_SUBMIT_JOB = "SubmitJob"
REQ_SUBMIT_JOB_TO_DRAINED_QUEUE = "SubmitJobToDrainedQueue"
REQ_SUBMIT_MANY_JOBS = "SubmitManyJobs"
REQ_WAIT_FOR_JOB_CHANGE = "WaitForJobChange"
REQ_CANCEL_JOB = "CancelJob"
REQ_ARCHIVE_JOB = "ArchiveJob"
REQ_AUTO_ARCHIVE_JOBS = "AutoArchiveJobs"
REQ_CHANGE_JOB_PRIORITY = "ChangeJobPriority"
REQ_QUERY = "Query"
REQ_QUERY_FIELDS = "QueryFields"
REQ_QUERY_JOBS = "QueryJobs"
REQ_QUERY_INSTANCES = "QueryInstances"
REQ_QUERY_NODES = "QueryNodes"
REQ_QUERY_GROUPS = "QueryGroups"
REQ_QUERY_NETWORKS = "QueryNetworks"
REQ_QUERY_EXPORTS = "QueryExports"
REQ_QUERY_CONFIG_VALUES = "QueryConfigValues"
REQ_QUERY_CLUSTER_INFO = "QueryClusterInfo"
REQ_QUERY_TAGS = "QueryTags"
REQ_SET_DRAIN_FLAG = "SetDrainFlag"
REQ_SET_WATCHER_PAUSE = "SetWatcherPause"
REQ_PICKUP_JOB = "PickupJob"

DEF_CTMO = 30
DEF_RWTO = 180
WFJC_TIMEOUT = constants.LUXI_WFJC_TIMEOUT
MAX_MESSAGE_SIZE = 64 * 1024 * 1024


class ProtocolError(errors.LuxiError):
    """The peer spoke something that is not LUXI."""


class ConnectionClosedError(ProtocolError):
    pass


class TimeoutError(ProtocolError):  # noqa: A001 (Ganeti's name)
    pass


class RequestError(ProtocolError):
    pass


class NoMasterError(ProtocolError):
    pass


class PermissionError(ProtocolError):  # noqa: A001 (Ganeti's name)
    pass


def format_request(method, args, version=constants.LUXI_VERSION):
    """Bytes of one request message (with terminator)."""
    request = {KEY_METHOD: method, KEY_ARGS: args}
    if version is not None:
        request[KEY_VERSION] = version
    return serializer.dump_json(request).encode("utf-8") + ETX


def parse_request(data):
    """(method, args, version) of a request; ProtocolError if malformed."""
    try:
        request = serializer.load_json(data)
    except (ValueError, UnicodeDecodeError) as err:
        raise ProtocolError("Invalid LUXI request (parsing error): %s" % err)
    if not isinstance(request, dict):
        raise ProtocolError("Invalid LUXI request (not a dict)")
    method = request.get(KEY_METHOD)
    args = request.get(KEY_ARGS)
    version = request.get(KEY_VERSION)
    if not isinstance(method, str) or not isinstance(args, list):
        raise ProtocolError("Invalid LUXI request (no method or arguments)")
    return method, args, version


def format_response(success, result, version=constants.LUXI_VERSION):
    response = {KEY_SUCCESS: success, KEY_RESULT: result}
    if version is not None:
        response[KEY_VERSION] = version
    return serializer.dump_json(response).encode("utf-8") + ETX


def parse_response(data, expected_version=constants.LUXI_VERSION):
    """Return the result of a response, raising the remote error if any."""
    try:
        response = serializer.load_json(data)
    except ValueError as err:
        raise ProtocolError("Error while deserializing response: %s" % err)
    if not (isinstance(response, dict) and KEY_SUCCESS in response and
            KEY_RESULT in response):
        raise ProtocolError("Invalid response from server: %r" % (response,))
    version = response.get(KEY_VERSION)
    if (expected_version is not None and version is not None and
            version != expected_version):
        raise errors.LuxiError("LUXI version mismatch, server %s, request %s"
                               % (version, expected_version))
    result = response[KEY_RESULT]
    if response[KEY_SUCCESS]:
        return result
    errors.maybe_raise(result)
    raise RequestError(result)


class Transport:
    """A connected LUXI socket that exchanges framed messages."""

    def __init__(self, address, timeouts=(DEF_CTMO, DEF_RWTO)):
        self.address = address
        self._buffer = b""
        self._msgs = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeouts[0])
        try:
            self.sock.connect(address)
        except socket.timeout:
            self.sock.close()
            raise TimeoutError("Connection timed out")
        except (FileNotFoundError, ConnectionRefusedError):
            self.sock.close()
            raise NoMasterError(address)
        except OSError as err:
            self.sock.close()
            if err.errno in (13, 1):
                raise PermissionError(address)
            raise NoMasterError(address)
        self.sock.settimeout(timeouts[1])

    def send(self, data):
        try:
            self.sock.sendall(data)
        except socket.timeout:
            raise TimeoutError("Sending timeout")
        except OSError as err:
            raise ConnectionClosedError("Sending failed: %s" % err)

    def recv(self):
        while not self._msgs:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise TimeoutError("Receive timeout")
            except OSError as err:
                raise ConnectionClosedError("Receiving failed: %s" % err)
            if not chunk:
                raise ConnectionClosedError("Connection closed while reading")
            parts = (self._buffer + chunk).split(ETX)
            self._buffer = parts.pop()
            self._msgs.extend(parts)
            if len(self._buffer) > MAX_MESSAGE_SIZE:
                raise ProtocolError("Message too large")
        return self._msgs.pop(0)

    def call(self, data):
        self.send(data)
        return self.recv()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def _default_address():
    override = os.environ.get("FORCE_LUXI_SOCKET")
    from ganeti import pathutils
    if override == "query":
        return pathutils.QUERY_SOCKET
    if override and override != "master":
        return override
    return pathutils.MASTER_SOCKET


class Client:
    """LUXI client; one connection, reopened transparently if it drops."""

    def __init__(self, address=None, timeouts=(DEF_CTMO, DEF_RWTO)):
        self.address = address or _default_address()
        self.timeouts = timeouts
        self.transport = None

    def close(self):
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def call_method(self, method, args):
        request = format_request(method, list(args))
        for attempt in (0, 1):
            if self.transport is None:
                self.transport = Transport(self.address, self.timeouts)
            try:
                data = self.transport.call(request)
                break
            except ConnectionClosedError:
                self.close()
                if attempt:
                    raise
        return parse_response(data)

    # Job handling
    def submit_job(self, ops):
        return self.call_method(REQ_SUBMIT_JOB, [[_op_dict(o) for o in ops]])

    def submit_job_to_drained_queue(self, ops):
        return self.call_method(REQ_SUBMIT_JOB_TO_DRAINED_QUEUE,
                                [[_op_dict(o) for o in ops]])

    def submit_many_jobs(self, jobs):
        return self.call_method(REQ_SUBMIT_MANY_JOBS,
                                [[[_op_dict(o) for o in ops] for ops in jobs]])

    def cancel_job(self, job_id, kill=False):
        return self.call_method(REQ_CANCEL_JOB, [job_id, kill])

    def archive_job(self, job_id):
        return self.call_method(REQ_ARCHIVE_JOB, [job_id])

    def auto_archive_jobs(self, age, timeout=None):
        if timeout is None:
            timeout = (DEF_RWTO - 1) // 2
        return self.call_method(REQ_AUTO_ARCHIVE_JOBS, [age, timeout])

    def change_job_priority(self, job_id, priority):
        return self.call_method(REQ_CHANGE_JOB_PRIORITY, [job_id, priority])

    def wait_for_job_change_once(self, job_id, fields, prev_job_info,
                                 prev_log_serial, timeout=WFJC_TIMEOUT):
        timeout = min(timeout, (self.timeouts[1] - 1) // 2)
        return self.call_method(REQ_WAIT_FOR_JOB_CHANGE,
                                [job_id, fields, prev_job_info,
                                 prev_log_serial, timeout])

    def wait_for_job_change(self, job_id, fields, prev_job_info,
                            prev_log_serial):
        while True:
            result = self.wait_for_job_change_once(job_id, fields,
                                                   prev_job_info,
                                                   prev_log_serial)
            if result != constants.JOB_NOTCHANGED:
                return result

    def query_jobs(self, job_ids, fields):
        return self.call_method(REQ_QUERY_JOBS, [job_ids, fields])

    # Queries
    def query(self, what, fields, qfilter):
        return self.call_method(REQ_QUERY, [what, fields, qfilter])

    def query_fields(self, what, fields):
        return self.call_method(REQ_QUERY_FIELDS, [what, fields])

    def query_cluster_info(self):
        return self.call_method(REQ_QUERY_CLUSTER_INFO, [])

    def query_config_values(self, fields):
        return self.call_method(REQ_QUERY_CONFIG_VALUES, [fields])

    def query_tags(self, kind, name):
        return self.call_method(REQ_QUERY_TAGS, [kind, name])

    def query_instances(self, names, fields, use_locking):
        return self.call_method(REQ_QUERY_INSTANCES,
                                [names, fields, use_locking])

    def query_nodes(self, names, fields, use_locking):
        return self.call_method(REQ_QUERY_NODES, [names, fields, use_locking])

    def query_groups(self, names, fields, use_locking):
        return self.call_method(REQ_QUERY_GROUPS, [names, fields, use_locking])

    def set_queue_drain_flag(self, drain_flag):
        return self.call_method(REQ_SET_DRAIN_FLAG, [drain_flag])

    def set_watcher_pause(self, until):
        return self.call_method(REQ_SET_WATCHER_PAUSE, [until])


def _op_dict(op):
    return op if isinstance(op, dict) else op.to_dict()


def wait_for_socket(address, timeout=10.0):
    """Block until a LUXI server accepts connections at ``address``."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            Transport(address, (1, 1)).close()
            return True
        except ProtocolError:
            time.sleep(0.05)
    return False
