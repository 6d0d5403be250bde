"""Node groups: add, remove, rename, change parameters, assign nodes.

A group carries node parameters, disk parameters, an instance policy and
an allocation policy that override the cluster's for its nodes. Every
node belongs to exactly one group; a group can only be removed once it is
empty and is not the last one. Moving nodes between groups is refused
when it would split an instance with internally mirrored disks (DRBD)
across groups, unless forced.

The helpers at the top (parameter merging, instance policy updates, hv/disk
state checks) follow Ganeti's rules and texts so that scripts see the same
errors.
"""

import copy

from ganeti import bootstrap
from ganeti import constants
from ganeti import errors
from ganeti import objects
from ganeti.cmdlib import base
from ganeti.cmdlib import node as node_lu
from ganeti.utils import text as text_utils

VALUE_DEFAULT = "default"
IPOLICY_MINMAX = "minmax"
IPOLICY_STD = "std"
IPOLICY_DTS = "disk-templates"
IPOLICY_PARAMETERS = frozenset(["vcpu-ratio", "spindle-ratio"])
IPOLICY_ALL_KEYS = frozenset([IPOLICY_MINMAX, IPOLICY_STD, IPOLICY_DTS]) | \
    IPOLICY_PARAMETERS
ISPECS_PARAMETERS = frozenset(constants.ISPECS_MIN_DEFAULTS)


# --- parameter helpers ---

def updated_params(old, changes, use_default=True, use_none=False):
    """``old`` with ``changes`` applied; "default" (or None when
    ``use_none``) removes a key so that the inherited value applies."""
    result = copy.deepcopy(old or {})
    for key, value in (changes or {}).items():
        if (use_default and value == VALUE_DEFAULT) or \
                (use_none and value is None):
            result.pop(key, None)
        else:
            result[key] = value
    return result


def _coerce(value, kind):
    """A CLI string converted to ``kind``; other values as they are."""
    if not isinstance(value, str):
        return value
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        if value.lower() in ("true", "yes"):
            return True
        if value.lower() in ("false", "no"):
            return False
        raise ValueError(value)
    return value


def force_types(params, types, kind):
    """Convert string values to the declared types and check them;
    OpPrereqError for unknown keys or bad values."""
    result = {}
    for key, value in params.items():
        if key not in types:
            raise errors.OpPrereqError("Unknown %s parameter '%s'" %
                                       (kind, key), errors.ECODE_INVAL)
        try:
            result[key] = _coerce(value, types[key])
        except ValueError:
            raise errors.OpPrereqError(
                "Invalid value for %s parameter '%s': %r" %
                (kind, key, value), errors.ECODE_INVAL)
    bootstrap.check_param_types(result, types, kind)
    return result


def _types_of(defaults):
    kinds = {bool: "bool", int: "int", float: "float"}
    return dict((key, kinds.get(type(value), "string"))
                for key, value in defaults.items())


def check_ndparams(ndparams):
    """Node parameters: known keys, typed values ("default" allowed)."""
    values = dict((k, v) for k, v in ndparams.items()
                  if v != VALUE_DEFAULT)
    values = force_types(values, constants.NDS_PARAMETER_TYPES, "node")
    result = dict(ndparams)
    result.update(values)
    return result


def merged_diskparams(old, changes):
    """Group disk parameters after ``changes`` ({template: {param: v}})."""
    result = copy.deepcopy(old or {})
    for template, values in (changes or {}).items():
        defaults = constants.DISK_DT_DEFAULTS.get(template)
        if defaults is None:
            raise errors.OpPrereqError(
                "While verify diskparams options: Unknown disk template"
                " '%s'" % template, errors.ECODE_INVAL)
        if not isinstance(values, dict):
            raise errors.OpPrereqError(
                "While verify diskparams options: Invalid parameters for"
                " disk template '%s': %r" % (template, values),
                errors.ECODE_INVAL)
        new = updated_params(result.get(template, {}), values)
        try:
            new = force_types(new, _types_of(defaults),
                              "disk template %s" % template)
        except errors.OpPrereqError as err:
            raise errors.OpPrereqError("While verify diskparams options: %s"
                                       % err.args[0], errors.ECODE_INVAL)
        result[template] = new
    return result


