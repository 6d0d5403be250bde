"""Query fields of nodes (``gnt-node list``, RAPI ``/2/nodes``).

Configuration fields come from the config snapshot; live fields (memory,
storage, CPUs, boot id) from one ``node_info`` RPC to the selected nodes,
asking for storage units and hypervisor data only when a field needs them.
Offline nodes are never contacted (their live cells are RS_OFFLINE); a
failed RPC gives RS_NODATA.
"""

import logging

from ganeti import constants
from ganeti.config import derived
from ganeti.query import common
from ganeti.query.common import (simple, attr, NODATA, UNAVAIL, OFFLINE,
                                 DK_LIVE)
from ganeti.utils import text as text_utils

NAME_FIELD = "name"
HOSTNAME_FIELDS = frozenset(["name"])

_T = constants

STORAGE_FIELDS = frozenset(["dtotal", "dfree", "sptotal", "spfree"])
HV_FIELDS = frozenset(["mnode", "mfree", "mtotal", "cnodes", "csockets",
                       "cnos", "ctotal"])
_ST_LVM_PV = "lvm-pv"


class NodeQueryData(common.QueryData):
    def __init__(self, context, field_names):
        common.QueryData.__init__(self, context, field_names)
        self.live = {}  # node uuid -> RPC payload or a Status

    def instance_map(self):
        return self.cached("inst_map",
                           lambda: derived.node_instance_map(self.data))

    def ndparams(self, node):
        return self.cached(("ndp", node.uuid),
                           lambda: derived.filled_node_ndparams(self.data,
                                                                node))

    def instance_names(self, uuids):
        insts = self.data.instances
        return text_utils.nice_sort([insts[u].name for u in uuids
                                     if u in insts])


def prepare(context, field_names):
    return NodeQueryData(context, field_names)


def select_items(qdata, wanted):
    return common.select_by_names(qdata.data.nodes, wanted, "Node",
                                  lambda node: node.name,
                                  qdata.sorted_names("nodes"))


# ---------------------------------------------------------------------------
# Live data

def storage_units(cluster, ndparams, first_template=None):
    """``[[type, key, params], ...]`` for ``node_info``, in the order of
    the enabled disk templates (the first gives dtotal/dfree), or with
    ``first_template``'s storage first (an allocation for that
    template)."""
    units = []
    es = bool(ndparams.get("exclusive_storage"))
    templates = list(cluster.enabled_disk_templates or [])
    if first_template in templates:
        templates.remove(first_template)
        templates.insert(0, first_template)
    for template in templates:
        if template in (_T.DT_PLAIN, _T.DT_DRBD8):
            if not cluster.volume_group_name:
                continue
            unit = ["lvm-vg", cluster.volume_group_name, [es]]
        elif template == _T.DT_FILE:
            unit = ["file", cluster.file_storage_dir, []]
        elif template == _T.DT_SHARED_FILE:
            unit = ["sharedfile", cluster.shared_file_storage_dir, []]
        elif template == _T.DT_GLUSTER:
            unit = ["gluster", cluster.gluster_storage_dir, []]
        elif template == _T.DT_RBD:
            pool = cluster.fill_diskparams().get(_T.DT_RBD, {}).get("pool")
            unit = ["rbd", pool, []]
        else:
            continue
        if unit not in units:
            units.append(unit)
    return units


def hv_specs(cluster):
    """``[[hypervisor, filled cluster hvparams]]`` of the default one."""
    hv = derived.default_hypervisor(cluster)
    if hv is None:
        return []
    return [[hv, cluster.fill_hv(hv)]]


def fetch_live(qdata, items, field_names):
    """Call ``node_info`` on the online nodes among ``items``."""
    cluster = qdata.cluster
    want_storage = bool(STORAGE_FIELDS & set(field_names))
    want_hv = bool(HV_FIELDS & set(field_names))
    hvs = hv_specs(cluster) if want_hv else []
    batches = {}  # repr(args) -> (args, [nodes])
    for node in items:
        if node.offline:
            qdata.live[node.uuid] = OFFLINE
            continue
        units = storage_units(cluster, qdata.ndparams(node)) \
            if want_storage else []
        args = [units, hvs]
        batches.setdefault(repr(args), (args, []))[1].append(node)
    rpc = qdata.context.rpc
    for args, nodes in batches.values():
        if rpc is None:
            for node in nodes:
                qdata.live[node.uuid] = NODATA
            continue
        try:
            results = rpc.call("node_info", [n.name for n in nodes], args)
        except Exception:  # pylint: disable=broad-except
            logging.exception("node_info RPC failed")
            results = {}
        for node in nodes:
            qdata.live[node.uuid] = _result_to_live(results.get(node.name))


