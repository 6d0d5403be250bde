"""The instance allocator protocol (Ganeti's IAllocator, version 2).

Node choices (where a new instance goes, where a moved one lands, how a
node is emptied) are made by an external program such as htools' ``hail``
that the admin names with ``-I NAME``. This module builds the program's
input message from the configuration plus live node data, runs it on the
master through the ``iallocator_runner`` RPC (``ganeti.backend.iallocator``
finds and executes it) and validates its answer.

Each request type is one row of ``REQUESTS``: the parameters a caller
passes, the function that turns them into the ``request`` part of the
message and the check of a successful answer's ``result``. Callers use
``IAllocator`` (build, ``run``, then ``success``/``info``/``result``) or
``allocate``, which also turns an unsuccessful answer into Ganeti's
``OpPrereqError``.

The message (``version`` 2): ``cluster_name``, ``cluster_tags``,
``enabled_hypervisors``, ``ipolicy``, ``nodegroups``, ``nodes``,
``instances`` and ``request``; memory and disk figures in MiB. Nodes
carry their dynamic figures (memory, disk, spindles, CPUs) only when they
are online and vm_capable (see ``_is_live``), drained ones too (as
upstream; hail needs them). With opportunistic locking the nodes the
caller holds go to the allocate request's ``restrict-to-nodes``.
"""

import collections

from ganeti import constants
from ganeti import errors
from ganeti import ht
from ganeti import serializer

IALLOCATOR_VERSION = 2
# "-I ." means the cluster's default allocator
DEFAULT_SHORTCUT = "."

DIR_IN = "in"
DIR_OUT = "out"
DIRECTIONS = (DIR_IN, DIR_OUT)

MODE_ALLOC = "allocate"
MODE_RELOC = "relocate"
MODE_CHG_GROUP = "change-group"
MODE_NODE_EVAC = "node-evacuate"
MODE_MULTI_ALLOC = "multi-allocate"
MODE_ALLOC_SECONDARY = "allocate-secondary"
MODES = (MODE_ALLOC, MODE_RELOC, MODE_CHG_GROUP, MODE_NODE_EVAC,
         MODE_MULTI_ALLOC, MODE_ALLOC_SECONDARY)

NODE_EVAC_PRI = "primary-only"
NODE_EVAC_SEC = "secondary-only"
NODE_EVAC_ALL = "all"
NODE_EVAC_MODES = (NODE_EVAC_PRI, NODE_EVAC_SEC, NODE_EVAC_ALL)

# The only opcodes an evacuation or group change may ask the master to run
EVAC_OPCODES = frozenset(["OP_INSTANCE_FAILOVER", "OP_INSTANCE_MIGRATE",
                          "OP_INSTANCE_REPLACE_DISKS"])

# Disk space accounting of the allocator protocol: DRBD adds its metadata
# volume to each disk; diskless and block devices use no cluster space.
DRBD_META_SIZE = 128
_NO_SPACE_TEMPLATES = frozenset([constants.DT_DISKLESS, constants.DT_BLOCK])
_ST_LVM_PV = "lvm-pv"


# --- small helpers -------------------------------------------------------

def _items(*checks):
    """A list of exactly len(checks) elements, element i passing check i."""
    return ht.Check(lambda v: ht.TList(v) and len(v) == len(checks) and
                    all(c(x) for c, x in zip(checks, v)),
                    "[%s]" % ", ".join(c.desc for c in checks))


_NAMES = ht.TListOf(ht.TNonEmptyString)
_OPCODE = ht.Check(lambda v: ht.TDict(v) and v.get("OP_ID") in EVAC_OPCODES,
                   "opcode (one of %s)" % ", ".join(sorted(EVAC_OPCODES)))
# [[moved instance, target group, [nodes]]], [[failed instance, reason]],
# [[opcodes of one job]]
_EVAC_RESULT = _items(
    ht.TListOf(_items(ht.TNonEmptyString, ht.TNonEmptyString, _NAMES)),
    ht.TListOf(_items(ht.TNonEmptyString, ht.TMaybeString)),
    ht.TListOf(ht.TListOf(_OPCODE)))
_MULTI_ALLOC_RESULT = _items(
    ht.TListOf(_items(ht.TNonEmptyString, _NAMES)), _NAMES)