def merged_hv_state(changes, old):
    """Static hypervisor state after ``changes`` ({hv: {param: value}})."""
    invalid = sorted(set(changes) - set(constants.HYPER_TYPES))
    if invalid:
        raise errors.OpPrereqError("Invalid hypervisor(s) in hypervisor"
                                   " state: %s" % ", ".join(invalid),
                                   errors.ECODE_INVAL)
    result = copy.deepcopy(old or {})
    for hv_name, values in changes.items():
        new = updated_params(result.get(hv_name, {}), values or {})
        result[hv_name] = force_types(new, constants.HVSTS_PARAMETER_TYPES,
                                      "hypervisor state")
    return result


def merged_disk_state(changes, old):
    """Static disk state after ``changes`` ({type: {id: {param: v}}})."""
    invalid = sorted(set(changes) - set(constants.DS_VALID_TYPES))
    if invalid:
        raise errors.OpPrereqError("Invalid storage type(s) in disk state:"
                                   " %s" % ", ".join(invalid),
                                   errors.ECODE_INVAL)
    result = copy.deepcopy(old or {})
    for storage_type, units in changes.items():
        current = result.setdefault(storage_type, {})
        for unit, values in (units or {}).items():
            new = updated_params(current.get(unit, {}), values or {})
            current[unit] = force_types(new, constants.DSS_PARAMETER_TYPES,
                                        "disk state")
    return result


def _check_ispecs(specs, what):
    if not isinstance(specs, dict):
        raise errors.OpPrereqError("Invalid instance policy: %s specs must"
                                   " be a dictionary" % what,
                                   errors.ECODE_INVAL)
    unknown = sorted(set(specs) - ISPECS_PARAMETERS)
    if unknown:
        raise errors.OpPrereqError("Invalid instance policy: unknown %s"
                                   " specs %s" % (what, ", ".join(unknown)),
                                   errors.ECODE_INVAL)
    return force_types(specs, dict.fromkeys(specs, "int"), "ispecs")


def check_minmax(minmax):
    """Instance spec bounds: a non-empty list of complete min/max pairs
    with min <= max."""
    if not isinstance(minmax, list) or not minmax:
        raise errors.OpPrereqError("Invalid instance policy: minmax must be"
                                   " a non-empty list", errors.ECODE_INVAL)
    result = []
    for pair in minmax:
        if not isinstance(pair, dict) or set(pair) != set(["min", "max"]):
            raise errors.OpPrereqError("Invalid instance policy: each minmax"
                                       " entry needs exactly min and max",
                                       errors.ECODE_INVAL)
        low = _check_ispecs(pair["min"], "min")
        high = _check_ispecs(pair["max"], "max")
        if set(low) != ISPECS_PARAMETERS or set(high) != ISPECS_PARAMETERS:
            missing = sorted((ISPECS_PARAMETERS - set(low)) |
                             (ISPECS_PARAMETERS - set(high)))
            raise errors.OpPrereqError("Invalid instance policy: missing"
                                       " instance specs: %s" %
                                       ", ".join(missing),
                                       errors.ECODE_INVAL)
        for key in sorted(ISPECS_PARAMETERS):
            if low[key] > high[key]:
                raise errors.OpPrereqError(
                    "Invalid instance policy: invalid specification of"
                    " '%s': min %s > max %s" % (key, low[key], high[key]),
                    errors.ECODE_INVAL)
        result.append({"min": low, "max": high})
    return result


def updated_group_ipolicy(old, changes):
    """A group's instance policy after ``changes``; an empty value or
    "default" removes the key (the cluster's applies again)."""
    policy = copy.deepcopy(old or {})
    for key, value in (changes or {}).items():
        if key not in IPOLICY_ALL_KEYS:
            raise errors.OpPrereqError("Invalid key in new ipolicy: %s" % key,
                                       errors.ECODE_INVAL)
        if (value is None or value == VALUE_DEFAULT or
                value == [VALUE_DEFAULT] or value == [] or value == {}):
            policy.pop(key, None)
        elif key in IPOLICY_PARAMETERS:
            try:
                policy[key] = float(value)
            except (TypeError, ValueError) as err:
                raise errors.OpPrereqError(
                    "Invalid value for attribute '%s': '%s', error: %s" %
                    (key, value, err), errors.ECODE_INVAL)
        elif key == IPOLICY_MINMAX:
            policy[key] = check_minmax(value)
        elif key == IPOLICY_STD:
            raise errors.OpPrereqError("%s cannot appear in group instance"
                                       " specs" % key, errors.ECODE_INVAL)
        else:
            templates = list(value)
            unknown = sorted(set(templates) - set(constants.DISK_TEMPLATES))
            if unknown:
                raise errors.OpPrereqError(
                    "Invalid instance policy: invalid disk template(s) %s" %
                    ", ".join(unknown), errors.ECODE_INVAL)
            policy[key] = templates
    return policy


