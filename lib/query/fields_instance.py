"""Query fields of instances (``gnt-instance list``, RAPI ``/2/instances``).

Configuration fields include the generated families ``be/<param>``,
``hv/<param>`` (every non-global hypervisor parameter), ``disk.*/N``
(N < 16) and ``nic.*/N`` (N < 8), plus Ganeti's legacy aliases. Live
fields (``status``, ``oper_state``, ``oper_ram``, ``oper_vcpus``,
``console``) use one ``all_instances_info`` RPC to the primary nodes of
the selected instances.
"""

import logging

from ganeti import constants
from ganeti.config import derived
from ganeti.query import common
from ganeti.query.common import (simple, attr, alias, NODATA, UNAVAIL,
                                 OFFLINE, DK_LIVE)

NAME_FIELD = "name"
HOSTNAME_FIELDS = frozenset(["name", "pnode"])

_T = constants
MAX_DISKS = 16
MAX_NICS = 8

# Instance status values
ST_RUNNING = "running"
ST_ADMIN_DOWN = "ADMIN_down"
ST_ADMIN_OFFLINE = "ADMIN_offline"
ST_ERROR_UP = "ERROR_up"
ST_ERROR_DOWN = "ERROR_down"
ST_WRONGNODE = "ERROR_wrongnode"
ST_NODEDOWN = "ERROR_nodedown"
ST_NODEOFFLINE = "ERROR_nodeoffline"
ST_USER_DOWN = "USER_down"

_SHUTDOWN_STATES = ("shutdown", 1)


class InstanceQueryData(common.QueryData):
    def __init__(self, context, field_names):
        common.QueryData.__init__(self, context, field_names)
        # instance uuid -> (info dict or None, found on primary) or Status
        self.live = {}

    def disks(self, inst):
        return self.cached(("disks", inst.uuid),
                           lambda: derived.instance_disks(self.data, inst))

    def snodes(self, inst):
        return self.cached(
            ("snodes", inst.uuid),
            lambda: derived.instance_secondary_nodes(self.data, inst))

    def hvparams(self, inst):
        """Filled hypervisor parameters without the cluster-global ones."""
        def compute():
            params = self.cluster.fill_hv(inst.hypervisor, inst.hvparams,
                                          os_name=inst.os)
            for name in _T.HVC_GLOBALS:
                params.pop(name, None)
            return params
        return self.cached(("hv", inst.uuid), compute)

    def beparams(self, inst):
        return self.cached(("be", inst.uuid),
                           lambda: self.cluster.fill_be(inst.beparams))

    def nicparams(self, nic):
        return self.cluster.fill_nic(nic.nicparams)

    def node_group(self, node_uuid):
        node = self.data.nodes.get(node_uuid)
        if node is None:
            return None
        return self.data.nodegroups.get(node.group)


def prepare(context, field_names):
    return InstanceQueryData(context, field_names)


def select_items(qdata, wanted):
    return common.select_by_names(qdata.data.instances, wanted, "Instance",
                                  lambda inst: inst.name or "",
                                  qdata.sorted_names("instances"))


# ---------------------------------------------------------------------------
# Live data

def fetch_live(qdata, items, field_names):
    """Ask the primary nodes which instances run, with memory and vcpus."""
    data = qdata.data
    node_results = {}  # node uuid -> {instance name: info} or Status
    to_call = []
    for node_uuid in set(inst.primary_node for inst in items):
        node = data.nodes.get(node_uuid)
        if node is None:
            continue
        if node.offline:
            node_results[node.uuid] = OFFLINE
        else:
            to_call.append(node)
    to_call.sort(key=lambda node: node.name)
    if to_call:
        hvs = sorted(set(i.hypervisor for i in items if i.hypervisor))
        hvparams = dict((hv, qdata.cluster.fill_hv(hv)) for hv in hvs)
        rpc = qdata.context.rpc
        results = {}
        if rpc is not None:
            try:
                results = rpc.call("all_instances_info",
                                   [n.name for n in to_call], [hvs, hvparams])
            except Exception:  # pylint: disable=broad-except
                logging.exception("all_instances_info RPC failed")
        for node in to_call:
            node_results[node.uuid] = _node_payload(results.get(node.name))
    for inst in items:
        qdata.live[inst.uuid] = _locate(inst, node_results, data)


