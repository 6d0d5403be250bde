"""The generic RAPI request machinery over ``resources.TABLE``.

One request goes: route (404) -> method (405 with ``Allow``) -> access
(401 with the Basic realm, 403) -> query arguments (400 for unknown ones
and wrong types) -> body (415 unless JSON, 400 if unparsable) -> does the
cluster implement what the method needs (501; asked per request from
``cmdlib.LU_TABLE`` and the query engine's resources, so a resource
starts working as soon as its logical unit exists) -> the method's kind
(``op``, ``list``, ``item``, ``call``, ``const``) -> a JSON answer.
Every error is a JSON body ``{"code", "message", "explain"}``; bad input
is never a 500.
"""

import http
import json
import logging
import threading
import time
import urllib.parse

from ganeti import constants
from ganeti import errors
from ganeti import luxi
from ganeti.rapi import auth
from ganeti.rapi import resources as res
from ganeti.rapi.resources import RapiError, bad_request

JSON_TYPE = "application/json"
_JSON_HEADERS = {"Content-Type": JSON_TYPE}


# --- answers -------------------------------------------------------------

def encode(data):
    """Response bytes: JSON as Ganeti writes it (``", "``/``": "``, a
    final newline)."""
    return json.dumps(data).encode("utf-8") + b"\n"


def error_body(status, explain=None):
    """``{"code", "message", "explain"}`` with the standard texts."""
    try:
        phrase = http.HTTPStatus(status).phrase
        description = http.HTTPStatus(status).description
    except ValueError:
        phrase, description = "Error", ""
    return {"code": status, "message": phrase,
            "explain": explain if explain else description}


def error_response(status, explain=None, headers=None):
    out = dict(_JSON_HEADERS)
    out.update(headers or {})
    return status, out, encode(error_body(status, explain))


def transport_error(status, message):
    """``HttpServer``'s ``error_fn``: 411/413 etc. as JSON error bodies."""
    _, headers, body = error_response(status, message)
    return headers, body


def _message(err):
    if err.args and isinstance(err.args[0], str):
        return err.args[0]
    return str(err)


def map_exception(err):
    """The RapiError answering a Ganeti/LUXI exception."""
    if isinstance(err, RapiError):
        return err
    msg = _message(err)
    if isinstance(err, (luxi.NoMasterError, luxi.PermissionError)):
        return RapiError(502, "Can't connect to the master daemon: %s" % msg)
    if isinstance(err, luxi.TimeoutError):
        return RapiError(504, "Timeout while talking to the master daemon:"
                         " %s" % msg)
    if isinstance(err, luxi.ProtocolError):
        return RapiError(502, "Error while talking to the master daemon:"
                         " %s" % msg)
    if isinstance(err, errors.JobQueueFull):
        return RapiError(503, "Job queue is full, needs archiving")
    if isinstance(err, errors.JobQueueDrainError):
        return RapiError(503, "Job queue is drained, cannot submit")
    if isinstance(err, errors.OpCodeUnknown):
        return RapiError(501, msg)
    if isinstance(err, errors.LuxiError):
        if msg.startswith("Invalid operation"):
            return RapiError(501, "The master daemon does not implement"
                             " this yet: %s" % msg)
        return RapiError(502, "Error while talking to the master daemon:"
                         " %s" % msg)
    if isinstance(err, errors.OpPrereqError):
        if len(err.args) > 1 and err.args[1] == errors.ECODE_NOENT:
            return RapiError(404, msg)
        return RapiError(400, msg)
    if isinstance(err, (errors.ParameterError, errors.TypeEnforcementError,
                        errors.ParseError, errors.TagError,
                        errors.ResolverError)):
        return RapiError(400, msg)
    if isinstance(err, errors.GenericError):
        return RapiError(500, "%s: %s" % (type(err).__name__, msg))
    return None


# --- LUXI clients ----------------------------------------------------------

class ClientPool:
    """Reusable LUXI connections to masterd (at most ``size`` kept idle)."""

    def __init__(self, factory=None, size=20):
        self._factory = factory or luxi.Client
        self._size = size
        self._idle = []
        self._lock = threading.Lock()

    def get(self):
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return self._factory()

    def put(self, client, broken=False):
        if not broken:
            with self._lock:
                if len(self._idle) < self._size:
                    self._idle.append(client)
                    return
        client.close()

    def close(self):
        with self._lock:
            idle, self._idle = self._idle, []
        for client in idle:
            client.close()