def check_ipolicy_disk_templates(policy, enabled):
    """The disk templates a policy allows must be enabled on the cluster."""
    not_enabled = sorted(set(policy.get(IPOLICY_DTS, [])) -
                         set(enabled or []))
    if not_enabled:
        raise errors.OpPrereqError("The following disk template are allowed"
                                   " by the ipolicy, but not enabled on the"
                                   " cluster: %s" % ", ".join(not_enabled),
                                   errors.ECODE_INVAL)


def check_alloc_policy(op):
    policy = op.alloc_policy
    if policy is not None and policy not in constants.VALID_ALLOC_POLICIES:
        raise errors.OpPrereqError(
            "Parameter '%s.alloc_policy' fails validation: expected one of"
            " %s, got %r" % (op.OP_ID,
                             ", ".join(constants.VALID_ALLOC_POLICIES),
                             policy), errors.ECODE_INVAL)


def group_instances(cfg, group_uuid):
    """UUIDs of the instances with their primary node in the group."""
    members = set(cfg.get_group_node_list(group_uuid))
    return [uuid for uuid, inst in cfg.get_all_instances_info().items()
            if inst.primary_node in members]


class _GroupLU(base.LogicalUnit):
    """Hooks of a group LU: GROUP_NAME, run on the master."""

    HTYPE = "GROUP"

    def build_hooks_env(self):
        return {"GROUP_NAME": self.op.group_name}

    def build_hooks_nodes(self):
        master = self.cfg.get_master_node_name()
        return [master], [master]


class _ExistingGroupLU(_GroupLU):
    """An LU on an existing group, which it locks."""

    def expand_names(self):
        self.group_uuid = self.cfg.lookup_node_group(self.op.group_name)
        self.needed_locks[constants.LOCKS_NODEGROUP] = [self.group_uuid]


# --- OP_GROUP_ADD ---

class LUGroupAdd(_GroupLU):
    """Create a node group."""

    HPATH = "group-add"

    def check_arguments(self):
        check_alloc_policy(self.op)

    def check_prereq(self):
        op = self.op
        try:
            existing = self.cfg.lookup_node_group(op.group_name)
        except errors.OpPrereqError:
            existing = None
        if existing is not None:
            raise errors.OpPrereqError("Desired group name '%s' already exists"
                                       " as a node group (UUID: %s)" %
                                       (op.group_name, existing),
                                       errors.ECODE_EXISTS)
        self.ndparams = check_ndparams(op.ndparams) if op.ndparams else {}
        self.diskparams = merged_diskparams({}, op.diskparams)
        self.hv_state = merged_hv_state(op.hv_state, {}) \
            if op.hv_state else {}
        self.disk_state = merged_disk_state(op.disk_state, {}) \
            if op.disk_state else {}
        self.ipolicy = updated_group_ipolicy({}, op.ipolicy)
        if op.ipolicy:
            check_ipolicy_disk_templates(
                self.ipolicy, self.cfg.get_enabled_disk_templates())

    def exec_(self, feedback_fn):
        op = self.op
        group = objects.NodeGroup(
            name=op.group_name, ndparams=self.ndparams,
            diskparams=self.diskparams, ipolicy=self.ipolicy,
            hv_state_static=self.hv_state,
            disk_state_static=self.disk_state,
            alloc_policy=op.alloc_policy or
            constants.ALLOC_POLICY_PREFERRED, networks={}, tags=[])
        self.cfg.add_node_group(group)
        return None


# --- OP_GROUP_REMOVE ---

class LUGroupRemove(_ExistingGroupLU):
    """Remove an empty node group (never the last one)."""

    HPATH = "group-remove"

    def check_prereq(self):
        members = self.cfg.get_group_node_list(self.group_uuid)
        if members:
            names = text_utils.nice_sort(self.cfg.get_node_names(members))
            raise errors.OpPrereqError("Group '%s' not empty, has the"
                                       " following nodes: %s" %
                                       (self.op.group_name,
                                        ", ".join(names)),
                                       errors.ECODE_STATE)
        if len(self.cfg.get_all_node_groups_info()) == 1:
            raise errors.OpPrereqError("Group '%s' is the only group, cannot"
                                       " be removed" % self.op.group_name,
                                       errors.ECODE_STATE)

    def exec_(self, feedback_fn):
        try:
            self.cfg.remove_node_group(self.group_uuid)
        except errors.ConfigurationError:
            raise errors.OpExecError("Group '%s' with UUID %s disappeared" %
                                     (self.op.group_name, self.group_uuid))
        return None


