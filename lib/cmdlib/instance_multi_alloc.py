"""OP_INSTANCE_MULTI_ALLOC: create several instances, placed together.

``gnt-instance batch-create`` and RAPI ``POST /2/instances-multi-alloc``
send one opcode holding a list of OP_INSTANCE_CREATE opcodes. The LU
does not create anything itself: it decides where each instance goes and
submits one OP_INSTANCE_CREATE job per instance (``ResultWithJobs``), so
the instances are created in parallel and one failure does not stop the
others.

Either every instance names its node(s) (``pnode``, and ``snode`` for
DRBD) or none does. Without nodes the instance allocator (the opcode's
``iallocator`` or the cluster default) is asked once, with a
``multi-allocate`` request: placing the instances together lets it
spread them, where one ``allocate`` per instance would see the cluster
without the others. Instances it cannot place get no job; the result
lists them under ``failed`` next to the ``allocatable`` ones and the
``jobs``.
"""

from ganeti import constants
from ganeti import errors
from ganeti import iallocator
from ganeti.cmdlib import base
from ganeti.cmdlib import instance_create as ic

# Result keys next to "jobs" (Ganeti's ALLOCATABLE_KEY and FAILED_KEY)
ALLOCATABLE_KEY = "allocatable"
FAILED_KEY = "failed"

_CREATE = "OP_INSTANCE_CREATE"
_PARAM = "OP_INSTANCE_MULTI_ALLOC.instances"


def _inval(msg):
    return errors.OpPrereqError(msg, errors.ECODE_INVAL)


def load_create_opcodes(instances):
    """The validated OP_INSTANCE_CREATE opcodes of the ``instances``
    parameter: wire dicts (jobs, RAPI) or opcode objects (callers in the
    master)."""
    from ganeti import opcodes
    if not isinstance(instances, list):
        raise _inval("Parameter '%s' fails validation: expected a list of"
                     " %s opcodes, got %r" % (_PARAM, _CREATE, instances))
    result = []
    for item in instances:
        if isinstance(item, dict) and item.get("OP_ID") == _CREATE:
            item = opcodes.OpCode.from_dict(item)
        if not (isinstance(item, opcodes.OpCode) and item.OP_ID == _CREATE):
            raise _inval("Parameter '%s' fails validation: expected a list"
                         " of %s opcodes, got %r" % (_PARAM, _CREATE, item))
        item.validate()
        result.append(item)
    return result


def filled_beparams(cluster, beparams):
    """Backend parameters as the instance would get them (``memory``
    sets both limits), as OP_INSTANCE_CREATE computes them."""
    from ganeti import cli_opts
    bep = dict(beparams or {})
    cli_opts.force_dict_type(bep, cli_opts.BES_PARAMETER_COMPAT)
    return cluster.fill_be(bep)


def _request_nic(cluster, nic):
    """One NIC of an allocate request: mac ("auto" until created), ip,
    mode and link filled from the cluster's NIC parameters."""
    if not isinstance(nic, dict):
        raise _inval("Invalid NIC specification '%s'" % (nic,))
    params = dict((key, nic[key]) for key in
                  (constants.NIC_MODE, constants.NIC_LINK)
                  if nic.get(key) is not None)
    filled = cluster.fill_nic(params)
    ip = nic.get("ip")
    if ip is not None and str(ip).lower() == ic.VALUE_NONE:
        ip = None
    return {"mac": nic.get("mac") or ic.VALUE_AUTO, "ip": ip,
            "network": None, "mode": filled[constants.NIC_MODE],
            "link": filled[constants.NIC_LINK]}


def alloc_request(cluster, op):
    """The ``allocate`` part of a multi-allocate request for one create
    opcode (Ganeti's CreateInstanceAllocRequest): the defaults the
    instance will get (first enabled template and hypervisor, filled
    backend and NIC parameters), so the allocator sizes what is made."""
    templates = cluster.enabled_disk_templates or [constants.DT_DISKLESS]
    hypervisors = cluster.enabled_hypervisors or [None]
    bep = filled_beparams(cluster, op.beparams)
    return {
        "name": op.instance_name,
        "disk_template": op.disk_template or templates[0],
        "disks": ic.compute_disks(op.disks),
        "os": op.os_type,
        "tags": list(op.tags or []),
        "nics": [_request_nic(cluster, nic) for nic in op.nics or []],
        "vcpus": bep[constants.BE_VCPUS],
        "memory": bep[constants.BE_MAXMEM],
        "spindle_use": bep[constants.BE_SPINDLE_USE],
        "hypervisor": op.hypervisor or hypervisors[0],
        "group_name": op.group_name,
    }