def disk_space_total(disks, disk_template=None):
    """MiB a set of disks takes on a node, as allocators count it.

    ``disks`` are dicts with ``size`` and optionally ``dev_type`` (which
    wins over ``disk_template``).
    """
    total = 0
    for disk in disks or []:
        kind = disk.get("dev_type") or disk_template
        if kind in _NO_SPACE_TEMPLATES:
            continue
        total += int(disk["size"])
        if kind == constants.DT_DRBD8:
            total += DRBD_META_SIZE
    return total


def required_nodes(disk_template):
    """Nodes an instance of the template lives on (2 for DRBD)."""
    return 2 if disk_template in constants.DTS_INT_MIRROR else 1


def _nic_entry(nic):
    """A request NIC: mac, ip, mode, link, network (+ bridge)."""
    entry = dict((key, nic.get(key)) for key in
                 ("mac", "ip", "mode", "link", "network"))
    if "bridge" in nic:
        entry["bridge"] = nic["bridge"]
    elif entry["mode"] == constants.NIC_MODE_BRIDGED:
        entry["bridge"] = entry["link"]
    return entry


def resolve_name(cfg, name):
    """``name`` with "." replaced by the cluster's default allocator."""
    if name == DEFAULT_SHORTCUT:
        return cfg.get_cluster_info().default_iallocator or None
    return name


def check_iallocator_or_node(cfg, op, ialloc_slot, node_slot):
    """Ganeti's CheckIAllocatorOrNode: exactly one of an allocator or a
    node; neither (or "-I .") falls back to the cluster default."""
    node = getattr(op, node_slot, None)
    ialloc = getattr(op, ialloc_slot, None)
    if node == []:
        node = None
    if node is not None and ialloc is not None:
        raise errors.OpPrereqError("Do not specify both, iallocator and"
                                   " node", errors.ECODE_INVAL)
    if (node is None and ialloc is None) or ialloc == DEFAULT_SHORTCUT:
        default = cfg.get_cluster_info().default_iallocator
        if not default:
            raise errors.OpPrereqError(
                "No iallocator or node given and no cluster-wide default"
                " iallocator found; please specify either an iallocator or"
                " a node, or set a cluster-wide default iallocator",
                errors.ECODE_INVAL)
        setattr(op, ialloc_slot, default)


# --- request builders: (config data, parameters) -> request dict --------

def _alloc_request(data, params):
    template = params["disk_template"]
    disks = [{"size": int(d["size"]), "mode": d.get("mode") or "rw",
              "spindles": d.get("spindles")}
             for d in params["disks"] or []]
    request = {
        "name": params["name"],
        "disk_template": template,
        "tags": list(params["tags"] or []),
        "os": params["os"],
        "vcpus": params["vcpus"],
        "memory": params["memory"],
        "spindle_use": params["spindle_use"],
        "disks": disks,
        "disk_space_total": disk_space_total(disks, template),
        "nics": [_nic_entry(nic) for nic in params["nics"] or []],
        "required_nodes": required_nodes(template),
        "hypervisor": params["hypervisor"] or
        _default_hypervisor(data.cluster),
    }
    if params["group_name"] is not None:
        request["group_name"] = params["group_name"]
    return request


def _reloc_request(data, params):
    from ganeti.config import derived
    inst = data.instances.get(params["inst_uuid"])
    if inst is None:
        raise errors.ProgrammerError("Unknown instance '%s'" %
                                     params["inst_uuid"])
    template = derived.instance_disk_template(data, inst)
    if template not in constants.DTS_MIRRORED:
        raise errors.OpPrereqError("Can't relocate non-mirrored instances",
                                   errors.ECODE_INVAL)
    if template in constants.DTS_INT_MIRROR and \
            len(derived.instance_secondary_nodes(data, inst)) != 1:
        raise errors.OpPrereqError("Instance has not exactly one secondary"
                                   " node", errors.ECODE_STATE)
    disks = [{"size": d.size, "dev_type": d.dev_type}
             for d in derived.instance_disks(data, inst)]
    return {
        "name": inst.name,
        "disk_space_total": disk_space_total(disks),
        "required_nodes": 1,
        "relocate_from": [_node_name(data, uuid)
                          for uuid in params["relocate_from"]],
    }


