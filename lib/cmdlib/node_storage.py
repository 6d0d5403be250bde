"""Storage units and volumes of nodes: list, modify, repair.

The data are the nodes' own (``storage_list``, ``node_volumes`` RPCs run in
parallel); the master adds what only it knows (node name, storage type,
the instance owning a volume) and sorts the rows. Which storage types can
be listed, modified or repaired is declared in ``constants``
(``STS_REPORT_NODE_STORAGE``, ``MODIFIABLE_STORAGE_FIELDS``,
``VALID_STORAGE_OPERATIONS``).
"""

from ganeti import constants
from ganeti import errors
from ganeti.cmdlib import base
from ganeti.cmdlib import node as node_lu
from ganeti.utils import text as text_utils

_VOLUME_FIELDS = frozenset([constants.VF_NODE, constants.VF_PHYS,
                            constants.VF_VG, constants.VF_NAME,
                            constants.VF_SIZE, constants.VF_INSTANCE])


def check_output_fields(valid, selected):
    unknown = [field for field in selected if field not in valid]
    if unknown:
        raise errors.OpPrereqError("Unknown output fields selected: %s" %
                                   ",".join(unknown), errors.ECODE_INVAL)


def wanted_nodes(lu, names):
    """(uuids, names) of the named nodes, or of all nodes."""
    if names:
        pairs = [node_lu.expand_node_name(lu.cfg, name) for name in names]
    else:
        pairs = [(uuid, lu.cfg.get_node_name(uuid))
                 for uuid in lu.cfg.get_node_list()]
    return [u for u, _ in pairs], [n for _, n in pairs]


def storage_type_args(cfg, storage_type):
    """The arguments a node needs to list a storage type (its paths)."""
    if storage_type == constants.ST_FILE:
        return [[cfg.get_file_storage_dir()]]
    if storage_type == constants.ST_SHARED_FILE:
        enabled = cfg.get_enabled_disk_templates()
        paths = []
        if constants.DT_SHARED_FILE in enabled:
            paths.append(cfg.get_shared_file_storage_dir())
        if constants.DT_GLUSTER in enabled:
            paths.append(cfg.get_gluster_storage_dir())
        return [paths]
    return []


def check_storage_type_enabled(cfg, storage_type):
    """Some enabled disk template must use ``storage_type`` (lvm-pv counts
    as enabled when lvm-vg is). Like Ganeti, the error has no error type."""
    if storage_type not in constants.STORAGE_TYPES:
        raise errors.OpPrereqError("Unknown storage type: %s" % storage_type,
                                   errors.ECODE_INVAL)
    if storage_type == constants.ST_LVM_PV:
        return check_storage_type_enabled(cfg, constants.ST_LVM_VG)
    enabled = cfg.get_enabled_disk_templates()
    for template, stype in constants.MAP_DISK_TEMPLATE_STORAGE_TYPE.items():
        if stype == storage_type and template in enabled:
            return None
    raise errors.OpPrereqError("No disk template of storage type '%s' is"
                               " enabled in this cluster. Enabled disk"
                               " templates are: %s" %
                               (storage_type, ",".join(enabled)))


def default_storage_type(cfg):
    """The storage type of the first enabled disk template."""
    enabled = cfg.get_enabled_disk_templates()
    if not enabled:
        return None
    return constants.MAP_DISK_TEMPLATE_STORAGE_TYPE.get(enabled[0])


def instance_lvs_by_node(cfg):
    """{(node uuid, "vg/lv"): instance name} for every logical volume."""
    result = {}

    def walk(disk, nodes, inst_name):
        if disk.dev_type == constants.DT_DRBD8 and disk.logical_id:
            nodes = list(disk.logical_id[:2])
        elif disk.nodes:
            nodes = list(disk.nodes)
        if disk.dev_type == constants.DT_PLAIN and disk.logical_id:
            volume = "%s/%s" % tuple(disk.logical_id[:2])
            for node in nodes:
                result[(node, volume)] = inst_name
        for child in disk.children or []:
            walk(child, nodes, inst_name)

    for inst_uuid, inst in cfg.get_all_instances_info().items():
        nodes = cfg.get_instance_all_nodes(inst_uuid)
        for disk in cfg.get_instance_disks(inst_uuid):
            walk(disk, nodes, inst.name)
    return result