# --- one request -----------------------------------------------------------

class Request:
    """What a method's code sees: path items, converted arguments, the
    parsed body and a LUXI client borrowed for this request."""

    def __init__(self, pool, spec, method, items, args, body, user=None):
        self.spec = spec
        self.method = method
        self.items = items
        self.args = args
        self.body = body
        self.user = user
        self._pool = pool
        self._client = None
        self._broken = False

    def client(self):
        if self._client is None:
            self._client = _GuardedClient(self, self._pool.get())
        return self._client

    def release(self):
        if self._client is not None:
            self._pool.put(self._client.inner, broken=self._broken)
            self._client = None

    # helpers for the resources' functions
    def body_dict(self):
        if self.body is None:
            return {}
        if not isinstance(self.body, dict):
            raise bad_request("Body contents must be a JSON object"
                              " (dictionary)")
        return dict(self.body)

    @staticmethod
    def renamed(data, rename):
        """``data`` with accepted aliases turned into parameter names."""
        for old, new in rename.items():
            if old in data:
                if new in data:
                    raise bad_request("Parameter '%s' was renamed to '%s',"
                                      " only one of them may be given" %
                                      (old, new))
                data[new] = data.pop(old)
        return data

    def merge_body(self, params):
        """Add the body's parameters; they may not override static ones."""
        data = self.renamed(self.body_dict(), self.spec.rename)
        overlap = set(data) & set(params)
        if overlap:
            raise bad_request("Can't overwrite static parameters %s" %
                              ", ".join(sorted(overlap)))
        params.update(data)

    @staticmethod
    def make_opcode(op_id, params):
        """The validated wire dict of ``op_id`` (400 on bad parameters).

        A null value stands for the parameter's default, as in Ganeti,
        where opcode validation fills defaults in for missing values.
        """
        from ganeti import opcodes
        cls = opcodes.OP_MAPPING[op_id]
        params = dict(params)
        for param in cls.PARAMS:
            if (params.get(param.name, 0) is None and
                    param.default is not None):
                del params[param.name]
        try:
            op = cls(**params)
            op.validate()
        except errors.OpPrereqError as err:
            raise bad_request("Invalid body parameters: %s" % _message(err))
        except TypeError as err:
            raise bad_request("Invalid body parameters: %s" % err)
        return op.to_dict()

    def query_item(self, resource, fields, key, name):
        """``{field: value}`` of one item; 404 when it does not exist."""
        try:
            result = self.client().query(resource, fields,
                                         res.name_filter(key, name))
        except errors.OpPrereqError as err:
            if len(err.args) > 1 and err.args[1] == errors.ECODE_NOENT:
                raise RapiError(404)
            raise
        if not result["data"]:
            raise RapiError(404)
        return res.map_fields(fields, result["data"][0])

    def run_job(self, ops):
        """Submit a job, wait for it and return its opcode results."""
        client = self.client()
        job_id = client.submit_job(self._with_reason(ops))
        prev = None
        while True:
            change = client.wait_for_job_change_once(job_id, ["status"],
                                                     prev, None)
            if change is None:
                raise RapiError(502, "Job %s disappeared" % job_id)
            if change != constants.JOB_NOTCHANGED:
                prev = change[0]
                if prev[0] in constants.JOBS_FINALIZED:
                    break
        status, opresult = client.query_jobs([job_id],
                                             ["status", "opresult"])[0]
        if status != constants.JOB_STATUS_SUCCESS:
            failure = None
            for item in opresult or []:
                failure = errors.decode_exception(item)
                if failure is not None:
                    break
            raise RapiError(502, "Job %s failed: %s" %
                            (job_id, _message(failure) if failure else
                             status))
        return opresult

    def _with_reason(self, ops):
        trail = []
        if self.args.get("reason"):
            trail.append([res.REASON_SRC_USER, self.args["reason"],
                          time.time_ns()])
        trail.append(res.reason_entry(self.spec.reason_name))
        for op in ops:
            op["reason"] = list(op.get("reason") or []) + \
                [list(entry) for entry in trail]
        return ops

    def submit(self, ops):
        return self.client().submit_job(self._with_reason(ops))