def _node_payload(result):
    """all_instances_info's ``{name: info}``, or a status."""
    return common.rpc_payload(result, lambda p: isinstance(p, dict))


def _locate(inst, node_results, data):
    if inst.primary_node not in data.nodes:
        return NODATA
    primary = node_results.get(inst.primary_node, NODATA)
    if isinstance(primary, dict) and inst.name in primary:
        return (primary[inst.name], True)
    for node_uuid, result in node_results.items():
        if node_uuid != inst.primary_node and isinstance(result, dict) and \
                inst.name in result:
            return (result[inst.name], False)
    if isinstance(primary, common.Status):
        return primary
    return (None, None)


def _is_running(info):
    state = info.get("state") if isinstance(info, dict) else None
    return state not in _SHUTDOWN_STATES


def _user_shutdown_allowed(qdata, inst):
    if not qdata.cluster.enabled_user_shutdown:
        return False
    if inst.hypervisor != _T.HT_KVM:
        return True
    return bool(qdata.hvparams(inst).get("user_shutdown"))


def _status(qdata, inst):
    node = qdata.data.nodes.get(inst.primary_node)
    if node is not None and node.offline:
        return ST_NODEOFFLINE
    live = qdata.live.get(inst.uuid, NODATA)
    if isinstance(live, common.Status):
        return ST_NODEDOWN
    info, on_primary = live
    admin = inst.admin_state
    if info is not None:
        if not on_primary:
            return ST_WRONGNODE
        if _is_running(info):
            return ST_RUNNING if admin == _T.ADMINST_UP else ST_ERROR_UP
        if admin == _T.ADMINST_UP:
            if _user_shutdown_allowed(qdata, inst):
                return ST_USER_DOWN
            return ST_ERROR_DOWN
        return ST_ADMIN_DOWN
    if admin == _T.ADMINST_UP:
        return ST_ERROR_DOWN
    if admin == _T.ADMINST_OFFLINE:
        return ST_ADMIN_OFFLINE
    if inst.admin_state_source == _T.USER_SOURCE and \
            qdata.cluster.enabled_user_shutdown:
        return ST_USER_DOWN
    return ST_ADMIN_DOWN


def _oper_state(qdata, inst):
    live = qdata.live.get(inst.uuid, NODATA)
    if isinstance(live, common.Status):
        return NODATA
    return live[0] is not None


def _oper_value(key):
    def getter(qdata, inst):
        live = qdata.live.get(inst.uuid, NODATA)
        if isinstance(live, common.Status):
            return live
        if live[0] is None:
            return UNAVAIL
        value = live[0].get(key) if isinstance(live[0], dict) else None
        return NODATA if value is None else value
    return getter


_STATUS_DOC = (
    "Instance status; \"running\" if instance is set to be running and"
    " actually is, \"ADMIN_down\" if instance is stopped and is not running,"
    " \"ERROR_wrongnode\" if instance running, but not on its designated"
    " primary node, \"ERROR_up\" if instance should be stopped, but is"
    " actually running, \"ERROR_down\" if instance should run, but doesn't,"
    " \"ERROR_nodedown\" if instance's primary node is down,"
    " \"ERROR_nodeoffline\" if instance's primary node is marked offline,"
    " \"ADMIN_offline\" if instance is offline and does not use dynamic"
    " resources, \"USER_down\" if the user shut the instance down")

_LIVE_FIELDS = [
    simple("status", "Status", _T.QFT_TEXT, _STATUS_DOC, _status, DK_LIVE),
    simple("oper_state", "Running", _T.QFT_BOOL, "Actual state of instance",
           _oper_state, DK_LIVE),
    simple("oper_ram", "Memory", _T.QFT_UNIT,
           "Actual memory usage as seen by hypervisor", _oper_value("memory"),
           DK_LIVE),
    simple("oper_vcpus", "VCPUs", _T.QFT_NUMBER,
           "Actual number of VCPUs as seen by hypervisor",
           _oper_value("vcpus"), DK_LIVE),
    # Console details need a per-hypervisor RPC not available yet.
    simple("console", "Console", _T.QFT_OTHER, "Instance console information",
           lambda q, i: NODATA, DK_LIVE),
]