class _NodesQueryLU(base.NoHooksLU):
    """Shared node locks on the named nodes (or all)."""

    NODES_PARAM = "nodes"

    def expand_names(self):
        self.node_uuids, self.node_names = wanted_nodes(
            self, getattr(self.op, self.NODES_PARAM))
        all_nodes = not getattr(self.op, self.NODES_PARAM)
        self.needed_locks[constants.LOCKS_NODE] = \
            base.ALL_SET if all_nodes else list(self.node_uuids)
        self.share_locks[constants.LOCKS_NODE] = 1

    def _sorted_names(self):
        return text_utils.nice_sort(self.node_names)

    def _node_payloads(self, procedure, args, failure):
        """``(node name, payload)`` of the nodes that answered
        ``procedure``, in name order; offline nodes are skipped, failed
        ones too after a warning (``failure`` % (node, message))."""
        names = self._sorted_names()
        results = self.rpc.call(procedure, names, args)
        for name in names:
            nresult = results[name]
            if nresult.offline:
                continue
            if nresult.fail_msg:
                self.log_warning(failure, name, nresult.fail_msg)
                continue
            yield name, nresult.payload


# --- OP_NODE_QUERYVOLS ---

class LUNodeQueryvols(_NodesQueryLU):
    """Logical volumes of nodes (``gnt-node volumes``); values as text."""

    def check_arguments(self):
        check_output_fields(_VOLUME_FIELDS, self.op.output_fields)

    def exec_(self, feedback_fn):
        owners = instance_lvs_by_node(self.cfg)
        output = []
        for name, payload in self._node_payloads(
                "node_volumes", [], "Can't compute volume data on node %s:"
                " %s"):
            node_uuid = self.cfg.get_node_info_by_name(name).uuid
            for vol in sorted(payload or [],
                              key=lambda v: v[constants.VF_DEV]):
                row = []
                for field in self.op.output_fields:
                    if field == constants.VF_NODE:
                        value = name
                    elif field == constants.VF_PHYS:
                        value = vol[constants.VF_DEV]
                    elif field == constants.VF_SIZE:
                        value = int(float(vol[constants.VF_SIZE]))
                    elif field == constants.VF_INSTANCE:
                        value = owners.get(
                            (node_uuid, "%s/%s" % (vol[constants.VF_VG],
                                                   vol[constants.VF_NAME])),
                            "-")
                    else:
                        value = vol[field]
                    row.append(str(value))
                output.append(row)
        return output


# --- OP_NODE_QUERY_STORAGE ---

class LUNodeQueryStorage(_NodesQueryLU):
    """Storage units of one type on nodes (``gnt-node list-storage``)."""

    def check_arguments(self):
        check_output_fields(constants.VALID_STORAGE_FIELDS,
                            self.op.output_fields)

    def check_prereq(self):
        if self.op.storage_type:
            check_storage_type_enabled(self.cfg, self.op.storage_type)
            self.storage_type = self.op.storage_type
            return
        self.storage_type = default_storage_type(self.cfg)
        supported = constants.STS_REPORT_NODE_STORAGE
        if self.storage_type not in supported:
            raise errors.OpPrereqError(
                "Storage reporting for storage type '%s' is not supported."
                " Please use the --storage-type option to specify one of the"
                " supported storage types (%s) or set the default disk"
                " template to one that supports storage reporting." %
                (self.storage_type, ", ".join(supported)))

    def exec_(self, feedback_fn):
        wanted = list(self.op.output_fields)
        # the name is always asked for (rows are sorted by it); node and
        # type are known only here
        fields = [f for f in ([constants.SF_NAME] + wanted)
                  if f not in (constants.SF_NODE, constants.SF_TYPE)]
        fields = [f for i, f in enumerate(fields) if f not in fields[:i]]
        index = dict((f, i) for i, f in enumerate(fields))
        args = [self.storage_type,
                storage_type_args(self.cfg, self.storage_type),
                self.op.name, fields]
        output = []
        for name, payload in self._node_payloads(
                "storage_list", args, "Can't get storage data from node %s:"
                " %s"):
            rows = dict((row[index[constants.SF_NAME]], row)
                        for row in payload or [])
            for unit in text_utils.nice_sort(rows):
                row = rows[unit]
                out = []
                for field in wanted:
                    if field == constants.SF_NODE:
                        out.append(name)
                    elif field == constants.SF_TYPE:
                        out.append(self.storage_type)
                    else:
                        out.append(row[index[field]])
                output.append(out)
        return output