def _evac_request(data, params):
    if params["evac_mode"] not in NODE_EVAC_MODES:
        raise errors.OpPrereqError("Invalid evacuation mode '%s'" %
                                   params["evac_mode"], errors.ECODE_INVAL)
    return {"instances": list(params["instances"]),
            "evac_mode": params["evac_mode"]}


def _evac_params(params):
    return {"ignore-soft-errors": None} if params["ignore_soft_errors"] \
        else {}


def _chg_group_request(data, params):
    return {"instances": list(params["instances"]),
            "target_groups": list(params["target_groups"] or [])}


def _multi_alloc_request(data, params):
    rtype = REQUESTS[MODE_ALLOC]
    return {"instances": [rtype.build(data, rtype.fill(one))
                          for one in params["instances"]]}


def _alloc_secondary_request(data, params):
    return {"name": params["name"]}


def _check_relocation_groups(ial):
    """A relocation keeps the instance in its node group(s)."""
    node_groups = dict((name, node["group"]) for name, node in
                       ial.in_data["nodes"].items())
    groups = ial.in_data["nodegroups"]

    def group_names(node_names):
        uuids = sorted(set(node_groups.get(n) for n in node_names))
        return [groups[u]["name"] if u in groups else str(u) for u in uuids]

    inst = ial.data.instances[ial.params["inst_uuid"]]
    primary = [_node_name(ial.data, inst.primary_node)]
    before = group_names(ial.request["relocate_from"] + primary)
    after = group_names(list(ial.result) + primary)
    if not set(after).issubset(before):
        raise errors.ResultValidationError(
            "Groups of nodes returned by iallocator (%s) differ from"
            " original groups (%s)" % (", ".join(after), ", ".join(before)))


class RequestType(collections.namedtuple(
        "RequestType", "required optional build result extra_params check")):
    """One row of ``REQUESTS``.

    ``required``: parameter names; ``optional``: {name: default};
    ``build(data, params)``: the request dict (without "type");
    ``result``: check of a successful answer's result; ``extra_params``:
    params -> allocator command line parameters; ``check(ial)``: further
    validation needing the whole exchange (or None).
    """

    def fill(self, params):
        """Parameters with defaults; a missing or unknown one is a
        programming error of the caller."""
        missing = [k for k in self.required if k not in params]
        unknown = [k for k in params
                   if k not in self.required and k not in self.optional]
        if missing or unknown:
            raise errors.ProgrammerError(
                "Invalid iallocator request parameters: missing %s,"
                " unknown %s" % (missing, unknown))
        result = dict(self.optional)
        result.update(params)
        return result


def _no_params(params):
    return {}


REQUESTS = {
    MODE_ALLOC: RequestType(
        ("name", "memory", "disks", "disk_template", "os", "tags", "nics",
         "vcpus", "hypervisor"),
        {"spindle_use": 1, "group_name": None},
        _alloc_request, _NAMES, _no_params, None),
    MODE_RELOC: RequestType(
        ("inst_uuid", "relocate_from"), {},
        _reloc_request, _NAMES, _no_params, _check_relocation_groups),
    MODE_NODE_EVAC: RequestType(
        ("instances", "evac_mode"), {"ignore_soft_errors": False},
        _evac_request, _EVAC_RESULT, _evac_params, None),
    MODE_CHG_GROUP: RequestType(
        ("instances", "target_groups"), {},
        _chg_group_request, _EVAC_RESULT, _no_params, None),
    MODE_MULTI_ALLOC: RequestType(
        ("instances",), {},
        _multi_alloc_request, _MULTI_ALLOC_RESULT, _no_params, None),
    MODE_ALLOC_SECONDARY: RequestType(
        ("name",), {},
        _alloc_secondary_request, ht.TNonEmptyString, _no_params, None),
}


# --- the cluster part of the message -------------------------------------

def _default_hypervisor(cluster):
    from ganeti.config import derived   # not at import: gnt-debug loads us
    return derived.default_hypervisor(cluster)


def _node_name(data, uuid):
    node = data.nodes.get(uuid)
    return node.name if node is not None else uuid


def _is_live(node):
    """Whether the message carries the node's dynamic figures.

    Drained nodes carry them too: Ganeti's protocol text says "online,
    undrained", but htools (hail 3.0) reads them for every online,
    vm_capable node and rejects a message where a drained node lacks
    them (it marks drained nodes unusable itself).
    """
    return not node.offline and node.vm_capable