def _result_to_live(result):
    """node_info's ``[bootid, storage, hypervisors]``, or a status."""
    return common.rpc_payload(
        result, lambda p: isinstance(p, (list, tuple)) and len(p) >= 3)


def _storage_entry(payload, default):
    for entry in payload[1] or []:
        if not isinstance(entry, dict):
            continue
        is_pv = entry.get("type") == _ST_LVM_PV
        if is_pv != default:
            return entry
    return None


def _bootid(payload):
    return payload[0]


def _hv_value(key):
    def extract(payload):
        hv_info = payload[2]
        if not hv_info or not isinstance(hv_info[0], dict):
            return None
        return hv_info[0].get(key)
    return extract


def _storage_value(key, default):
    def extract(payload):
        entry = _storage_entry(payload, default)
        return entry.get(key) if entry is not None else None
    return extract


def _live(name, title, kind, doc, extract):
    def getter(qdata, node):
        live = qdata.live.get(node.uuid)
        if live is None:
            return NODATA
        if isinstance(live, common.Status):
            return live
        try:
            value = extract(live)
        except (IndexError, TypeError, AttributeError):
            return NODATA
        return NODATA if value is None else value
    return simple(name, title, kind, doc, getter, DK_LIVE)


# From the hypervisor's part of node_info: (name, title, kind, key, doc).
_HV_LIVE = [
    ("cnodes", "CNodes", _T.QFT_NUMBER, "cpu_nodes",
     "Number of NUMA domains on node (if exported by hypervisor)"),
    ("cnos", "CNOs", _T.QFT_NUMBER, "cpu_dom0",
     "Number of logical processors used by the node OS (dom0 for Xen)"),
    ("csockets", "CSockets", _T.QFT_NUMBER, "cpu_sockets",
     "Number of physical CPU sockets (if exported by hypervisor)"),
    ("ctotal", "CTotal", _T.QFT_NUMBER, "cpu_total",
     "Number of logical processors"),
    ("mfree", "MFree", _T.QFT_UNIT, "memory_free",
     "Memory available for instance allocations"),
    ("mnode", "MNode", _T.QFT_UNIT, "memory_dom0",
     "Amount of memory used by node (dom0 for Xen)"),
    ("mtotal", "MTotal", _T.QFT_UNIT, "memory_total",
     "Total amount of memory of physical machine"),
]

# From the storage part: (name, title, kind, key, default, doc); default
# True reads the first storage unit, False the LVM physical volumes'
# entry (spindles).
_STORAGE_LIVE = [
    ("dfree", "DFree", _T.QFT_UNIT, "storage_free", True,
     "Available storage space on storage unit"),
    ("dtotal", "DTotal", _T.QFT_UNIT, "storage_size", True,
     "Total storage space on storage unit for instance disk allocation"),
    ("spfree", "SpFree", _T.QFT_NUMBER, "storage_free", False,
     "Available spindles in volume group (exclusive storage only)"),
    ("sptotal", "SpTotal", _T.QFT_NUMBER, "storage_size", False,
     "Total spindles in volume group (exclusive storage only)"),
]

_LIVE_FIELDS = (
    [_live("bootid", "BootID", _T.QFT_TEXT,
           "Random UUID renewed for each system reboot, can be used for"
           " detecting reboots by tracking changes", _bootid)] +
    [_live(name, title, kind, doc, _hv_value(key))
     for name, title, kind, key, doc in _HV_LIVE] +
    [_live(name, title, kind, doc, _storage_value(key, default))
     for name, title, kind, key, default, doc in _STORAGE_LIVE])


