"""Helpers shared by the instance LUs (create, remove, start/stop,
migration, modify...).

They exist so that every LU talks to the nodes the same way: the wire
form of an instance is always built by ``instance_rpc_dict`` (filled
parameters, ``disks_info``), disks are always created/removed/assembled
through the same loops, and prerequisite failures carry Ganeti's texts.
"""

from ganeti import constants
from ganeti import errors
from ganeti import objects
from ganeti.cmdlib import base

# Hypervisors whose instances need a cluster TCP port (VNC/SPICE).
HTS_REQ_PORT = frozenset([constants.HT_KVM, constants.HT_XEN_HVM])


def _reason(lu):
    """The reason trail of the running opcode (a list, never None)."""
    return list(getattr(lu.op, "reason", None) or [])


def filled_hvparams(cfg, instance):
    cluster = cfg.get_cluster_info()
    return cluster.fill_hv(instance.hypervisor, instance.hvparams,
                           os_name=instance.os)


def filled_beparams(cfg, instance):
    """Backend parameters with the cluster defaults; ``memory`` (old
    alias) sets both limits as in Ganeti."""
    return cfg.get_cluster_info().fill_be(instance.beparams)


def instance_rpc_dict(cfg, instance, hvp_override=None, bep_override=None):
    """The instance as nodes receive it (see ``ganeti.backend.instance``):
    filled hv/be/nic parameters and ``disks_info`` in index order."""
    cluster = cfg.get_cluster_info()
    data = instance.to_dict()
    hvp = filled_hvparams(cfg, instance)
    if hvp_override:
        hvp.update(hvp_override)
    bep = filled_beparams(cfg, instance)
    if bep_override:
        bep.update(bep_override)
    data["hvparams"] = hvp
    data["beparams"] = bep
    data["osparams"] = dict(cluster.osparams.get(instance.os, {}),
                            **(instance.osparams or {}))
    nics = []
    for nic in instance.nics or []:
        nic_dict = nic.to_dict()
        nic_dict["nicparams"] = cluster.fill_nic(nic.nicparams)
        nics.append(nic_dict)
    data["nics"] = nics
    disks = (cfg.get_instance_disks(instance.uuid)
             if instance.uuid else [])
    data["disks_info"] = [d.to_dict() for d in disks]
    return data


def expand_instance(lu):
    """Resolve ``lu.op.instance_name``: sets ``lu.instance_uuid``,
    ``lu.instance`` and the full name back into the opcode."""
    uuid, full = lu.cfg.expand_instance_name(lu.op.instance_name)
    if uuid is None:
        raise errors.OpPrereqError("Instance '%s' not known" %
                                   lu.op.instance_name, errors.ECODE_NOENT)
    lu.op.instance_name = full
    lu.instance_uuid = uuid
    lu.instance = lu.cfg.get_instance_info(uuid)
    return lu.instance


def lock_instance_and_nodes(lu, nodes_shared=False):
    """Declare the instance lock now and its nodes' locks in
    ``declare_locks`` (call from ``expand_names``)."""
    expand_instance(lu)
    lu.needed_locks[constants.LOCKS_INSTANCE] = [lu.instance_uuid]
    lu.needed_locks[constants.LOCKS_NODE] = []
    lu.share_locks[constants.LOCKS_NODE] = 1 if nodes_shared else 0
    lu._lock_instance_nodes = True


def declare_instance_node_locks(lu, level):
    if level == constants.LOCKS_NODE and \
            getattr(lu, "_lock_instance_nodes", False):
        lu.needed_locks[constants.LOCKS_NODE] = \
            lu.cfg.get_instance_all_nodes(lu.instance_uuid)


def check_instance_state(lu, instance, req_states, msg):
    """Fail unless the instance's admin state is one of ``req_states``
    (``constants.ADMINST_*``); offline instances are refused with
    Ganeti's message unless ``offline`` is allowed."""
    if msg is None:
        msg = "can't use instance from outside %s states" % \
            ", ".join(sorted(req_states))
    if instance.admin_state not in req_states:
        raise errors.OpPrereqError("Instance '%s' is marked to be %s, %s" %
                                   (instance.name, instance.admin_state, msg),
                                   errors.ECODE_STATE)
    if constants.ADMINST_UP not in req_states:
        pnode = lu.cfg.get_node_info(instance.primary_node)
        if not pnode.offline:
            result = lu.rpc.call_single(
                "instance_info", pnode.name,
                [instance.name, instance.hypervisor,
                 filled_hvparams(lu.cfg, instance)])
            result.raise_on_failure("Error checking node %s" % pnode.name,
                                    prereq=True)
            if result.payload:
                raise errors.OpPrereqError("Instance %s is running, %s" %
                                           (instance.name, msg),
                                           errors.ECODE_STATE)