# --- OP_GROUP_RENAME ---

class LUGroupRename(_ExistingGroupLU):
    """Give a node group a new (unused) name."""

    HPATH = "group-rename"

    def build_hooks_env(self):
        return {"OLD_NAME": self.op.group_name,
                "NEW_NAME": self.op.new_name}

    def build_hooks_nodes(self):
        master = self.cfg.get_master_node_name()
        names = [master] + [
            name for name in self.cfg.get_node_names(
                self.cfg.get_group_node_list(self.group_uuid))
            if name != master]
        return names, names

    def check_prereq(self):
        try:
            clash = self.cfg.lookup_node_group(self.op.new_name)
        except errors.OpPrereqError:
            clash = None
        if clash is not None:
            raise errors.OpPrereqError("Desired new name '%s' clashes with"
                                       " existing node group (UUID: %s)" %
                                       (self.op.new_name, clash),
                                       errors.ECODE_EXISTS)

    def exec_(self, feedback_fn):
        group = self.cfg.get_node_group(self.group_uuid)
        if group is None:
            raise errors.OpExecError("Could not retrieve group '%s' (UUID:"
                                     " %s)" % (self.op.group_name,
                                               self.group_uuid))
        group.name = self.op.new_name
        self.cfg.update(group, feedback_fn)
        return self.op.new_name


# --- OP_GROUP_SET_PARAMS ---

class LUGroupSetParams(_ExistingGroupLU):
    """Change a group's allocation policy and parameters.

    The result lists ``(parameter, new value)`` for node and disk
    parameters, as Ganeti reports them.
    """

    HPATH = "group-modify"
    _CHANGES = ("ndparams", "diskparams", "alloc_policy", "hv_state",
                "disk_state", "ipolicy")

    def check_arguments(self):
        if all(getattr(self.op, name) is None for name in self._CHANGES):
            raise errors.OpPrereqError("Please pass at least one"
                                       " modification", errors.ECODE_INVAL)
        check_alloc_policy(self.op)

    def expand_names(self):
        _ExistingGroupLU.expand_names(self)
        self.needed_locks[constants.LOCKS_INSTANCE] = []
        self.share_locks[constants.LOCKS_INSTANCE] = 1

    def declare_locks(self, level):
        if level == constants.LOCKS_INSTANCE:
            # optimistic: checked again once the group lock is held
            self.needed_locks[level] = group_instances(self.cfg,
                                                       self.group_uuid)

    def build_hooks_env(self):
        env = _ExistingGroupLU.build_hooks_env(self)
        env["NEW_ALLOC_POLICY"] = self.op.alloc_policy
        return env

    def check_prereq(self):
        op = self.op
        wanted = set(group_instances(self.cfg, self.group_uuid))
        owned = set(self.owned(constants.LOCKS_INSTANCE))
        if owned and wanted != owned:
            raise errors.OpPrereqError(
                "Instances in node group '%s' changed since locks were"
                " acquired, wanted '%s', have '%s'; retry the operation" %
                (self.group_uuid, ", ".join(sorted(wanted)),
                 ", ".join(sorted(owned))), errors.ECODE_STATE)
        self.group = self.cfg.get_node_group(self.group_uuid)
        if self.group is None:
            raise errors.OpExecError("Could not retrieve group '%s' (UUID:"
                                     " %s)" % (op.group_name,
                                               self.group_uuid))
        group = self.group
        if op.ndparams:
            self.new_ndparams = check_ndparams(
                updated_params(group.ndparams, op.ndparams))
        if op.diskparams:
            self.new_diskparams = merged_diskparams(group.diskparams,
                                                    op.diskparams)
        if op.hv_state:
            self.new_hv_state = merged_hv_state(op.hv_state,
                                                group.hv_state_static)
        if op.disk_state:
            self.new_disk_state = merged_disk_state(op.disk_state,
                                                    group.disk_state_static)
        if op.ipolicy:
            self.new_ipolicy = updated_group_ipolicy(group.ipolicy,
                                                     op.ipolicy)
            if IPOLICY_DTS in op.ipolicy:
                check_ipolicy_disk_templates(
                    self.new_ipolicy, self.cfg.get_enabled_disk_templates())

    def exec_(self, feedback_fn):
        op = self.op
        group = self.group
        result = []
        if op.ndparams:
            group.ndparams = self.new_ndparams
            result.append(("ndparams", str(group.ndparams)))
        if op.diskparams:
            group.diskparams = self.new_diskparams
            result.append(("diskparams", str(group.diskparams)))
        if op.alloc_policy:
            group.alloc_policy = op.alloc_policy
        if op.hv_state:
            group.hv_state_static = self.new_hv_state
        if op.disk_state:
            group.disk_state_static = self.new_disk_state
        if op.ipolicy:
            group.ipolicy = self.new_ipolicy
        self.cfg.update(group, feedback_fn)
        return result