# ---------------------------------------------------------------------------
# Configuration fields

def _node_name(qdata, node_uuid):
    node = qdata.data.nodes.get(node_uuid)
    return node.name if node is not None else None


def _pnode(qdata, inst):
    name = _node_name(qdata, inst.primary_node)
    return NODATA if name is None else name


def _pnode_group(attribute):
    def getter(qdata, inst):
        group = qdata.node_group(inst.primary_node)
        return NODATA if group is None else getattr(group, attribute)
    return getter


def _snodes(qdata, inst):
    return [_node_name(qdata, uuid) for uuid in qdata.snodes(inst)]


def _snodes_group(attribute):
    def getter(qdata, inst):
        result = []
        for uuid in qdata.snodes(inst):
            group = qdata.node_group(uuid)
            if group is not None:
                result.append(getattr(group, attribute))
        return result
    return getter


def _osparams(qdata, inst):
    os_name = (inst.os or "").split("+", 1)[0]
    params = common.dict_copy(qdata.cluster.osparams.get(os_name, {}))
    params.update(common.dict_copy(inst.osparams))
    return params


def _nic_bridge(params):
    if params.get(_T.NIC_MODE) == _T.NIC_MODE_BRIDGED:
        return params.get(_T.NIC_LINK)
    return None


def _nic_vlan(params):
    if params.get(_T.NIC_MODE) == _T.NIC_MODE_OVS:
        return params.get(_T.NIC_VLAN)
    return None


def _network_name(qdata, net_uuid):
    net = qdata.data.networks.get(net_uuid) if net_uuid else None
    return net.name if net is not None else None


def _nic_list(extract):
    def getter(qdata, inst):
        return [extract(qdata, nic) for nic in inst.nics or []]
    return getter


def _disk_list(extract):
    def getter(qdata, inst):
        return [extract(disk) for disk in qdata.disks(inst)]
    return getter


_NIC_AGG = "List containing each network interface's "

_AGGREGATE_FIELDS = [
    simple("disk_usage", "DiskUsage", _T.QFT_UNIT,
           "Total disk space used by instance on each of its nodes; this is"
           " not the disk size visible to the instance, but the usage on the"
           " node", lambda q, i: derived.instance_disk_usage(q.data, i)),
    simple("disk.count", "Disks", _T.QFT_NUMBER, "Number of disks",
           lambda q, i: len(q.disks(i))),
    simple("disk.sizes", "Disk_sizes", _T.QFT_OTHER, "List of disk sizes",
           _disk_list(lambda d: d.size)),
    simple("disk.spindles", "Disk_spindles", _T.QFT_OTHER,
           "List of disk spindles", _disk_list(lambda d: d.spindles)),
    simple("disk.names", "Disk_names", _T.QFT_OTHER, "List of disk names",
           _disk_list(lambda d: d.name)),
    simple("disk.uuids", "Disk_UUIDs", _T.QFT_OTHER, "List of disk UUIDs",
           _disk_list(lambda d: d.uuid)),
    simple("disk_template", "Disk_template", _T.QFT_TEXT,
           "Instance disk template",
           lambda q, i: derived.instance_disk_template(q.data, i)),
    simple("nic.count", "NICs", _T.QFT_NUMBER, "Number of network interfaces",
           lambda q, i: len(i.nics or [])),
    simple("nic.macs", "NIC_MACs", _T.QFT_OTHER, _NIC_AGG + "MAC address",
           _nic_list(lambda q, n: n.mac)),
    simple("nic.ips", "NIC_IPs", _T.QFT_OTHER, _NIC_AGG + "IP address",
           _nic_list(lambda q, n: n.ip)),
    simple("nic.names", "NIC_Names", _T.QFT_OTHER, _NIC_AGG + "name",
           _nic_list(lambda q, n: n.name)),
    simple("nic.uuids", "NIC_UUIDs", _T.QFT_OTHER, _NIC_AGG + "UUID",
           _nic_list(lambda q, n: n.uuid)),
    simple("nic.modes", "NIC_modes", _T.QFT_OTHER, _NIC_AGG + "mode",
           _nic_list(lambda q, n: q.nicparams(n).get(_T.NIC_MODE))),
    simple("nic.vlans", "NIC_VLANs", _T.QFT_OTHER, _NIC_AGG + "VLAN",
           _nic_list(lambda q, n: _nic_vlan(q.nicparams(n)))),
    simple("nic.bridges", "NIC_bridges", _T.QFT_OTHER, _NIC_AGG + "bridge",
           _nic_list(lambda q, n: _nic_bridge(q.nicparams(n)))),
    simple("nic.links", "NIC_links", _T.QFT_OTHER, _NIC_AGG + "link",
           _nic_list(lambda q, n: q.nicparams(n).get(_T.NIC_LINK))),
    simple("nic.networks", "NIC_networks", _T.QFT_OTHER,
           "List containing each interface's network",
           _nic_list(lambda q, n: n.network)),
    simple("nic.networks.names", "NIC_networks_names", _T.QFT_OTHER,
           "List containing the name of each interface's network",
           _nic_list(lambda q, n: _network_name(q, n.network))),
]

