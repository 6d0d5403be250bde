"""The RAPI version 2 resources, declared once.

``TABLE`` lists every path with its methods. A method is one of:

* ``Op``: builds one opcode (or a few, see ``build``) from the path
  items, the query arguments, fixed values and the JSON body, submits it
  as a job and answers the job id;
* ``List`` / ``Item``: a LUXI ``Query`` of a resource, shaped like
  Ganeti's lists (``{"id"|"name", "uri"}``, or bulk field dicts);
* ``Call``: a function of this module that talks LUXI itself (cluster
  info, tags, jobs, queries...);
* ``Const``: a fixed answer.

``handlers`` reads this table to route, authorise, convert arguments,
check that the cluster implements what a method needs (an opcode without
a logical unit answers 501, decided per request) and shape errors;
``openapi`` turns the same table into an OpenAPI 3 document.
"""

import re
import time

from ganeti import constants
from ganeti.rapi import auth

_T = constants

# --- vocabulary -------------------------------------------------------------

GET, PUT, POST, DELETE = "GET", "PUT", "POST", "DELETE"

# Query argument kinds
A_BOOL = "bool"      # integer 0/1 (Ganeti's convention, not true/false)
A_INT = "int"
A_STR = "str"
A_LIST = "list"      # repeated argument (?tag=a&tag=b)

# Path variables: name -> (regular expression, converter, description)
_NAME_RE = r"[\w._-]+"
PATH_VARS = {
    "instance": (_NAME_RE, str, "Instance name"),
    "node": (_NAME_RE, str, "Node name"),
    "group": (_NAME_RE, str, "Node group name"),
    "network": (_NAME_RE, str, "Network name"),
    "job_id": (r"\d+", int, "Job ID"),
    "disk": (r"\d+", int, "Disk index"),
    "resource": ("|".join(sorted(_T.QR_VIA_LUXI)), str,
                 "Query resource (%s)" % ", ".join(sorted(_T.QR_VIA_LUXI))),
    "filter_uuid": (r"[\w-]+", str, "Filter rule UUID"),
}

FEATURES = ["instance-reinstall-reqv1", "node-migrate-reqv1",
            "node-evac-res1", "instance-create-reqv1"]
RAPI_VERSION = 2

# Fields of the bulk lists and single-item answers (Ganeti 3.0's sets)
_COMMON_FIELDS = ["ctime", "mtime", "uuid", "serial_no", "tags"]
INSTANCE_FIELDS = [
    "name", "admin_state", "os", "pnode", "snodes", "disk_template",
    "nic.ips", "nic.macs", "nic.modes", "nic.uuids", "nic.names",
    "nic.links", "nic.networks", "nic.networks.names", "nic.bridges",
    "network_port", "disk.sizes", "disk.spindles", "disk_usage",
    "disk.uuids", "disk.names", "beparams", "hvparams", "oper_state",
    "oper_ram", "oper_vcpus", "status", "custom_hvparams",
    "custom_beparams", "custom_nicparams"] + _COMMON_FIELDS
NODE_FIELDS = [
    "name", "offline", "master_candidate", "drained", "dtotal", "dfree",
    "sptotal", "spfree", "mtotal", "mnode", "mfree", "pinst_cnt",
    "sinst_cnt", "ctotal", "cnos", "cnodes", "csockets", "pip", "sip",
    "role", "pinst_list", "sinst_list", "master_capable", "vm_capable",
    "ndparams", "group.uuid"] + _COMMON_FIELDS
GROUP_FIELDS = [
    "alloc_policy", "name", "node_cnt", "node_list", "ipolicy",
    "custom_ipolicy", "diskparams", "custom_diskparams", "ndparams",
    "custom_ndparams"] + _COMMON_FIELDS
NETWORK_FIELDS = [
    "name", "network", "gateway", "network6", "gateway6", "mac_prefix",
    "free_count", "reserved_count", "map", "group_list", "inst_list",
    "external_reservations"] + _COMMON_FIELDS
FILTER_FIELDS = ["uuid", "watermark", "priority", "predicates", "action",
                 "reason_trail"]
JOB_FIELDS_BULK = ["id", "ops", "status", "summary", "opstatus",
                   "received_ts", "start_ts", "end_ts"]
JOB_FIELDS = JOB_FIELDS_BULK + ["oplog", "opresult"]

# Node role letters (query field ``role``) and the words of /role
NODE_ROLES = {"M": "master", "C": "master-candidate", "R": "regular",
              "D": "drained", "O": "offline"}

WFJC_TIMEOUT = 10  # seconds /2/jobs/[id]/wait blocks at most


class RapiError(Exception):
    """An HTTP error answer: status, explanation, extra headers."""

    def __init__(self, status, explain=None, headers=None):
        super().__init__(explain)
        self.status = status
        self.explain = explain
        self.headers = headers or {}


def bad_request(explain):
    return RapiError(400, explain)


# --- declarations -----------------------------------------------------------

class Arg:
    """A query argument: its kind, the opcode parameter it fills (if any)
    and the value used when it is absent (None: leave the parameter out)."""

    __slots__ = ("name", "kind", "param", "default", "doc")

    def __init__(self, name, kind=A_BOOL, param=None, default=None, doc=""):
        self.name = name
        self.kind = kind
        self.param = param
        self.default = default
        self.doc = doc


ARG_REASON = Arg("reason", A_STR, doc="Reason for the operation (added to"
                 " the opcodes' reason trail)")