# --- OP_NODE_MODIFY_STORAGE / OP_REPAIR_NODE_STORAGE ---

class _OneUnitLU(base.NoHooksLU):
    """A storage unit of one node, with that node's lock."""

    def expand_names(self):
        self.node_uuid, self.op.node_name = node_lu.expand_node_name(
            self.cfg, self.op.node_name)
        self.needed_locks[constants.LOCKS_NODE] = [self.node_uuid]

    def check_prereq(self):
        check_storage_type_enabled(self.cfg, self.op.storage_type)
        base.check_node_online(self, self.node_uuid)


class LUNodeModifyStorage(_OneUnitLU):
    """Change a storage unit (only LVM PVs: their allocatable flag)."""

    def check_arguments(self):
        storage_type = self.op.storage_type
        modifiable = constants.MODIFIABLE_STORAGE_FIELDS.get(storage_type)
        if modifiable is None:
            raise errors.OpPrereqError("Storage units of type '%s' can not be"
                                       " modified" % storage_type,
                                       errors.ECODE_INVAL)
        if not isinstance(self.op.changes, dict):
            raise errors.OpPrereqError("Parameter 'OP_NODE_MODIFY_STORAGE."
                                       "changes' fails validation: expected"
                                       " a dictionary", errors.ECODE_INVAL)
        diff = sorted(set(self.op.changes) - modifiable)
        if diff:
            raise errors.OpPrereqError("The following fields can not be"
                                       " modified for storage units of type"
                                       " '%s': %r" % (storage_type, diff),
                                       errors.ECODE_INVAL)

    def exec_(self, feedback_fn):
        self.rpc.call_single(
            "storage_modify", self.op.node_name,
            [self.op.storage_type,
             storage_type_args(self.cfg, self.op.storage_type),
             self.op.name, self.op.changes]
        ).raise_on_failure("Failed to modify storage unit '%s' on %s" %
                           (self.op.name, self.op.node_name))
        return None


class LURepairNodeStorage(_OneUnitLU):
    """Repair a storage unit (only LVM VGs: drop missing PVs)."""

    def check_arguments(self):
        operations = constants.VALID_STORAGE_OPERATIONS.get(
            self.op.storage_type, frozenset())
        if constants.SO_FIX_CONSISTENCY not in operations:
            raise errors.OpPrereqError("Storage units of type '%s' can not be"
                                       " repaired" % self.op.storage_type,
                                       errors.ECODE_INVAL)

    def exec_(self, feedback_fn):
        feedback_fn("Repairing storage unit '%s' on %s ..." %
                    (self.op.name, self.op.node_name))
        self.rpc.call_single(
            "storage_execute", self.op.node_name,
            [self.op.storage_type,
             storage_type_args(self.cfg, self.op.storage_type),
             self.op.name, constants.SO_FIX_CONSISTENCY]
        ).raise_on_failure("Failed to repair storage unit '%s' on %s" %
                           (self.op.name, self.op.node_name))
        return None