_CONFIG_FIELDS = [
    attr("admin_state", "InstanceState", _T.QFT_TEXT,
         "Desired state of instance"),
    attr("admin_state_source", "InstanceStateSource", _T.QFT_TEXT,
         "Who last changed the desired state of the instance"),
    simple("admin_up", "Autostart", _T.QFT_BOOL, "Desired state of instance",
           lambda q, i: i.admin_state == _T.ADMINST_UP),
    simple("disks_active", "DisksActive", _T.QFT_BOOL,
           "Desired state of instance disks",
           lambda q, i: bool(i.disks_active)),
    attr("name", "Instance", _T.QFT_TEXT, "Instance name"),
    attr("hypervisor", "Hypervisor", _T.QFT_TEXT, "Hypervisor name"),
    simple("network_port", "Network_port", _T.QFT_OTHER,
           "Instance network port if available (e.g. for VNC console)",
           lambda q, i: UNAVAIL if i.network_port is None
           else i.network_port),
    attr("os", "OS", _T.QFT_TEXT, "Operating system"),
    simple("pnode", "Primary_node", _T.QFT_TEXT, "Primary node", _pnode),
    simple("pnode.group", "PrimaryNodeGroup", _T.QFT_TEXT,
           "Primary node's group", _pnode_group("name")),
    simple("pnode.group.uuid", "PrimaryNodeGroupUUID", _T.QFT_TEXT,
           "Primary node's group UUID", _pnode_group("uuid")),
    simple("snodes", "Secondary_Nodes", _T.QFT_OTHER,
           "Secondary nodes; usually this will just be one node", _snodes),
    simple("snodes.group", "SecondaryNodesGroups", _T.QFT_OTHER,
           "Node groups of secondary nodes", _snodes_group("name")),
    simple("snodes.group.uuid", "SecondaryNodesGroupsUUID", _T.QFT_OTHER,
           "Node group UUIDs of secondary nodes", _snodes_group("uuid")),
    simple("hvparams", "HypervisorParameters", _T.QFT_OTHER,
           "Hypervisor parameters (merged)",
           lambda q, i: dict(q.hvparams(i))),
    simple("beparams", "BackendParameters", _T.QFT_OTHER,
           "Backend parameters (merged)", lambda q, i: dict(q.beparams(i))),
    simple("osparams", "OpSysParameters", _T.QFT_OTHER,
           "Operating system parameters (merged)", _osparams),
    simple("custom_hvparams", "CustomHypervisorParameters", _T.QFT_OTHER,
           "Custom hypervisor parameters",
           lambda q, i: common.dict_copy(i.hvparams)),
    simple("custom_beparams", "CustomBackendParameters", _T.QFT_OTHER,
           "Custom backend parameters",
           lambda q, i: common.dict_copy(i.beparams)),
    simple("custom_osparams", "CustomOpSysParameters", _T.QFT_OTHER,
           "Custom operating system parameters",
           lambda q, i: common.dict_copy(i.osparams)),
    simple("custom_nicparams", "CustomNicParameters", _T.QFT_OTHER,
           "Custom network interface parameters",
           lambda q, i: [common.dict_copy(n.nicparams) for n in i.nics or []]),
    simple("forthcoming", "Forthcoming", _T.QFT_BOOL,
           "Whether the Instance is forthcoming",
           lambda q, i: bool(i.forthcoming)),
]