ARG_DRY_RUN = Arg("dry-run", A_BOOL, "dry_run",
                  doc="Only check the operation's prerequisites")
ARG_BULK = Arg("bulk", A_BOOL, doc="Return all fields of every item")
ARG_LOCK = Arg("lock", A_BOOL, doc="Accepted for compatibility (queries"
               " never need locks here)")


def _force(default=False):
    return Arg("force", A_BOOL, "force", default,
               doc="Force the operation")


class Spec:
    """One method of one resource (built by the helpers below)."""

    def __init__(self, kind, doc, access=None, args=(), **kwargs):
        self.kind = kind
        self.doc = doc
        self.access = access
        self.args = list(args)
        self.op_id = kwargs.pop("op_id", None)
        self.items = kwargs.pop("items", {})
        self.body = kwargs.pop("body", False)
        self.rename = kwargs.pop("rename", {})
        self.fixed = kwargs.pop("fixed", {})
        self.forbidden = kwargs.pop("forbidden", ())
        self.build = kwargs.pop("build", None)
        self.extra_ops = kwargs.pop("extra_ops", ())
        self.fn = kwargs.pop("fn", None)
        self.value = kwargs.pop("value", None)
        self.uri = kwargs.pop("uri", None)
        self.var = kwargs.pop("var", None)
        self.resource = kwargs.pop("resource", None)
        self.key = kwargs.pop("key", None)
        self.fields = kwargs.pop("fields", None)
        self.shape = kwargs.pop("shape", None)
        self.requires_ops = tuple(kwargs.pop("requires_ops", ()))
        self.requires_query = kwargs.pop("requires_query", None)
        self.result_doc = kwargs.pop("result_doc", "")
        self.body_doc = kwargs.pop("body_doc", None)
        if kwargs:
            raise TypeError("Unknown Spec arguments %s" % sorted(kwargs))
        # filled in by Resource
        self.method = None
        self.path = None
        self.reason_name = None

    def needed_ops(self):
        """Every opcode this method submits (for the per-request 501 test)."""
        ops = list(self.requires_ops)
        if self.op_id:
            ops.append(self.op_id)
        ops.extend(self.extra_ops)
        return ops

    def all_args(self):
        """Declared arguments plus the generic ones every method takes."""
        args = list(self.args)
        names = set(arg.name for arg in args)
        extra = [ARG_REASON]
        if self.kind == "op":
            extra.append(ARG_DRY_RUN)
        if self.kind in ("list", "item"):
            extra.append(ARG_LOCK)
        if self.kind == "list":
            extra.append(ARG_BULK)
        return args + [arg for arg in extra if arg.name not in names]


def Op(op_id, doc, items=None, args=(), body=True, **kwargs):
    """Submit ``op_id`` built from path ``items`` (path var -> parameter),
    query ``args``, ``fixed`` values and the body (a dict of parameters
    when ``body`` is true; ``rename`` maps accepted aliases). ``build``
    (req, params) may adjust the parameters or return a list of
    ``(op_id, params)`` for a multi-opcode job."""
    kwargs.setdefault("result_doc", "Job ID")
    return Spec("op", doc, args=args, op_id=op_id, items=items or {},
                body=body, **kwargs)


def Call(fn, doc, args=(), access=None, **kwargs):
    """Answer with ``fn(req)``."""
    return Spec("call", doc, access=access, args=args, fn=fn, **kwargs)


def Const(value, doc):
    return Spec("const", doc, value=value, result_doc=repr(value))


def List(resource, doc, fields, key="id", uri=None, shape=None):
    """A resource's items: ``[{key, uri}]`` sorted, or bulk field dicts."""
    return Spec("list", doc, resource=resource, key=key, fields=fields,
                uri=uri, shape=shape,
                result_doc="List of {%s, uri}; with bulk=1 a list of dicts"
                " with the fields %s" % (key, ", ".join(fields)))


def Item(resource, doc, fields, key="name", var=None, shape=None):
    """One item's fields (404 if it does not exist)."""
    return Spec("item", doc, resource=resource, key=key, fields=fields,
                var=var, shape=shape,
                result_doc="Dict with the fields %s" % ", ".join(fields))


class Resource:
    """A path pattern (``[var]`` for variables) and its methods."""

    def __init__(self, path, doc, reason_name=None, **methods):
        self.path = path
        self.doc = doc
        self.methods = {}
        self.vars = re.findall(r"\[(\w+)\]", path)
        regex = "^"
        for part in re.split(r"(\[\w+\])", path):
            if part.startswith("[") and part.endswith("]"):
                name = part[1:-1]
                regex += "(?P<%s>%s)" % (name, PATH_VARS[name][0])
            else:
                regex += re.escape(part)
        self.regex = re.compile(regex + "$")
        if reason_name is None:
            reason_name = _reason_name(path)
        for method, spec in methods.items():
            spec.method = method
            spec.path = path
            spec.reason_name = reason_name
            if spec.access is None:
                spec.access = () if method == GET else (auth.ACCESS_WRITE,)
            self.methods[method] = spec

    def match(self, path):
        """The path variables (converted) if ``path`` is this resource."""
        found = self.regex.match(path)
        if found is None:
            return None
        return dict((name, PATH_VARS[name][1](found.group(name)))
                    for name in self.vars)