# ---------------------------------------------------------------------------
# Configuration fields

def _role(qdata, node):
    if node.uuid == qdata.cluster.master_node:
        return _T.NR_MASTER
    if node.master_candidate:
        return _T.NR_MCANDIDATE
    if node.drained:
        return _T.NR_DRAINED
    if node.offline:
        return _T.NR_OFFLINE
    return _T.NR_REGULAR


def _group_name(qdata, node):
    group = qdata.data.nodegroups.get(node.group)
    return NODATA if group is None else group.name


def _powered(qdata, node):
    if not qdata.ndparams(node).get("oob_program"):
        return UNAVAIL
    return bool(node.powered)


def _instances(index, listing):
    def getter(qdata, node):
        uuids = qdata.instance_map().get(node.uuid, ([], []))[index]
        if listing:
            return qdata.instance_names(uuids)
        return len(uuids)
    return getter


_ROLE_DOC = ('Node role; "O" for offline, "D" for drained, "R" for regular,'
             ' "C" for master candidate, "M" for master')

_CONFIG_FIELDS = [
    attr("name", "Node", _T.QFT_TEXT, "Node name"),
    attr("pip", "PrimaryIP", _T.QFT_TEXT, "Primary IP address",
         "primary_ip"),
    attr("sip", "SecondaryIP", _T.QFT_TEXT, "Secondary IP address",
         "secondary_ip"),
    simple("master", "IsMaster", _T.QFT_BOOL, "Whether node is master",
           lambda q, n: n.uuid == q.cluster.master_node),
    simple("master_candidate", "MasterC", _T.QFT_BOOL,
           "Whether node is a master candidate",
           lambda q, n: bool(n.master_candidate)),
    simple("master_capable", "MasterCapable", _T.QFT_BOOL,
           "Whether node can become a master candidate",
           lambda q, n: bool(n.master_capable)),
    simple("vm_capable", "VMCapable", _T.QFT_BOOL,
           "Whether node can host instances",
           lambda q, n: bool(n.vm_capable)),
    simple("offline", "Offline", _T.QFT_BOOL, "Whether node is marked offline",
           lambda q, n: bool(n.offline)),
    simple("drained", "Drained", _T.QFT_BOOL, "Whether node is drained",
           lambda q, n: bool(n.drained)),
    simple("group", "Group", _T.QFT_TEXT, "Node group", _group_name),
    attr("group.uuid", "GroupUUID", _T.QFT_TEXT, "UUID of node group",
         "group"),
    simple("ndparams", "NodeParameters", _T.QFT_OTHER,
           "Merged node parameters",
           lambda q, n: dict(q.ndparams(n))),
    simple("custom_ndparams", "CustomNodeParameters", _T.QFT_OTHER,
           "Custom node parameters",
           lambda q, n: common.dict_copy(n.ndparams)),
    simple("pinst_cnt", "Pinst", _T.QFT_NUMBER,
           "Number of instances with this node as primary",
           _instances(0, False)),
    simple("sinst_cnt", "Sinst", _T.QFT_NUMBER,
           "Number of instances with this node as secondary",
           _instances(1, False)),
    simple("pinst_list", "PriInstances", _T.QFT_OTHER,
           "List of instances with this node as primary",
           _instances(0, True)),
    simple("sinst_list", "SecInstances", _T.QFT_OTHER,
           "List of instances with this node as secondary",
           _instances(1, True)),
    simple("role", "Role", _T.QFT_TEXT, _ROLE_DOC, _role),
    simple("powered", "Powered", _T.QFT_BOOL,
           "Whether node is thought to be powered on", _powered),
    simple("hv_state", "HypervisorState", _T.QFT_OTHER, "Hypervisor state",
           lambda q, n: UNAVAIL),
    simple("disk_state", "DiskState", _T.QFT_OTHER, "Disk state",
           lambda q, n: UNAVAIL),
]

FIELDS = common.field_table(
    _CONFIG_FIELDS + _LIVE_FIELDS +
    common.ndparam_fields(lambda q, n: q.ndparams(n)) +
    common.timestamp_fields() + common.uuid_fields("Node") +
    common.serial_fields("Node") + common.tags_fields())