# --- OP_GROUP_ASSIGN_NODES ---

def split_instances(cfg, changes):
    """(newly split, still split) instance UUIDs if nodes change group.

    ``changes`` maps node UUID -> new group UUID; only instances with
    internally mirrored disks count, as only they need their nodes in
    one group.
    """
    nodes = cfg.get_all_nodes_info()
    new_split = set()
    old_split = set()
    for inst_uuid in cfg.get_instance_list():
        if cfg.get_instance_disk_template(inst_uuid) not in constants.DTS_INT_MIRROR:
            continue
        inst_nodes = [n for n in cfg.get_instance_all_nodes(inst_uuid)
                      if n in nodes]
        before = set(nodes[n].group for n in inst_nodes)
        after = set(changes.get(n, nodes[n].group) for n in inst_nodes)
        if len(before) > 1:
            old_split.add(inst_uuid)
        if len(after) > 1:
            new_split.add(inst_uuid)
    return sorted(new_split - old_split), sorted(old_split & new_split)


class LUGroupAssignNodes(base.NoHooksLU):
    """Move nodes into a group."""

    def expand_names(self):
        self.group_uuid = self.cfg.lookup_node_group(self.op.group_name)
        if not isinstance(self.op.nodes, list) or not self.op.nodes:
            raise errors.OpPrereqError("Parameter 'OP_GROUP_ASSIGN_NODES."
                                       "nodes' fails validation: expected a"
                                       " non-empty list of node names",
                                       errors.ECODE_INVAL)
        expanded = [node_lu.expand_node_name(self.cfg, name)
                    for name in self.op.nodes]
        self.node_uuids = [uuid for uuid, _ in expanded]
        self.op.nodes = [name for _, name in expanded]
        self.needed_locks[constants.LOCKS_NODEGROUP] = [self.group_uuid]
        self.needed_locks[constants.LOCKS_NODE] = list(self.node_uuids)

    def _node_groups(self):
        nodes = self.cfg.get_all_nodes_info()
        return set(nodes[uuid].group for uuid in self.node_uuids
                   if uuid in nodes)

    def declare_locks(self, level):
        if level == constants.LOCKS_NODEGROUP:
            # the nodes' current groups, read before their locks are held;
            # check_prereq verifies them
            self.needed_locks[level] = sorted(
                set([self.group_uuid]) | self._node_groups())

    def check_prereq(self):
        expected = set([self.group_uuid]) | self._node_groups()
        owned = set(self.owned(constants.LOCKS_NODEGROUP))
        if owned and owned != expected:
            raise errors.OpExecError(
                "Nodes changed groups since locks were acquired, current"
                " groups are '%s', used to be '%s'" %
                (", ".join(sorted(expected)), ", ".join(sorted(owned))))
        if self.cfg.get_node_group(self.group_uuid) is None:
            raise errors.OpExecError("Could not retrieve group '%s' (UUID:"
                                     " %s)" % (self.op.group_name,
                                               self.group_uuid))
        changes = dict((uuid, self.group_uuid) for uuid in self.node_uuids)
        new_split, old_split = split_instances(self.cfg, changes)
        if new_split:
            names = ", ".join(text_utils.nice_sort(
                self.cfg.get_instance_name(u) for u in new_split))
            if not self.op.force:
                raise errors.OpExecError("The following instances get split"
                                         " by this change and --force was"
                                         " not given: %s" % names)
            self.log_warning("This operation will split the following"
                             " instances: %s", names)
            if old_split:
                self.log_warning(
                    "In addition, these already-split instances continue to"
                    " be split across groups: %s",
                    ", ".join(text_utils.nice_sort(
                        self.cfg.get_instance_name(u) for u in old_split)))

    def exec_(self, feedback_fn):
        for uuid in self.node_uuids:
            node = self.cfg.get_node_info(uuid)
            if node.group == self.group_uuid:
                continue
            node.group = self.group_uuid
            self.cfg.update(node)
        return None