def _reason_name(path):
    """``instances_name_reboot`` for /2/instances/[instance]/reboot: the
    resource part of the ``gnt:library:rlib2:<name>`` reason source."""
    parts = []
    for part in path.strip("/").split("/")[1:]:
        if part.startswith("["):
            if part != "[disk]":
                parts.append("name" if part != "[job_id]" else "jobid")
            continue
        parts.append(part.replace("-", "_").replace(".", "_"))
    return "_".join(parts) or "root"


REASON_SRC_RLIB2 = "gnt:library:rlib2"
REASON_SRC_USER = "gnt:user"


def reason_entry(name):
    """The reason-trail entry every RAPI opcode gets."""
    return ["%s:%s" % (REASON_SRC_RLIB2, name), "", time.time_ns()]


# --- shaping helpers --------------------------------------------------------

def map_fields(fields, row):
    """``{field: value}`` of one query row (no data -> None)."""
    return dict((name, cell[1] if cell[0] == _T.RS_NORMAL else None)
                for name, cell in zip(fields, row))


def add_memory(item):
    """Bulk instance data carries ``beparams.memory`` (= maxmem) for
    clients older than the min/max memory split."""
    beparams = item.get("beparams")
    if isinstance(beparams, dict) and "maxmem" in beparams:
        beparams["memory"] = beparams["maxmem"]
    return item


def node_item_compat(item):
    """A single node also answers ``secondary_ip`` (as Ganeti 3.0 does)."""
    item["secondary_ip"] = item.get("sip")
    return item


def name_filter(field, value):
    return ["|", ["==", field, value]]


# --- Call functions ----------------------------------------------------------

# /2/info keys in Ganeti's order (clients do not care; people reading do)
INFO_KEYS = [
    "software_version", "protocol_version", "config_version",
    "os_api_version", "export_version", "vcs_version", "architecture",
    "name", "master", "default_hypervisor", "enabled_hypervisors",
    "hvparams", "os_hvp", "beparams", "osparams", "ipolicy", "nicparams",
    "ndparams", "diskparams", "candidate_pool_size", "max_running_jobs",
    "max_tracked_jobs", "mac_prefix", "master_netdev", "master_netmask",
    "use_external_mip_script", "volume_group_name", "drbd_usermode_helper",
    "file_storage_dir", "shared_file_storage_dir", "gluster_storage_dir",
    "maintain_node_health", "ctime", "mtime", "uuid", "tags", "uid_pool",
    "default_iallocator", "default_iallocator_params", "reserved_lvs",
    "primary_ip_version", "prealloc_wipe_disks", "hidden_os",
    "blacklisted_os", "enabled_disk_templates", "install_image",
    "instance_communication_network", "zeroing_image", "compression_tools",
    "enabled_user_shutdown", "enabled_data_collectors",
    "data_collector_interval", "modify_ssh_setup", "ssh_key_type",
    "ssh_key_bits", "vg_name", "drbd_helper"]


def ordered(data, keys):
    """``data`` with ``keys`` first, in that order, then any others."""
    result = dict((key, data[key]) for key in keys if key in data)
    result.update((key, value) for key, value in data.items()
                  if key not in result)
    return result


def _cluster_info(req):
    return ordered(req.client().query_cluster_info(), INFO_KEYS)


def _get_tags(kind):
    def fn(req):
        name = None
        if kind != _T.TAG_CLUSTER:
            name = next(iter(req.items.values()))
        return list(req.client().query_tags(kind, name))
    return fn


def _tag_build(req, params):
    tags = req.args.get("tag")
    if not tags:
        raise bad_request("Please specify tag(s) to %s using the 'tag'"
                          " parameter" %
                          ("add" if req.method == PUT else "delete"))
    params["tags"] = tags


def _tags(kind, var=None, what="cluster"):
    items = {var: "name"} if var else {}
    tag_arg = [Arg("tag", A_LIST, doc="Tag (repeat for several)")]
    return {
        GET: Call(_get_tags(kind), "Tags of the %s" % what,
                  result_doc="List of tags"),
        PUT: Op("OP_TAGS_SET", "Add tags to the %s" % what, items=items,
                args=tag_arg, body=False, fixed={"kind": kind},
                build=_tag_build),
        DELETE: Op("OP_TAGS_DEL", "Remove tags from the %s" % what,
                   items=items, args=tag_arg, body=False,
                   fixed={"kind": kind}, build=_tag_build),
    }


def _os_names(req):
    """Submit OP_OS_DIAGNOSE, wait for it and list ``os+variant`` names."""
    op = {"OP_ID": "OP_OS_DIAGNOSE", "output_fields": ["name", "variants"],
          "names": []}
    result = req.run_job([op])
    data = result[0] if isinstance(result, list) and result else None
    if not isinstance(data, list):
        raise RapiError(502, "Can't get OS list")
    names = []
    for row in data:
        name, variants = row[0], row[1] if len(row) > 1 else None
        if variants:
            names.extend("%s+%s" % (name, variant) for variant in variants)
        else:
            names.append(name)
    return names


def _instance_create_build(req, params):
    version = params.pop("__version__", 0)
    if version == 0:
        raise bad_request("Instance creation request version 0 is no"
                          " longer supported")
    if version != 1:
        raise bad_request("Unsupported request data version %s" % (version,))


_CREATE_RENAME = {"name": "instance_name", "os": "os_type"}