# ---------------------------------------------------------------------------
# Generated parameter fields

_BE_TITLES = {
    _T.BE_AUTO_BALANCE: "Auto_balance",
    _T.BE_MINMEM: "ConfigMinMem",
    _T.BE_VCPUS: "ConfigVCPUs",
    _T.BE_MAXMEM: "ConfigMaxMem",
}
_HV_TITLES = {
    "acpi": "ACPI", "boot_order": "Boot_order",
    "cdrom_image_path": "CDROM_image_path", "cpu_type": "cpu_type",
    "disk_type": "Disk_type", "initrd_path": "Initrd_path",
    "kernel_path": "Kernel_path", "nic_type": "NIC_type", "pae": "PAE",
    "pci_pass": "pci_pass", "vnc_bind_address": "VNC_bind_address",
}
_TYPE_KINDS = {"bool": _T.QFT_BOOL, "int": _T.QFT_NUMBER,
               "size": _T.QFT_UNIT}


def _value_kind(value):
    if isinstance(value, bool):
        return _T.QFT_BOOL
    if isinstance(value, int):
        return _T.QFT_NUMBER
    return _T.QFT_OTHER


def _be_fields():
    specs = []
    for param in sorted(_T.BES_PARAMETER_TYPES):
        name = "be/" + param

        def getter(qdata, inst, _param=param):
            value = qdata.beparams(inst).get(_param)
            return NODATA if value is None else value
        specs.append(simple(name, _BE_TITLES.get(param, name),
                            _TYPE_KINDS.get(_T.BES_PARAMETER_TYPES[param],
                                            _T.QFT_OTHER),
                            "The \"%s\" backend parameter" % param, getter))
    return specs


def hv_parameter_kinds():
    """``{param: query kind}`` of every non-global hypervisor parameter."""
    kinds = {}
    for hv in _T.HYPER_TYPES:
        for param, value in _T.HVC_DEFAULTS[hv].items():
            if param not in _T.HVC_GLOBALS:
                kinds.setdefault(param, _value_kind(value))
    return kinds


def _hv_fields():
    specs = []
    for param, kind in sorted(hv_parameter_kinds().items()):
        name = "hv/" + param

        def getter(qdata, inst, _param=param):
            params = qdata.hvparams(inst)
            return params[_param] if _param in params else UNAVAIL
        specs.append(simple(name, _HV_TITLES.get(param, name), kind,
                            "The \"%s\" hypervisor parameter" % param,
                            getter))
    return specs


def _ordinal(number):
    if 10 <= number % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return "%d%s" % (number, suffix)


def _indexed(items_fn, extract):
    """Getter for element ``index`` of a per-instance list; a missing
    element or a missing value is RS_UNAVAIL."""
    def make(index):
        def getter(qdata, inst):
            items = items_fn(qdata, inst)
            if index >= len(items):
                return UNAVAIL
            value = extract(qdata, items[index])
            return UNAVAIL if value is None else value
        return getter
    return make


_disks_of = (lambda q, i: q.disks(i))
_nics_of = (lambda q, i: i.nics or [])