def _group_entry(cluster, group):
    return {
        "name": group.name,
        "alloc_policy": group.alloc_policy or "preferred",
        "networks": sorted((group.networks or {}).keys()),
        "ipolicy": cluster.fill_ipolicy(group),
        "tags": list(group.tags or []),
    }


def _node_static(data, node):
    from ganeti.config import derived
    offline = node.offline
    return {
        "tags": list(node.tags or []),
        "primary_ip": node.primary_ip,
        "secondary_ip": node.secondary_ip,
        "offline": bool(offline),
        "drained": bool(node.drained),
        "master_candidate": bool(node.master_candidate),
        "group": node.group,
        "master_capable": bool(node.master_capable),
        "vm_capable": bool(node.vm_capable),
        "ndparams": derived.filled_node_ndparams(data, node),
    }


def _hv_value(node_name, hv_info, key):
    value = hv_info.get(key) if isinstance(hv_info, dict) else None
    if value is None:
        raise errors.OpExecError("Node '%s' didn't return attribute '%s'" %
                                 (node_name, key))
    try:
        return int(value)
    except (TypeError, ValueError) as err:
        raise errors.OpExecError("Node '%s' returned invalid value for '%s':"
                                 " %s" % (node_name, key, err))


def _storage_figures(space_info):
    """(total_disk, free_disk, total_spindles, free_spindles) from a
    ``node_info`` storage list: disk from the first non-PV unit (the
    first enabled template's), spindles from an LVM PV entry."""
    disk = spindles = None
    for entry in space_info or []:
        if not isinstance(entry, dict):
            continue
        if entry.get("type") == _ST_LVM_PV:
            spindles = spindles or entry
        elif disk is None:
            disk = entry

    def get(entry, key):
        value = entry.get(key) if entry is not None else None
        return int(value) if isinstance(value, (int, float)) else 0
    return (get(disk, "storage_size"), get(disk, "storage_free"),
            get(spindles, "storage_size"), get(spindles, "storage_free"))


def _node_dynamic(data, node, live):
    """Memory, disk and CPU figures of a live node.

    ``live`` is (node_info payload, {instance name: info} running there).
    Free memory is lowered by what admin-up instances that are not using
    their full memory (or are not running) may still claim.
    """
    node_payload, running = live
    _, space_info, hv_list = node_payload
    hv_info = hv_list[0] if hv_list else {}
    mem_free = _hv_value(node.name, hv_info, "memory_free")
    pri_mem = pri_up_mem = 0
    for inst in data.instances.values():
        if inst.primary_node != node.uuid:
            continue
        maxmem = data.cluster.fill_be(inst.beparams)[constants.BE_MAXMEM]
        pri_mem += maxmem
        if inst.admin_state == constants.ADMINST_UP and \
                not inst.forthcoming:
            used = int((running.get(inst.name) or {}).get("memory", 0))
            mem_free -= max(0, maxmem - used)
            pri_up_mem += maxmem
    total_disk, free_disk, total_sp, free_sp = _storage_figures(space_info)
    return {
        "total_memory": _hv_value(node.name, hv_info, "memory_total"),
        "reserved_memory": _hv_value(node.name, hv_info, "memory_dom0"),
        "free_memory": mem_free,
        "total_disk": total_disk,
        "free_disk": free_disk,
        "total_spindles": total_sp,
        "free_spindles": free_sp,
        "total_cpus": _hv_value(node.name, hv_info, "cpu_total"),
        "reserved_cpus": _hv_value(node.name, hv_info, "cpu_dom0"),
        "i_pri_memory": pri_mem,
        "i_pri_up_memory": pri_up_mem,
    }


def _instance_entry(data, inst):
    from ganeti.config import derived
    cluster = data.cluster
    bep = cluster.fill_be(inst.beparams)
    nics = []
    for nic in inst.nics or []:
        params = cluster.fill_nic(nic.nicparams)
        nics.append(_nic_entry({
            "mac": nic.mac, "ip": nic.ip, "network": nic.network,
            "mode": params.get(constants.NIC_MODE),
            "link": params.get(constants.NIC_LINK)}))
    disks = [{"size": d.size, "mode": d.mode, "spindles": d.spindles,
              "dev_type": d.dev_type}
             for d in derived.instance_disks(data, inst)]
    return {
        "tags": list(inst.tags or []),
        "admin_state": inst.admin_state,
        "vcpus": bep[constants.BE_VCPUS],
        "memory": bep[constants.BE_MAXMEM],
        "spindle_use": bep[constants.BE_SPINDLE_USE],
        "os": inst.os,
        "nodes": [_node_name(data, u) for u in
                  derived.instance_all_nodes(data, inst)],
        "nics": nics,
        "disks": disks,
        "disk_space_total": disk_space_total(disks),
        "disk_template": derived.instance_disk_template(data, inst),
        "disks_active": bool(inst.disks_active),
        "hypervisor": inst.hypervisor,
    }