def _multi_alloc_build(req, params):
    instances = params.get("instances")
    if instances is None:
        raise bad_request("Request is missing required 'instances' field"
                          " in body")
    if not isinstance(instances, list):
        raise bad_request("The 'instances' field must be a list")
    ops = []
    for data in instances:
        if not isinstance(data, dict):
            raise bad_request("Each instance must be a dictionary")
        data = req.renamed(dict(data), _CREATE_RENAME)
        data.pop("__version__", None)
        ops.append(req.make_opcode("OP_INSTANCE_CREATE", data))
    params["instances"] = ops


def _instance_info_build(req, params):
    params["instances"] = [req.items["instance"]]


def _reinstall_build(req, params):
    """shutdown + reinstall (+ startup): one job of two or three opcodes."""
    query_used = [a for a in ("os", "nostartup") if a in req.args]
    if req.body:
        if query_used:
            raise bad_request("Can't combine query and body parameters")
        data = req.body_dict()
    elif query_used:
        data = {"os": req.args.get("os"),
                "start": not req.args.get("nostartup", False)}
    else:
        data = {}
    unknown = set(data) - set(["os", "start", "osparams"])
    if unknown:
        raise bad_request("Unknown parameter(s) %s" %
                          ", ".join(sorted(unknown)))
    start = data.get("start", True)
    if not isinstance(start, bool):
        raise bad_request("Parameter 'start' must be a boolean")
    name = req.items["instance"]
    common = dict((k, v) for k, v in params.items()
                  if k in ("dry_run", "reason"))
    ops = [("OP_INSTANCE_SHUTDOWN", dict(common, instance_name=name)),
           ("OP_INSTANCE_REINSTALL", dict(common, instance_name=name,
                                          os_type=data.get("os"),
                                          osparams=data.get("osparams")))]
    if start:
        ops.append(("OP_INSTANCE_STARTUP", dict(common, instance_name=name,
                                                force=False)))
    return ops


def _replace_disks_build(req, params):
    if req.body:
        data = req.body_dict()
    else:
        data = dict((key, req.args[key]) for key in
                    ("mode", "remote_node", "iallocator", "disks",
                     "early_release") if key in req.args)
    raw = data.pop("disks", None)
    if raw:
        if isinstance(raw, list) and all(isinstance(i, int) and
                                         not isinstance(i, bool)
                                         for i in raw):
            data["disks"] = raw
        elif isinstance(raw, str):
            try:
                data["disks"] = [int(part) for part in raw.split(",")]
            except ValueError as err:
                raise bad_request("Invalid disk index passed: %s" % err)
        else:
            raise bad_request("Invalid disk index passed: %r" % (raw,))
    for key in data:
        if key in params:
            raise bad_request("Can't overwrite static parameters %s" % key)
    params.update(data)


def _node_role_get(req):
    result = req.query_item(_T.QR_NODE, ["role"], "name", req.items["node"])
    return NODE_ROLES.get(result["role"], result["role"])


def _node_role_build(req, params):
    role = req.body
    if not isinstance(role, str):
        raise bad_request("Invalid body contents, not a string")
    flags = {
        "regular": (False, False, False),
        "master-candidate": (True, None, None),
        "drained": (None, None, True),
        "offline": (None, True, None),
    }.get(role)
    if flags is None:
        raise bad_request("Can't set '%s' role" % role)
    params["master_candidate"], params["offline"], params["drained"] = flags


def _node_migrate_build(req, params):
    """Body parameters (node-migrate-reqv1), or the 2.3 query form."""
    if "live" in req.args or "mode" in req.args:
        if "live" in req.args and "mode" in req.args:
            raise bad_request("Only one of 'live' and 'mode' should be"
                              " passed")
        if req.body:
            raise bad_request("Can't combine query and body parameters")
        if "live" in req.args:
            params["mode"] = ("live" if req.args["live"] else "non-live")
        else:
            params["mode"] = req.args["mode"]
        return
    req.merge_body(params)


def _storage_query_build(req, params):
    fields = req.args.get("output_fields")
    if not fields:
        raise bad_request("Missing the required 'output_fields' parameter")
    params["nodes"] = [req.items["node"]]
    params["output_fields"] = fields.split(",")


def _need_storage_name(req, params):
    if not req.args.get("name"):
        raise bad_request("Missing the required 'name' parameter")
    if "allocatable" in req.args:
        params["changes"] = {_T.SF_ALLOCATABLE: req.args["allocatable"]}
    elif req.spec.op_id == "OP_NODE_MODIFY_STORAGE":
        params["changes"] = {}


def _console(req):
    result = req.query_item(_T.QR_INSTANCE, ["console", "oper_state"],
                            "name", req.items["instance"])
    if not result["oper_state"]:
        raise RapiError(503, "Instance console unavailable")
    return result["console"]


def _jobs_list(req):
    if req.args.get("bulk"):
        rows = req.client().query_jobs(None, JOB_FIELDS_BULK)
        return [dict(zip(JOB_FIELDS_BULK, row)) for row in rows if row]
    rows = req.client().query_jobs(None, ["id"])
    ids = sorted(int(row[0]) for row in rows if row)
    return [{"id": job_id, "uri": "/2/jobs/%d" % job_id} for job_id in ids]


def _job_get(req):
    rows = req.client().query_jobs([req.items["job_id"]], JOB_FIELDS)
    if not rows or rows[0] is None:
        raise RapiError(404)
    return dict(zip(JOB_FIELDS, rows[0]))


def _job_cancel(req):
    return req.client().cancel_job(req.items["job_id"])