class _GuardedClient:
    """Forwards to a LUXI client; a transport error marks it broken so
    that it is not reused."""

    def __init__(self, request, inner):
        self._request = request
        self.inner = inner

    def __getattr__(self, name):
        target = getattr(self.inner, name)
        if not callable(target):
            return target

        def call(*args, **kwargs):
            try:
                return target(*args, **kwargs)
            except luxi.ProtocolError:
                self._request._broken = True  # pylint: disable=W0212
                raise
        return call


# --- the dispatcher ----------------------------------------------------------

def _convert_args(spec, query):
    """Declared query arguments, converted; 400 for anything else."""
    declared = dict((arg.name, arg) for arg in spec.all_args())
    unknown = sorted(set(query) - set(declared))
    if unknown:
        raise bad_request("Unknown query parameter(s) %s for %s %s" %
                          (", ".join(unknown), spec.method, spec.path))
    args = {}
    for name, values in query.items():
        arg = declared[name]
        if arg.kind == res.A_LIST:
            args[name] = list(values)
            continue
        if len(values) > 1:
            raise bad_request("Parameter '%s' is specified multiple times" %
                              name)
        value = values[0]
        if arg.kind in (res.A_BOOL, res.A_INT):
            try:
                value = int(value)
            except ValueError as err:
                raise bad_request("Parameter '%s' is not an integer: %s" %
                                  (name, err))
            if arg.kind == res.A_BOOL:
                value = bool(value)
        args[name] = value
    return args


def _parse_body(headers, body):
    if not body:
        return None
    ctype = (headers.get("Content-Type") or "").split(";")[0].strip()
    if ctype.lower() != JSON_TYPE:
        raise RapiError(415, "Request bodies must be of type %s (got %s)" %
                        (JSON_TYPE, ctype or "no Content-Type"))
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise bad_request("Request body is not valid JSON: %s" % err)
    return data


def missing_support(spec, items):
    """Why the cluster cannot serve ``spec`` yet (None if it can)."""
    from ganeti import cmdlib
    from ganeti import opcodes
    for op_id in spec.needed_ops():
        if op_id not in opcodes.OP_MAPPING:
            return ("Opcode %s is not known to this version" % op_id)
        if op_id not in cmdlib.LU_TABLE:
            return ("%s %s needs opcode %s, which this cluster does not"
                    " implement yet" % (spec.method, spec.path, op_id))
    resource = spec.resource
    if resource is None and spec.requires_query is not None:
        resource = items.get(spec.requires_query, spec.requires_query)
    if resource is not None:
        from ganeti import query
        if resource not in query.RESOURCES:
            return ("Query resource '%s' is not implemented by this cluster"
                    " yet" % resource)
    return None