class LUInstanceMultiAlloc(base.NoHooksLU):
    """Place a batch of new instances and submit their creation jobs."""

    def check_arguments(self):
        op = self.op
        self.create_ops = load_create_opcodes(op.instances)
        has_node = []
        for inst in self.create_ops:
            if inst.iallocator is not None:
                raise _inval("iallocator are not allowed to be set on"
                             " instance objects")
            has_node.append(bool(inst.pnode))
            if inst.disk_template in constants.DTS_INT_MIRROR:
                has_node.append(bool(inst.snode))
        any_nodes = any(has_node)
        # as in Ganeti, an empty list falls here too (all([]) is True)
        if all(has_node) ^ any_nodes:
            raise _inval("There are instance objects providing pnode/snode"
                         " while others do not")
        if op.iallocator is not None:
            op.iallocator = iallocator.resolve_name(self.cfg, op.iallocator)
        if not any_nodes and op.iallocator is None:
            default = self.cfg.get_cluster_info().default_iallocator
            if not default:
                raise _inval("No iallocator or nodes on the instances given"
                             " and no cluster-wide default iallocator"
                             " found; please specify either an iallocator"
                             " or nodes on the instances or set a"
                             " cluster-wide default iallocator")
            op.iallocator = default
        if op.opportunistic_locking and not op.iallocator:
            raise _inval("Opportunistic locking is only available in"
                         " combination with an instance allocator")
        seen, dups = set(), set()
        for inst in self.create_ops:
            (dups if inst.instance_name in seen else seen).add(
                inst.instance_name)
        if dups:
            raise _inval("There are duplicate instance names: %s" %
                         ", ".join(sorted(dups)))

    def expand_names(self):
        self.share_locks[constants.LOCKS_NODE] = 1
        self.share_locks[constants.LOCKS_NODE_RES] = 1
        if self.op.iallocator:
            # the allocator sees, and may pick, every node
            self.needed_locks[constants.LOCKS_NODE] = base.ALL_SET
            self.needed_locks[constants.LOCKS_NODE_RES] = base.ALL_SET
            return
        uuids = []
        for inst in self.create_ops:
            inst.pnode_uuid, inst.pnode = base.expand_node_name(self.cfg,
                                                                inst.pnode)
            uuids.append(inst.pnode_uuid)
            if inst.snode is not None:
                inst.snode_uuid, inst.snode = base.expand_node_name(
                    self.cfg, inst.snode)
                uuids.append(inst.snode_uuid)
        self.needed_locks[constants.LOCKS_NODE] = uuids
        self.needed_locks[constants.LOCKS_NODE_RES] = list(uuids)

    def check_prereq(self):
        self.placed = None
        self.unplaced = []
        if self.op.iallocator:
            self._allocate()
        if self.op.dry_run:
            result = self._partial_result()
            result["jobs"] = []
            self.dry_run_result = result

    def _allocate(self):
        """One multi-allocate request for every instance; ``placed``
        becomes [(create opcode, [(node uuid, node name), ...])]."""
        whitelist = None
        if self.op.opportunistic_locking:
            whitelist = (set(self.owned(constants.LOCKS_NODE)) &
                         set(self.owned(constants.LOCKS_NODE_RES)))
        cluster = self.cfg.get_cluster_info()
        requests = [alloc_request(cluster, inst) for inst in self.create_ops]
        ial = iallocator.allocate(self, self.op.iallocator,
                                  iallocator.MODE_MULTI_ALLOC,
                                  node_whitelist=whitelist,
                                  instances=requests)
        allocatable, failed = ial.result
        wanted = dict((req["name"], req) for req in requests)
        by_name = dict((inst.instance_name, inst)
                       for inst in self.create_ops)
        placed = []
        for name, node_names in allocatable:
            request = wanted.pop(name, None)
            if request is None:
                raise errors.OpExecError(
                    "Iallocator returned an unknown or repeated instance"
                    " '%s'" % name)
            needed = iallocator.required_nodes(request["disk_template"])
            if len(node_names) < needed:
                raise errors.OpExecError(
                    "Iallocator returned %d node(s) for instance %s, %d"
                    " needed" % (len(node_names), name, needed))
            nodes = [base.expand_node_name(self.cfg, node)
                     for node in node_names[:needed]]
            placed.append((by_name[name], nodes))
        missing = sorted(set(wanted) - set(failed))
        if missing:
            raise errors.OpExecError("Iallocator did return incomplete"
                                     " result: %s" % ", ".join(missing))
        self.placed = placed
        self.unplaced = [name for name in failed if name in by_name]
        # said before anything is submitted, so a dry run shows it too
        for inst, nodes in placed:
            self.log_info("Selected nodes for instance %s via iallocator %s:"
                          " %s", inst.instance_name, self.op.iallocator,
                          ", ".join(name for _, name in nodes))
        if self.unplaced:
            self.log_warning("Iallocator %s could not place instance(s) %s",
                             self.op.iallocator, ", ".join(self.unplaced))

    def _partial_result(self):
        if self.placed is None:
            allocatable = [inst.instance_name for inst in self.create_ops]
        else:
            allocatable = [inst.instance_name for inst, _ in self.placed]
        return {ALLOCATABLE_KEY: allocatable, FAILED_KEY: list(self.unplaced)}

    def _child(self, inst):
        """A create opcode ready for its own job: no allocator left and
        the batch's priority unless it has its own."""
        inst.iallocator = None
        if inst.priority == constants.OP_PRIO_DEFAULT:
            inst.priority = self.op.priority
        return inst

    def exec_(self, feedback_fn):
        if self.placed is None:
            jobs = [[self._child(inst)] for inst in self.create_ops]
        else:
            jobs = []
            for inst, nodes in self.placed:
                inst.pnode_uuid, inst.pnode = nodes[0]
                if len(nodes) > 1:
                    inst.snode_uuid, inst.snode = nodes[1]
                jobs.append([self._child(inst)])
        return base.ResultWithJobs(jobs, **self._partial_result())