def _job_wait(req):
    body = req.body if req.body is not None else {}
    if not isinstance(body, dict):
        raise bad_request("Body contents must be a dictionary")
    if "fields" not in body:
        raise bad_request("Required parameter 'fields' is missing")
    fields = body["fields"]
    prev_info = body.get("previous_job_info")
    prev_serial = body.get("previous_log_serial")
    if not isinstance(fields, list):
        raise bad_request("The 'fields' parameter should be a list")
    if not (prev_info is None or isinstance(prev_info, list)):
        raise bad_request("The 'previous_job_info' parameter should be a"
                          " list")
    if not (prev_serial is None or (isinstance(prev_serial, int) and
                                    not isinstance(prev_serial, bool))):
        raise bad_request("The 'previous_log_serial' parameter should be a"
                          " number")
    result = req.client().wait_for_job_change_once(
        req.items["job_id"], fields, prev_info, prev_serial,
        timeout=WFJC_TIMEOUT)
    if not result:
        raise RapiError(404)
    if result == _T.JOB_NOTCHANGED:
        return None
    job_info, log_entries = result
    return {"job_info": job_info, "log_entries": log_entries}


def _split_fields(text):
    return [field for field in text.split(",") if field]


def _query_get(req):
    fields = req.args.get("fields")
    if fields is None:
        raise bad_request("Missing 'fields' query argument")
    return _query_result(req.client().query(req.items["resource"],
                                            _split_fields(fields), None))


def _query_result(result):
    return ordered(result, ["fields", "data"])


def _query_put(req):
    body = req.body if req.body is not None else {}
    if not isinstance(body, dict):
        raise bad_request("Body contents must be a dictionary")
    if "fields" in body:
        fields = body["fields"]
        if not (isinstance(fields, list) and
                all(isinstance(f, str) for f in fields)):
            raise bad_request("The 'fields' parameter must be a list of"
                              " strings")
    elif req.args.get("fields") is not None:
        fields = _split_fields(req.args["fields"])
    else:
        raise bad_request("Missing 'fields' query argument")
    qfilter = body.get("qfilter")
    if qfilter is None:
        qfilter = body.get("filter")
    if qfilter is not None and not isinstance(qfilter, list):
        raise bad_request("The query filter must be a list")
    return _query_result(req.client().query(req.items["resource"], fields,
                                            qfilter))


def _query_fields(req):
    fields = req.args.get("fields")
    if fields is not None:
        fields = _split_fields(fields)
    return req.client().query_fields(req.items["resource"], fields)


def _filter_replace(req):
    body = req.body if req.body is not None else {}
    if not isinstance(body, dict):
        raise bad_request("Body contents must be a dictionary")
    unknown = set(body) - set(["priority", "predicates", "action",
                               "reason"])
    if unknown:
        raise bad_request("Unknown parameter(s) %s" %
                          ", ".join(sorted(unknown)))
    priority = body.get("priority", 0)
    predicates = body.get("predicates", [])
    action = body.get("action", "CONTINUE")
    reason = body.get("reason", [])
    if not (isinstance(priority, int) and priority >= 0):
        raise bad_request("Parameter 'priority' must be an integer >= 0")
    if not isinstance(predicates, list) or not isinstance(reason, list):
        raise bad_request("Parameters 'predicates' and 'reason' must be"
                          " lists")
    reason = list(reason) + [reason_entry(req.spec.reason_name)]
    uuid = req.items.get("filter_uuid")
    return req.client().call_method("ReplaceFilter",
                                    [uuid, priority, predicates, action,
                                     reason])


def _filter_delete(req):
    return req.client().call_method("DeleteFilter",
                                    [req.items["filter_uuid"]])


def _openapi(req):
    from ganeti.rapi import openapi
    return openapi.document(TABLE)


# --- the table ---------------------------------------------------------------

_I = {"instance": "instance_name"}
_N = {"node": "node_name"}
_G = {"group": "group_name"}
_NET = {"network": "network_name"}
_STORAGE_ARGS = [Arg("storage_type", A_STR, "storage_type",
                     doc="Storage type (e.g. lvm-vg, file)"),
                 Arg("name", A_STR, "name", doc="Storage unit name")]