# (name pattern, title pattern, kind, doc pattern, getter factory)
_DISK_INDEXED = [
    ("disk.size/%d", "Disk/%d", _T.QFT_UNIT, "Disk size of %s disk",
     _indexed(_disks_of, lambda q, d: d.size)),
    ("disk.spindles/%d", "DiskSpindles/%d", _T.QFT_NUMBER,
     "Spindles of %s disk", _indexed(_disks_of, lambda q, d: d.spindles)),
    ("disk.name/%d", "DiskName/%d", _T.QFT_TEXT, "Name of %s disk",
     _indexed(_disks_of, lambda q, d: d.name)),
    ("disk.uuid/%d", "DiskUUID/%d", _T.QFT_TEXT, "UUID of %s disk",
     _indexed(_disks_of, lambda q, d: d.uuid)),
]
_NIC_SUFFIX = " of %s network interface"
_NIC_INDEXED = [
    ("nic.ip/%d", "NicIP/%d", _T.QFT_TEXT, "IP address" + _NIC_SUFFIX,
     _indexed(_nics_of, lambda q, n: n.ip)),
    ("nic.uuid/%d", "NicUUID/%d", _T.QFT_TEXT, "UUID" + _NIC_SUFFIX,
     _indexed(_nics_of, lambda q, n: n.uuid)),
    ("nic.mac/%d", "NicMAC/%d", _T.QFT_TEXT, "MAC address" + _NIC_SUFFIX,
     _indexed(_nics_of, lambda q, n: n.mac)),
    ("nic.name/%d", "NicName/%d", _T.QFT_TEXT, "Name" + _NIC_SUFFIX,
     _indexed(_nics_of, lambda q, n: n.name)),
    ("nic.network/%d", "NicNetwork/%d", _T.QFT_TEXT, "Network" + _NIC_SUFFIX,
     _indexed(_nics_of, lambda q, n: n.network)),
    ("nic.mode/%d", "NicMode/%d", _T.QFT_TEXT, "Mode" + _NIC_SUFFIX,
     _indexed(_nics_of, lambda q, n: q.nicparams(n).get(_T.NIC_MODE))),
    ("nic.link/%d", "NicLink/%d", _T.QFT_TEXT, "Link" + _NIC_SUFFIX,
     _indexed(_nics_of, lambda q, n: q.nicparams(n).get(_T.NIC_LINK))),
    ("nic.vlan/%d", "NicVLAN/%d", _T.QFT_TEXT, "VLAN" + _NIC_SUFFIX,
     _indexed(_nics_of, lambda q, n: _nic_vlan(q.nicparams(n)))),
    ("nic.network.name/%d", "NicNetworkName/%d", _T.QFT_TEXT,
     "Network name" + _NIC_SUFFIX,
     _indexed(_nics_of, lambda q, n: _network_name(q, n.network))),
    ("nic.bridge/%d", "NicBridge/%d", _T.QFT_TEXT, "Bridge" + _NIC_SUFFIX,
     _indexed(_nics_of, lambda q, n: _nic_bridge(q.nicparams(n)))),
]


def _indexed_fields(templates, count):
    specs = []
    for index in range(count):
        for name, title, kind, doc, factory in templates:
            specs.append(simple(name % index, title % index, kind,
                                doc % _ordinal(index + 1), factory(index)))
    return specs


_ALIASES = [
    ("vcpus", "be/vcpus"),
    ("be/memory", "be/maxmem"),
    ("sda_size", "disk.size/0"),
    ("sdb_size", "disk.size/1"),
    ("ip", "nic.ip/0"),
    ("mac", "nic.mac/0"),
    ("bridge", "nic.bridge/0"),
    ("nic_mode", "nic.mode/0"),
    ("nic_link", "nic.link/0"),
    ("nic_network", "nic.network/0"),
]


def _build_fields():
    specs = (_CONFIG_FIELDS + _be_fields() + _hv_fields() +
             _AGGREGATE_FIELDS + _indexed_fields(_DISK_INDEXED, MAX_DISKS) +
             _indexed_fields(_NIC_INDEXED, MAX_NICS) + _LIVE_FIELDS +
             common.timestamp_fields() + common.serial_fields("Instance") +
             common.uuid_fields("Instance") + common.tags_fields())
    table = common.field_table(specs)
    return common.field_table(specs + [alias(new, table[old])
                                       for new, old in _ALIASES])


FIELDS = _build_fields()