def build_input(data, mode, request, live, node_whitelist=None):
    """The whole input message.

    ``data``: a config snapshot (objects.ConfigData); ``live``: {node
    uuid: (node_info payload, running instances info)} for every node
    that is live (see ``live_node_uuids``). ``node_whitelist`` (node
    uuids; opportunistic locking) becomes the allocate request's
    ``restrict-to-nodes``, as upstream: the other nodes stay in the
    message with their figures, so cluster-wide capacity is not
    underestimated.
    """
    cluster = data.cluster
    nodes = {}
    for node in data.nodes.values():
        entry = _node_static(data, node)
        if not entry["offline"] and _is_live(node):
            if node.uuid not in live:
                raise errors.ProgrammerError("No live data for node %s" %
                                             node.name)
            entry.update(_node_dynamic(data, node, live[node.uuid]))
        nodes[node.name] = entry
    request = dict(request)
    request["type"] = mode
    if node_whitelist is not None and mode == MODE_ALLOC:
        request["restrict-to-nodes"] = sorted(
            data.nodes[uuid].name for uuid in node_whitelist
            if uuid in data.nodes)
    return {
        "version": IALLOCATOR_VERSION,
        "cluster_name": cluster.cluster_name,
        "cluster_tags": list(cluster.tags or []),
        "enabled_hypervisors": list(cluster.enabled_hypervisors or []),
        "ipolicy": cluster.fill_ipolicy(),
        "nodegroups": dict((uuid, _group_entry(cluster, group))
                           for uuid, group in data.nodegroups.items()),
        "nodes": nodes,
        "instances": dict((inst.name, _instance_entry(data, inst))
                          for inst in data.instances.values()),
        "request": request,
    }


def live_node_uuids(data):
    """The nodes whose figures the message needs."""
    return [node.uuid for node in data.nodes.values() if _is_live(node)]


def fetch_live(data, rpc, hypervisor, node_uuids, disk_template=None):
    """{node uuid: (node_info payload, running instances)} from the
    nodes, in two parallel RPCs; a node that does not answer fails the
    request (its figures would be guesses). Disk figures are those of
    ``disk_template``'s storage when it has one, as upstream reports."""
    from ganeti.config import derived
    from ganeti.query.fields_node import storage_units
    cluster = data.cluster
    nodes = [data.nodes[uuid] for uuid in node_uuids]
    if not nodes:
        return {}
    hv_spec = [[hypervisor, cluster.fill_hv(hypervisor)]]
    batches = {}
    for node in nodes:
        units = storage_units(cluster,
                              derived.filled_node_ndparams(data, node),
                              disk_template)
        args = [units, hv_spec]
        batches.setdefault(repr(args), (args, []))[1].append(node.name)
    info = {}
    for args, names in batches.values():
        info.update(rpc.call("node_info", names, args))
    hvs = list(cluster.enabled_hypervisors or [])
    inst_info = rpc.call("all_instances_info", [n.name for n in nodes],
                         [hvs, dict((hv, cluster.fill_hv(hv))
                                    for hv in hvs)])
    result = {}
    for node in nodes:
        res = info[node.name]
        res.raise_on_failure("Can't get data for node %s" % node.name)
        payload = res.payload
        if not isinstance(payload, (list, tuple)) or len(payload) < 3:
            raise errors.OpExecError("Can't get data for node %s: invalid"
                                     " answer %r" % (node.name, payload))
        ires = inst_info[node.name]
        ires.raise_on_failure("Can't get node instance info from node %s" %
                              node.name)
        result[node.uuid] = (payload, ires.payload or {})
    return result


def check_default_allocator(name):
    """A cluster default allocator must exist on the master (init and
    modify run there), as upstream checks."""
    from ganeti.backend.iallocator import find_allocator
    if find_allocator(name) is None:
        raise errors.OpPrereqError("Invalid default iallocator script '%s'"
                                   " specified" % name, errors.ECODE_INVAL)