TABLE = [
    Resource("/", "Legacy root; answers null",
             GET=Const(None, "Nothing (null)")),
    Resource("/2", "Version 2 root; answers null",
             GET=Const(None, "Nothing (null)")),
    Resource("/version", "RAPI version",
             GET=Const(RAPI_VERSION, "The RAPI version (2)")),
    Resource("/2/info", "Cluster information",
             GET=Call(_cluster_info, "Cluster configuration and versions",
                      result_doc="Dict (QueryClusterInfo)")),
    Resource("/2/features", "Optional features of this server",
             GET=Const(FEATURES, "Feature names")),
    Resource("/2/openapi.json", "This API's OpenAPI 3 description",
             GET=Call(_openapi, "OpenAPI 3 document generated from the"
                      " resource table", result_doc="OpenAPI document")),
    Resource("/2/os", "Operating system definitions",
             GET=Call(_os_names, "Names of the valid OS definitions"
                      " (os+variant), from an OS diagnose job",
                      requires_ops=["OP_OS_DIAGNOSE"],
                      result_doc="List of names")),
    Resource("/2/redistribute-config", "Configuration redistribution",
             PUT=Op("OP_CLUSTER_REDIST_CONF", "Push the configuration and"
                    " cluster files to all nodes", body=False)),
    Resource("/2/modify", "Cluster parameters",
             PUT=Op("OP_CLUSTER_SET_PARAMS", "Change cluster parameters",
                    forbidden=("compression_tools",))),
    Resource("/2/tags", "Cluster tags", **_tags(_T.TAG_CLUSTER)),

    # instances
    Resource("/2/instances", "Instances",
             GET=List(_T.QR_INSTANCE, "List instances", INSTANCE_FIELDS,
                      uri="/2/instances/%s", shape=add_memory),
             POST=Op("OP_INSTANCE_CREATE", "Create an instance (body"
                     " version 1: \"__version__\": 1)",
                     rename=_CREATE_RENAME, build=_instance_create_build)),
    Resource("/2/instances-multi-alloc", "Allocation of several instances",
             POST=Op("OP_INSTANCE_MULTI_ALLOC", "Create several instances"
                     " with an allocator", build=_multi_alloc_build,
                     extra_ops=["OP_INSTANCE_CREATE"])),
    Resource("/2/instances/[instance]", "One instance",
             GET=Item(_T.QR_INSTANCE, "The instance's fields",
                      INSTANCE_FIELDS, var="instance", shape=add_memory),
             DELETE=Op("OP_INSTANCE_REMOVE", "Remove the instance",
                       items=_I, fixed={"ignore_failures": False})),
    Resource("/2/instances/[instance]/info", "Detailed instance data",
             GET=Op("OP_INSTANCE_QUERY_DATA", "Submit a job collecting the"
                    " instance's detailed data", body=False,
                    access=(), args=[Arg("static", A_BOOL, "static", False,
                                         "Only configuration data")],
                    build=_instance_info_build)),
    Resource("/2/instances/[instance]/reboot", "Instance reboot",
             POST=Op("OP_INSTANCE_REBOOT", "Reboot the instance", items=_I,
                     args=[Arg("type", A_STR, "reboot_type", "hard",
                               "soft, hard or full"),
                           Arg("ignore_secondaries", A_BOOL,
                               "ignore_secondaries", False,
                               "Ignore errors of secondary nodes")])),
    Resource("/2/instances/[instance]/shutdown", "Instance shutdown",
             PUT=Op("OP_INSTANCE_SHUTDOWN", "Shut the instance down",
                    items=_I, args=[Arg("no_remember", A_BOOL,
                                        "no_remember", False,
                                        "Do not record the new state")])),
    Resource("/2/instances/[instance]/startup", "Instance startup",
             PUT=Op("OP_INSTANCE_STARTUP", "Start the instance", items=_I,
                    body=False,
                    args=[_force(), Arg("no_remember", A_BOOL,
                                        "no_remember", False,
                                        "Do not record the new state")])),
    Resource("/2/instances/[instance]/reinstall", "Instance reinstall",
             POST=Op("OP_INSTANCE_REINSTALL", "Reinstall the OS: shutdown,"
                     " reinstall and (unless start is false) startup in one"
                     " job; body {os, start, osparams}", body=False,
                     args=[Arg("os", A_STR, doc="OS (legacy query form)"),
                           Arg("nostartup", A_BOOL,
                               doc="Do not start (legacy query form)")],
                     build=_reinstall_build,
                     extra_ops=["OP_INSTANCE_SHUTDOWN",
                                "OP_INSTANCE_STARTUP"],
                     body_doc={"os": "string", "start": "boolean",
                               "osparams": "object"})),
    Resource("/2/instances/[instance]/replace-disks", "Disk replacement",
             POST=Op("OP_INSTANCE_REPLACE_DISKS", "Replace the instance's"
                     " disks (body, or the legacy query arguments)",
                     items=_I, body=False, build=_replace_disks_build,
                     args=[Arg("mode", A_STR), Arg("remote_node", A_STR),
                           Arg("iallocator", A_STR), Arg("disks", A_STR,
                                                         doc="e.g. 0,1"),
                           Arg("early_release", A_BOOL)])),
    Resource("/2/instances/[instance]/activate-disks", "Disk activation",
             PUT=Op("OP_INSTANCE_ACTIVATE_DISKS", "Activate the disks",
                    items=_I, body=False,
                    args=[Arg("ignore_size", A_BOOL, "ignore_size", False,
                              "Ignore recorded disk sizes")],
                    result_doc="Job ID; the job's result is a list of"
                    " [node, iv_name, device path]")),
    Resource("/2/instances/[instance]/deactivate-disks",
             "Disk deactivation",
             PUT=Op("OP_INSTANCE_DEACTIVATE_DISKS", "Deactivate the disks",
                    items=_I, body=False, args=[_force()])),
    Resource("/2/instances/[instance]/recreate-disks", "Disk re-creation",
             POST=Op("OP_INSTANCE_RECREATE_DISKS", "Recreate the disks",
                     items=_I)),
    Resource("/2/instances/[instance]/disk/[disk]/grow", "Disk growth",
             POST=Op("OP_INSTANCE_GROW_DISK", "Grow one disk (body amount"
                     " in MiB, wait_for_sync, absolute)",
                     items=dict(_I, disk="disk"))),
    Resource("/2/instances/[instance]/prepare-export", "Export preparation",
             PUT=Op("OP_BACKUP_PREPARE", "Prepare an export", items=_I,
                    body=False, args=[Arg("mode", A_STR, "mode",
                                          doc="local or remote")])),
    Resource("/2/instances/[instance]/export", "Instance export",
             PUT=Op("OP_BACKUP_EXPORT", "Export the instance", items=_I,
                    rename={"destination": "target_node"})),
    Resource("/2/instances/[instance]/migrate", "Instance migration",
             PUT=Op("OP_INSTANCE_MIGRATE", "Migrate the instance",
                    items=_I)),
    Resource("/2/instances/[instance]/failover", "Instance failover",
             PUT=Op("OP_INSTANCE_FAILOVER", "Fail the instance over",
                    items=_I)),
    Resource("/2/instances/[instance]/rename", "Instance rename",
             PUT=Op("OP_INSTANCE_RENAME", "Rename the instance (body"
                    " new_name, ip_check, name_check)", items=_I)),
    Resource("/2/instances/[instance]/modify", "Instance parameters",
             PUT=Op("OP_INSTANCE_SET_PARAMS", "Change the instance's"
                    " parameters", items=_I,
                    rename={"custom_beparams": "beparams",
                            "custom_hvparams": "hvparams"})),
    Resource("/2/instances/[instance]/console", "Instance console",
             GET=Call(_console, "How to reach the console (503 if the"
                      " instance is not running)", access=auth.ACCESS_ALL,
                      result_doc="Dict instance, kind, message, host, port,"
                      " user, command, display")),
    Resource("/2/instances/[instance]/tags", "Instance tags",
             **_tags(_T.TAG_INSTANCE, "instance", "instance")),

    # nodes
    Resource("/2/nodes", "Nodes",
             GET=List(_T.QR_NODE, "List nodes", NODE_FIELDS,
                      uri="/2/nodes/%s")),
    Resource("/2/nodes/[node]", "One node",
             GET=Item(_T.QR_NODE, "The node's fields", NODE_FIELDS,
                      var="node", shape=node_item_compat)),
    Resource("/2/nodes/[node]/role", "Node role",
             GET=Call(_node_role_get, "The role: master, master-candidate,"
                      " regular, drained or offline",
                      result_doc="Role name"),
             PUT=Op("OP_NODE_SET_PARAMS", "Set the role (body: the role"
                    " name as a JSON string)", items=_N, body=False,
                    args=[_force(), Arg("auto-promote", A_BOOL,
                                        "auto_promote", False,
                                        "Promote other nodes if needed")],
                    build=_node_role_build, body_doc="string")),
    Resource("/2/nodes/[node]/evacuate", "Node evacuation",
             POST=Op("OP_NODE_EVACUATE", "Evacuate the node (body mode,"
                     " iallocator, remote_node, early_release)", items=_N,
                     result_doc="Job ID; the job's result is"
                     " {\"jobs\": [...]}")),
    Resource("/2/nodes/[node]/migrate", "Node migration",
             POST=Op("OP_NODE_MIGRATE", "Migrate all primary instances away"
                     " (body; 2.3 query live/mode accepted)", items=_N,
                     body=False, build=_node_migrate_build,
                     args=[Arg("live", A_BOOL), Arg("mode", A_STR)])),
    Resource("/2/nodes/[node]/powercycle", "Node power cycle",
             POST=Op("OP_NODE_POWERCYCLE", "Power-cycle the node",
                     items=_N, body=False, args=[_force()])),
    Resource("/2/nodes/[node]/modify", "Node parameters",
             POST=Op("OP_NODE_SET_PARAMS", "Change the node's parameters",
                     items=_N)),
    Resource("/2/nodes/[node]/storage", "Node storage units",
             GET=Op("OP_NODE_QUERY_STORAGE", "Submit a storage query job",
                    body=False, access=(auth.ACCESS_WRITE,),
                    args=[Arg("storage_type", A_STR, "storage_type"),
                          Arg("output_fields", A_STR,
                              doc="Comma-separated fields (required)")],
                    build=_storage_query_build)),
    Resource("/2/nodes/[node]/storage/modify", "Storage unit changes",
             PUT=Op("OP_NODE_MODIFY_STORAGE", "Modify a storage unit",
                    items=_N, body=False, build=_need_storage_name,
                    args=_STORAGE_ARGS + [Arg("allocatable", A_BOOL)])),
    Resource("/2/nodes/[node]/storage/repair", "Storage unit repair",
             PUT=Op("OP_REPAIR_NODE_STORAGE", "Repair a storage unit",
                    items=_N, body=False, build=_need_storage_name,
                    args=_STORAGE_ARGS)),
    Resource("/2/nodes/[node]/tags", "Node tags",
             **_tags(_T.TAG_NODE, "node", "node")),

    # node groups
    Resource("/2/groups", "Node groups",
             GET=List(_T.QR_GROUP, "List node groups", GROUP_FIELDS,
                      key="name", uri="/2/groups/%s"),
             POST=Op("OP_GROUP_ADD", "Create a node group",
                     rename={"name": "group_name"})),
    Resource("/2/groups/[group]", "One node group",
             GET=Item(_T.QR_GROUP, "The group's fields", GROUP_FIELDS,
                      var="group"),
             DELETE=Op("OP_GROUP_REMOVE", "Remove the group", items=_G,
                       body=False)),
    Resource("/2/groups/[group]/modify", "Node group parameters",
             PUT=Op("OP_GROUP_SET_PARAMS", "Change the group's parameters",
                    items=_G, rename={"custom_ndparams": "ndparams",
                                      "custom_diskparams": "diskparams",
                                      "custom_ipolicy": "ipolicy"})),
    Resource("/2/groups/[group]/rename", "Node group rename",
             PUT=Op("OP_GROUP_RENAME", "Rename the group (body new_name)",
                    items=_G)),
    Resource("/2/groups/[group]/assign-nodes", "Node assignment",
             PUT=Op("OP_GROUP_ASSIGN_NODES", "Move nodes into the group"
                    " (body nodes)", items=_G, args=[_force()])),
    Resource("/2/groups/[group]/tags", "Node group tags",
             **_tags(_T.TAG_NODEGROUP, "group", "node group")),

    # networks
    Resource("/2/networks", "Networks",
             GET=List(_T.QR_NETWORK, "List networks", NETWORK_FIELDS,
                      key="name", uri="/2/networks/%s"),
             POST=Op("OP_NETWORK_ADD", "Create a network",
                     rename={"name": "network_name"})),
    Resource("/2/networks/[network]", "One network",
             GET=Item(_T.QR_NETWORK, "The network's fields", NETWORK_FIELDS,
                      var="network"),
             DELETE=Op("OP_NETWORK_REMOVE", "Remove the network",
                       items=_NET, body=False, args=[_force()])),
    Resource("/2/networks/[network]/modify", "Network parameters",
             PUT=Op("OP_NETWORK_SET_PARAMS", "Change the network",
                    items=_NET)),
    Resource("/2/networks/[network]/connect", "Network connection",
             PUT=Op("OP_NETWORK_CONNECT", "Connect the network to a group"
                    " (body group_name, network_mode, network_link,"
                    " network_vlan)", items=_NET)),
    Resource("/2/networks/[network]/disconnect", "Network disconnection",
             PUT=Op("OP_NETWORK_DISCONNECT", "Disconnect the network from a"
                    " group (body group_name)", items=_NET)),
    Resource("/2/networks/[network]/rename", "Network rename",
             PUT=Op("OP_NETWORK_RENAME", "Rename the network (body"
                    " new_name)", items=_NET)),
    Resource("/2/networks/[network]/tags", "Network tags",
             **_tags(_T.TAG_NETWORK, "network", "network")),

    # jobs
    Resource("/2/jobs", "Jobs",
             GET=Call(_jobs_list, "List jobs", args=[ARG_BULK],
                      result_doc="List of {id, uri}; with bulk=1 dicts of"
                      " %s" % ", ".join(JOB_FIELDS_BULK))),
    Resource("/2/jobs/[job_id]", "One job",
             GET=Call(_job_get, "The job's fields",
                      result_doc="Dict of %s" % ", ".join(JOB_FIELDS)),
             DELETE=Call(_job_cancel, "Cancel the job",
                         args=[ARG_DRY_RUN],
                         result_doc="[success, message]")),
    Resource("/2/jobs/[job_id]/wait", "Waiting for job changes",
             GET=Call(_job_wait, "Wait (up to %d s) until the job changes;"
                      " JSON body {fields, previous_job_info,"
                      " previous_log_serial}" % WFJC_TIMEOUT,
                      access=(auth.ACCESS_WRITE,),
                      result_doc="null if unchanged, else {job_info,"
                      " log_entries}",
                      body_doc={"fields": "array",
                                "previous_job_info": "array",
                                "previous_log_serial": "integer"})),

    # generic queries
    Resource("/2/query/[resource]", "Generic queries",
             GET=Call(_query_get, "Query fields of all items (no filter)",
                      access=auth.ACCESS_ALL,
                      args=[Arg("fields", A_STR,
                                doc="Comma-separated fields")],
                      requires_query="resource",
                      result_doc="{fields: [field definitions], data:"
                      " [[[status, value], ...], ...]}"),
             PUT=Call(_query_put, "Query with a filter (body {fields,"
                      " qfilter})", access=auth.ACCESS_ALL,
                      args=[Arg("fields", A_STR,
                                doc="Comma-separated fields")],
                      requires_query="resource",
                      result_doc="{fields, data}",
                      body_doc={"fields": "array", "qfilter": "array"})),
    Resource("/2/query/[resource]/fields", "Query field definitions",
             GET=Call(_query_fields, "Definitions of the named (or all)"
                      " fields", args=[Arg("fields", A_STR,
                                           doc="Comma-separated fields")],
                      requires_query="resource",
                      result_doc="{fields: [field definitions]}")),

    # job filter rules
    Resource("/2/filters", "Job filter rules",
             GET=List(_T.QR_FILTER, "List filter rules", FILTER_FIELDS,
                      key="uuid", uri="/2/filters/%s"),
             POST=Call(_filter_replace, "Add a filter rule (body priority,"
                       " predicates, action, reason)",
                       access=(auth.ACCESS_WRITE,),
                       requires_query=_T.QR_FILTER,
                       result_doc="UUID of the new rule",
                       body_doc={"priority": "integer",
                                 "predicates": "array", "action": "any",
                                 "reason": "array"})),
    Resource("/2/filters/[filter_uuid]", "One job filter rule",
             GET=Item(_T.QR_FILTER, "The rule's fields", FILTER_FIELDS,
                      key="uuid", var="filter_uuid"),
             PUT=Call(_filter_replace, "Replace the rule",
                      access=(auth.ACCESS_WRITE,),
                      requires_query=_T.QR_FILTER,
                      result_doc="UUID of the rule",
                      body_doc={"priority": "integer",
                                "predicates": "array", "action": "any",
                                "reason": "array"}),
             DELETE=Call(_filter_delete, "Delete the rule",
                         access=(auth.ACCESS_WRITE,),
                         requires_query=_T.QR_FILTER, result_doc="null")),
]