def node_free_memory(lu, node_uuid, hvname, hvparams):
    """Free memory (MiB) the hypervisor reports on the node; None if the
    node did not say."""
    node = lu.cfg.get_node_info(node_uuid)
    result = lu.rpc.call_single("node_info", node.name,
                                [[], [[hvname, hvparams]]])
    result.raise_on_failure("Can't get data from node %s" % node.name,
                            prereq=True, ecode=errors.ECODE_ENVIRON)
    try:
        return result.payload[2][0].get("memory_free")
    except (TypeError, IndexError, AttributeError):
        return None


def check_node_free_memory(lu, node_uuid, reason, requested_mib, hvname,
                           hvparams):
    """Ganeti's CheckNodeFreeMemory: enough free memory for ``reason``."""
    node_name = lu.cfg.get_node_info(node_uuid).name
    free = node_free_memory(lu, node_uuid, hvname, hvparams)
    if not isinstance(free, int):
        raise errors.OpPrereqError("Can't compute free memory on node %s,"
                                   " result was '%s'" % (node_name, free),
                                   errors.ECODE_ENVIRON)
    if requested_mib > free:
        raise errors.OpPrereqError("Not enough memory on node %s for %s:"
                                   " needed %s MiB, available %s MiB" %
                                   (node_name, reason, requested_mib, free),
                                   errors.ECODE_NORES)
    return free


# --- disks ---

def _disk_nodes(lu, instance, disk, target_node=None):
    """(primary-or-target node uuid, [all node uuids]) of a disk."""
    primary = target_node or instance.primary_node
    nodes = list(disk.nodes or [instance.primary_node])
    if target_node is not None:
        nodes = [target_node]
    if primary not in nodes:
        nodes.insert(0, primary)
    return primary, nodes


def file_storage_dir_of(disk):
    """The directory of a file-based disk, or None."""
    if disk.dev_type in (constants.DT_FILE, constants.DT_SHARED_FILE) and \
            disk.logical_id and len(disk.logical_id) == 2:
        import os
        return os.path.dirname(disk.logical_id[1])
    return None


def create_disks(lu, instance, disks=None, target_node=None):
    """Create the instance's disks (``disks``: objects.Disk list, default
    the configured ones) on their nodes; on failure remove what was
    created and raise OpExecError."""
    if disks is None:
        disks = lu.cfg.get_instance_disks(instance.uuid)
    created = []
    dirs_done = set()
    try:
        for idx, disk in enumerate(disks):
            primary, nodes = _disk_nodes(lu, instance, disk, target_node)
            fdir = file_storage_dir_of(disk)
            if fdir and (primary, fdir) not in dirs_done:
                pname = lu.cfg.get_node_info(primary).name
                result = lu.rpc.call_single("file_storage_dir_create", pname,
                                            [fdir])
                result.raise_on_failure("Failed to create directory '%s' on"
                                        " node %s" % (fdir, pname))
                dirs_done.add((primary, fdir))
            for node_uuid in nodes:
                node_name = lu.cfg.get_node_info(node_uuid).name
                on_primary = node_uuid == primary
                info = "originstname+%s" % instance.name
                result = lu.rpc.call_single(
                    "blockdev_create", node_name,
                    [disk.to_dict(), disk.size, instance.name, on_primary,
                     info, False])
                result.raise_on_failure(
                    "Can't create block device %s on node %s for instance"
                    " %s" % (disk.iv_name or "disk/%d" % idx, node_name,
                             instance.name))
                created.append((node_uuid, disk))
    except errors.OpExecError:
        for node_uuid, disk in reversed(created):
            _remove_one(lu, node_uuid, disk)
        for node_uuid, fdir in dirs_done:
            lu.rpc.call_single("file_storage_dir_remove",
                               lu.cfg.get_node_info(node_uuid).name, [fdir])
        raise
    return created