# --- running it ----------------------------------------------------------

class IAllocator:
    """One allocator exchange: ``in_data``/``in_text`` are built on
    construction; ``run(name)`` fills ``out_text``, ``success``, ``info``
    and ``result``."""

    def __init__(self, cfg, rpc, mode, node_whitelist=None, **params):
        if mode not in REQUESTS:
            raise errors.ProgrammerError("Unknown iallocator mode '%s'" %
                                         mode)
        self.cfg = cfg
        self.rpc = rpc
        self.mode = mode
        self.rtype = REQUESTS[mode]
        self.params = self.rtype.fill(params)
        self.data = cfg.get_config_snapshot()
        self.request = self.rtype.build(self.data, self.params)
        hypervisor = self.request.get("hypervisor") or \
            _default_hypervisor(self.data.cluster)
        whitelist = set(node_whitelist) if node_whitelist is not None \
            else None
        live = fetch_live(self.data, rpc, hypervisor,
                          live_node_uuids(self.data),
                          self._disk_template())
        self.in_data = build_input(self.data, mode, self.request, live,
                                   whitelist)
        self.in_text = serializer.dump_json(self.in_data)
        self.out_text = None
        self.out_data = None
        self.success = self.info = self.result = None

    def _disk_template(self):
        """The template whose storage the node figures describe: the new
        instance's, or the instance's being moved (None: the first)."""
        from ganeti.config import derived
        template = self.request.get("disk_template")
        if template is None and "name" in self.request:
            for inst in self.data.instances.values():
                if inst.name == self.request["name"]:
                    return derived.instance_disk_template(self.data, inst)
        return template

    def allocator_params(self):
        """Command line parameters: the cluster's defaults, then the
        request's own."""
        params = dict(self.data.cluster.default_iallocator_params or {})
        params.update(self.rtype.extra_params(self.params))
        return params

    def run(self, name, validate=True):
        master = _node_name(self.data, self.data.cluster.master_node)
        result = self.rpc.call_single(
            "iallocator_runner", master,
            [name, self.in_text, self.allocator_params()])
        result.raise_on_failure("Failure while running the iallocator"
                                " script")
        self.out_text = result.payload
        if validate:
            self.validate_result()

    def validate_result(self):
        """Parse ``out_text``; raises OpExecError for a malformed answer
        and ResultValidationError for a wrong ``result``."""
        (self.success, self.info, self.result,
         self.out_data) = parse_response(self.out_text, self.rtype.result)
        if self.success and self.rtype.check is not None:
            self.rtype.check(self)


def parse_response(text, result_check):
    """(success, info, result, response dict) of an allocator's answer."""
    try:
        rdict = serializer.load_json(text)
    except (ValueError, TypeError) as err:
        raise errors.OpExecError("Can't parse iallocator results: %s" % err)
    if not isinstance(rdict, dict):
        raise errors.OpExecError("Can't parse iallocator results: not a"
                                 " dict")
    # allocators older than Ganeti 2.1 answer "nodes"
    if "nodes" in rdict and "result" not in rdict:
        rdict["result"] = rdict.pop("nodes")
    for key in ("success", "info", "result"):
        if key not in rdict:
            raise errors.OpExecError("Can't parse iallocator results:"
                                     " missing key '%s'" % key)
    success = bool(rdict["success"])
    if success and not result_check(rdict["result"]):
        raise errors.ResultValidationError(
            "iallocator returned invalid result, expected %s, got %s" %
            (result_check.desc, rdict["result"]))
    return success, rdict["info"], rdict["result"], rdict


def allocate(lu, allocator, mode, what="nodes", node_whitelist=None,
             **params):
    """Run ``allocator`` for an LU (``params``: the request's, see
    ``REQUESTS``); a refusal becomes Ganeti's "Can't compute <what> using
    iallocator" prerequisite error."""
    ial = IAllocator(lu.cfg, lu.rpc, mode, node_whitelist=node_whitelist,
                     **params)
    ial.run(allocator)
    if not ial.success:
        raise errors.OpPrereqError("Can't compute %s using iallocator '%s':"
                                   " %s" % (what, allocator, ial.info),
                                   errors.ECODE_NORES)
    return ial
