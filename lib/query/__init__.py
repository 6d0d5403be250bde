"""The query engine behind LUXI ``Query``/``QueryFields`` and RAPI.

Each resource (``node``, ``group``, ``instance``, ``job``, ``cluster``) is a
module ``fields_<resource>`` that declares its fields as a table and says
how to select its items and fetch live data. The engine here is generic:

1. resolve the requested fields (unknown ones become ``unknown`` fields
   whose cells are ``[RS_UNKNOWN, None]``);
2. compile the filter; a plain name filter selects the items directly
   (short names accepted, unknown names are an error);
3. drop the items the filter excludes on configuration data alone;
4. fetch live data (node RPC) only for the remaining items, and only if a
   requested or filtered field needs it;
5. filter again with live data and build the rows.

Result: ``{"fields": [fielddef dicts], "data": [[[status, value], ...]]}``.
"""

import importlib

from ganeti import constants
from ganeti import errors
from ganeti.query import common
from ganeti.query import filters
from ganeti.query.common import (FieldDef, FieldSpec, NODATA, UNAVAIL,
                                 OFFLINE, DK_CONFIG, DK_LIVE)

__all__ = ["FieldDef", "FieldSpec", "QueryContext", "query", "query_fields",
           "get_fields", "get_field_table", "NODATA", "UNAVAIL", "OFFLINE",
           "DK_CONFIG", "DK_LIVE", "RESOURCES"]

RESOURCES = {
    constants.QR_NODE: "fields_node",
    constants.QR_GROUP: "fields_group",
    constants.QR_INSTANCE: "fields_instance",
    constants.QR_JOB: "fields_job",
    constants.QR_CLUSTER: "fields_cluster",
    constants.QR_OS: "fields_os",
}


class QueryContext:
    """What a query may use: the ConfigWriter, the node RPC runner, the job
    queue and the master's name (any of the last three may be None when
    the resource does not need it)."""

    def __init__(self, cfg, rpc=None, jqueue=None, cluster_master_name=None):
        self.cfg = cfg
        self.rpc = rpc
        self.jqueue = jqueue
        self.cluster_master_name = cluster_master_name


def _resource(what):
    module_name = RESOURCES.get(what)
    if module_name is None:
        raise errors.OpPrereqError("Resource type '%s' unknown" % (what,),
                                   errors.ECODE_INVAL)
    return importlib.import_module("ganeti.query." + module_name)


def get_field_table(what):
    """``{name: FieldSpec}`` of a resource."""
    return _resource(what).FIELDS


def _select_specs(table, names):
    return [table.get(name) or common.unknown_field(name) for name in names]


def get_fields(what, names):
    """FieldDefs for ``names`` (unknown names give ``unknown`` fields)."""
    return [spec.fdef for spec in _select_specs(get_field_table(what), names)]


def query_fields(what, fields=None):
    """``{"fields": [...]}``: the named fields, or all sorted by name."""
    table = get_field_table(what)
    if not fields:
        specs = [table[name] for name in sorted(table)]
    else:
        specs = _select_specs(table, fields)
    return {"fields": [spec.fdef.to_dict() for spec in specs]}


def _rows(specs, qdata, items):
    """``[[[status, value], ...], ...]``: the result cells, one row per
    item (the inner loop of every listing, so kept lean)."""
    getters = [spec.getter for spec in specs]
    normal = constants.RS_NORMAL
    status_cls = common.Status
    rows = []
    for item in items:
        row = []
        for getter in getters:
            value = getter(qdata, item)
            if isinstance(value, status_cls):
                row.append([value.status, None])
            else:
                row.append([normal, value])
        rows.append(row)
    return rows


def query(what, fields, qfilter, context):
    """Run a query; see the module docstring for the steps and result."""
    res = _resource(what)
    table = res.FIELDS
    fields = list(fields or [])
    specs = _select_specs(table, fields)
    compiled = filters.compile_filter(qfilter, table,
                                      getattr(res, "HOSTNAME_FIELDS", ()),
                                      getattr(res, "NUMERIC_FIELDS", ()))
    wanted = filters.requested_names(qfilter, res.NAME_FIELD)
    needed = set(name for name in fields if name in table)
    if compiled is not None:
        needed.update(compiled.field_names)
    live_needed = any(table[name].kind == DK_LIVE for name in needed)

    qdata = res.prepare(context, needed)
    items = res.select_items(qdata, wanted)
    live_ready = [False]

    def evaluate(item):
        def lookup(name):
            spec = table[name]
            if spec.kind == DK_LIVE and not live_ready[0]:
                return filters.PENDING
            return spec.getter(qdata, item)
        return compiled(lookup)

    if compiled is not None:
        items = [item for item in items if evaluate(item) is not False]
    if live_needed and items:
        res.fetch_live(qdata, items, needed)
        live_ready[0] = True
        if compiled is not None and \
                any(table[n].kind == DK_LIVE for n in compiled.field_names):
            items = [item for item in items if evaluate(item)]
    live_ready[0] = True
    return {"fields": [spec.fdef.to_dict() for spec in specs],
            "data": _rows(specs, qdata, items)}