def _remove_one(lu, node_uuid, disk):
    node_name = lu.cfg.get_node_info(node_uuid).name
    result = lu.rpc.call_single("blockdev_remove", node_name,
                                [disk.to_dict()])
    if result.fail_msg:
        lu.log_warning("Could not remove disk %s on node %s,"
                       " continuing anyway: %s", disk.iv_name, node_name,
                       result.fail_msg)
        return False
    return True


def remove_disks(lu, instance, target_node=None, disks=None):
    """Remove the instance's disks (and file storage dirs); True if
    everything went away, warnings for what did not."""
    if disks is None:
        disks = lu.cfg.get_instance_disks(instance.uuid)
    all_ok = True
    dirs = set()
    for disk in disks:
        primary, nodes = _disk_nodes(lu, instance, disk, target_node)
        for node_uuid in nodes:
            if not _remove_one(lu, node_uuid, disk):
                all_ok = False
        fdir = file_storage_dir_of(disk)
        if fdir:
            dirs.add((primary, fdir))
    for node_uuid, fdir in sorted(dirs):
        node_name = lu.cfg.get_node_info(node_uuid).name
        result = lu.rpc.call_single("file_storage_dir_remove", node_name,
                                    [fdir])
        if result.fail_msg:
            lu.log_warning("Could not remove directory '%s' on node %s: %s",
                           fdir, node_name, result.fail_msg)
            all_ok = False
    return all_ok


def assemble_disks(lu, instance, ignore_size=False, disks=None):
    """Activate the disks on their nodes: secondaries first, then the
    primary. Returns [(node name, iv_name, dev_path)] of the primary;
    raises OpExecError (after shutting them down) on failure."""
    if disks is None:
        disks = lu.cfg.get_instance_disks(instance.uuid)
    info = []
    inst_dict = instance_rpc_dict(lu.cfg, instance)
    errs = []
    for on_primary_pass in (False, True):
        for idx, disk in enumerate(disks):
            primary, nodes = _disk_nodes(lu, instance, disk)
            for node_uuid in nodes:
                is_primary = node_uuid == primary
                if is_primary != on_primary_pass:
                    continue
                node = lu.cfg.get_node_info(node_uuid)
                result = lu.rpc.call_single(
                    "blockdev_assemble", node.name,
                    [disk.to_dict(), inst_dict, is_primary, idx])
                if result.fail_msg:
                    errs.append("Could not prepare block device %s on node"
                                " %s (is_primary=%s): %s" %
                                (disk.iv_name, node.name, is_primary,
                                 result.fail_msg))
                    continue
                if is_primary:
                    dev_path = result.payload[0] if result.payload else None
                    info.append((node.name, disk.iv_name, dev_path))
    if errs:
        for msg in errs:
            lu.log_warning("%s", msg)
        shutdown_disks(lu, instance, disks=disks)
        raise errors.OpExecError("Cannot activate block devices")
    if disks and not instance.disks_active:
        _set_disks_active(lu, instance, True)
    return info


def _set_disks_active(lu, instance, active):
    current = lu.cfg.get_instance_info(instance.uuid)
    if current is None or current.disks_active == active:
        return
    current.disks_active = active
    lu.cfg.update(current)
    instance.disks_active = active
    instance.serial_no = current.serial_no


def shutdown_disks(lu, instance, ignore_primary=False, disks=None):
    """Deactivate the disks everywhere; False if some node failed (a
    primary failure is only a warning with ``ignore_primary``)."""
    if disks is None:
        disks = lu.cfg.get_instance_disks(instance.uuid)
    all_ok = True
    for disk in disks:
        primary, nodes = _disk_nodes(lu, instance, disk)
        for node_uuid in nodes:
            node = lu.cfg.get_node_info(node_uuid)
            result = lu.rpc.call_single("blockdev_shutdown", node.name,
                                        [disk.to_dict()])
            if result.fail_msg:
                lu.log_warning("Could not shutdown block device %s on node"
                               " %s: %s", disk.iv_name, node.name,
                               result.fail_msg)
                if node_uuid != primary or not ignore_primary:
                    all_ok = False
    if disks and instance.uuid and lu.cfg.get_instance_info(instance.uuid):
        _set_disks_active(lu, instance, False)
    return all_ok