class Dispatcher:
    """The RAPI ``handler_fn`` for ``http.server.HttpServer``."""

    def __init__(self, users, pool=None, require_auth=False,
                 table=None):
        self.users = users
        self.pool = pool or ClientPool()
        self.require_auth = require_auth
        self.table = table if table is not None else res.TABLE

    def find(self, path):
        for resource in self.table:
            items = resource.match(path)
            if items is not None:
                return resource, items
        return None, None

    def __call__(self, method, raw_path, headers, body, _verified=False):
        try:
            status, out_headers, out = self._handle(method, raw_path,
                                                    headers, body)
        except RapiError as err:
            status, out_headers, out = error_response(err.status,
                                                      err.explain,
                                                      err.headers)
        except Exception:  # pylint: disable=broad-except
            logging.exception("Error handling %s %s", method, raw_path)
            status, out_headers, out = error_response(
                500, "Internal error; see the RAPI daemon's log")
        if status >= 500:
            logging.error("%s %s -> %d", method, raw_path, status)
        elif status >= 400:
            logging.info("%s %s -> %d", method, raw_path, status)
        else:
            logging.debug("%s %s -> %d", method, raw_path, status)
        return status, out_headers, out

    def _handle(self, method, raw_path, headers, body):
        parts = urllib.parse.urlsplit(raw_path)
        path = urllib.parse.unquote(parts.path) or "/"
        if len(path) > 1 and path.endswith("/"):
            path = path[:-1]
        resource, items = self.find(path)
        if resource is None:
            raise RapiError(404)
        verb = "GET" if method == "HEAD" else method
        spec = resource.methods.get(verb)
        get = resource.methods.get("GET")
        head_ok = get is not None and get.kind != "op"
        if method == "HEAD" and not head_ok:
            spec = None  # a HEAD must not submit a job
        if spec is None:
            allowed = sorted(resource.methods)
            if head_ok:
                allowed.append("HEAD")
            raise RapiError(405, "Method %s is not supported for path %s" %
                            (method, path),
                            headers={"Allow": ", ".join(allowed)})
        outcome = auth.check_access(self.users, headers.get("Authorization"),
                                    spec.access, self.require_auth)
        if outcome == auth.ACCESS_UNAUTHORIZED:
            raise RapiError(401, headers={
                "WWW-Authenticate": auth.basic_auth_header()})
        if outcome == auth.ACCESS_FORBIDDEN:
            raise RapiError(403)
        try:
            query = urllib.parse.parse_qs(parts.query,
                                          keep_blank_values=True,
                                          strict_parsing=False,
                                          errors="strict")
        except (ValueError, UnicodeDecodeError) as err:
            raise bad_request("Invalid query string: %s" % err)
        args = _convert_args(spec, query)
        data = _parse_body(headers, body)
        reason = missing_support(spec, items)
        if reason is not None:
            raise RapiError(501, reason)
        req = Request(self.pool, spec, verb, items, args, data)
        try:
            result = self._run(req)
        except (errors.GenericError, RapiError) as err:
            mapped = map_exception(err)
            if mapped is None:
                raise
            raise mapped
        finally:
            req.release()
        return 200, dict(_JSON_HEADERS), encode(result)

    def _run(self, req):
        spec = req.spec
        kind = spec.kind
        if kind == "const":
            return spec.value
        if kind == "call":
            return spec.fn(req)
        if kind == "op":
            return self._run_op(req)
        if kind == "list":
            return self._run_list(req)
        if kind == "item":
            item = req.query_item(spec.resource, spec.fields, spec.key,
                                  req.items[spec.var])
            return spec.shape(item) if spec.shape else item
        raise errors.ProgrammerError("Unknown resource kind %r" % kind)

    @staticmethod
    def _run_op(req):
        spec = req.spec
        params = {}
        if spec.body:
            params = req.renamed(req.body_dict(), spec.rename)
            for key in spec.forbidden:
                if key in params:
                    raise bad_request("Parameter '%s' can't be changed"
                                      " through the remote API" % key)
        static = {}
        for var, param in spec.items.items():
            static[param] = req.items[var]
        for arg in spec.all_args():
            if not arg.param:
                continue
            if arg.name in req.args:
                static[arg.param] = req.args[arg.name]
            elif arg.default is not None:
                static[arg.param] = arg.default
        static.update(spec.fixed)
        overlap = set(params) & set(static)
        if overlap:
            raise bad_request("Can't overwrite static parameters %s" %
                              ", ".join(sorted(overlap)))
        params.update(static)
        ops = None
        if spec.build is not None:
            ops = spec.build(req, params)
        if ops is None:
            ops = [(spec.op_id, params)]
        op_dicts = [req.make_opcode(op_id, op_params)
                    for op_id, op_params in ops]
        return req.submit(op_dicts)

    @staticmethod
    def _run_list(req):
        spec = req.spec
        client = req.client()
        if req.args.get("bulk"):
            result = client.query(spec.resource, spec.fields, None)
            items = [res.map_fields(spec.fields, row)
                     for row in result["data"]]
            if spec.shape:
                items = [spec.shape(item) for item in items]
            return items
        field = "uuid" if spec.key == "uuid" else "name"
        result = client.query(spec.resource, [field], None)
        names = sorted(row[0][1] for row in result["data"]
                       if row[0][0] == constants.RS_NORMAL)
        return [{spec.key: name, "uri": spec.uri % name} for name in names]