# --- start / stop ---

def start_instance_on_node(lu, instance, node_uuid, startup_paused=False,
                           hvp_override=None, bep_override=None):
    """Assemble the disks and start the instance on ``node_uuid``; the
    disks are shut down again if the start fails."""
    node = lu.cfg.get_node_info(node_uuid)
    assemble_disks(lu, instance)
    inst_dict = instance_rpc_dict(lu.cfg, instance, hvp_override,
                                  bep_override)
    inst_dict["primary_node"] = node_uuid
    result = lu.rpc.call_single("instance_start", node.name,
                                [inst_dict, startup_paused, _reason(lu)])
    if result.fail_msg:
        shutdown_disks(lu, instance)
        raise errors.OpExecError("Could not start instance: %s" %
                                 result.fail_msg)


def shutdown_instance_on_node(lu, instance, node_uuid, timeout):
    """Stop the instance on ``node_uuid``; the RpcResult (callers decide
    whether a failure is fatal)."""
    node = lu.cfg.get_node_info(node_uuid)
    return lu.rpc.call_single("instance_shutdown", node.name,
                              [instance_rpc_dict(lu.cfg, instance), timeout,
                               _reason(lu)])


def set_admin_state(lu, instance, state):
    """Record the admin state (``constants.ADMINST_*``) in the config."""
    current = lu.cfg.get_instance_info(instance.uuid)
    if current.admin_state == state and \
            current.admin_state_source == constants.ADMIN_SOURCE:
        return
    current.admin_state = state
    current.admin_state_source = constants.ADMIN_SOURCE
    lu.cfg.update(current)
    instance.admin_state = state
    instance.serial_no = current.serial_no


def hooks_env(lu, instance):
    """The INSTANCE_* hook environment (the common part)."""
    pnode = lu.cfg.get_node_info(instance.primary_node)
    env = {
        "INSTANCE_NAME": instance.name,
        "INSTANCE_PRIMARY": pnode.name if pnode else "",
        "INSTANCE_SECONDARIES": " ".join(
            lu.cfg.get_node_info(n).name for n in
            lu.cfg.get_instance_secondary_nodes(instance.uuid)),
        "INSTANCE_OS_TYPE": instance.os or "",
        "INSTANCE_STATUS": instance.admin_state or "",
        "INSTANCE_HYPERVISOR": instance.hypervisor or "",
        "INSTANCE_NIC_COUNT": len(instance.nics or []),
        "INSTANCE_DISK_COUNT": len(instance.disks or []),
        "INSTANCE_DISK_TEMPLATE":
            lu.cfg.get_instance_disk_template(instance.uuid) or "",
    }
    for idx, nic in enumerate(instance.nics or []):
        env["INSTANCE_NIC%d_MAC" % idx] = nic.mac or ""
        env["INSTANCE_NIC%d_IP" % idx] = nic.ip or ""
    return env


def hooks_nodes(lu, instance):
    master = lu.cfg.get_master_node()
    nodes = [master] + lu.cfg.get_instance_all_nodes(instance.uuid)
    names = []
    for uuid in nodes:
        node = lu.cfg.get_node_info(uuid)
        if node is not None and node.name not in names:
            names.append(node.name)
    return names, names


class InstanceLU(base.LogicalUnit):
    """An LU on one instance: it locks the instance and then the
    instance's nodes (shared with ``NODES_SHARED``); its hooks get the
    common INSTANCE_* environment and run on the master and those nodes.
    Subclasses extend a step by calling it on this class."""

    HTYPE = "INSTANCE"
    NODES_SHARED = False

    def expand_names(self):
        lock_instance_and_nodes(self, nodes_shared=self.NODES_SHARED)

    def declare_locks(self, level):
        declare_instance_node_locks(self, level)

    def build_hooks_env(self):
        return hooks_env(self, self.instance)

    def build_hooks_nodes(self):
        return hooks_nodes(self, self.instance)


def new_nic(mac, ip=None, nicparams=None, name=None, network=None,
            uuid=None):
    return objects.NIC(mac=mac, ip=ip, nicparams=dict(nicparams or {}),
                       name=name, network=network, uuid=uuid)
