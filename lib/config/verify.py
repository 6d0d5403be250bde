"""Consistency checks of a whole configuration.

The ConfigWriter runs ``verify_config_data`` before every write and refuses
to put a configuration on disk that gained errors; ``gnt-cluster verify``
reports the same list. Messages name the offending objects so that an
operator can find them in ``config.data``.
"""

from ganeti import constants
from ganeti.config import derived


def _check_keys(result, kind, collection):
    for key, obj in collection.items():
        if obj.uuid != key:
            result.append("%s '%s' is stored under key '%s' but has uuid"
                          " '%s'" % (kind, getattr(obj, "name", None) or key,
                                     key, obj.uuid))


def _check_unique_names(result, kind, collection):
    seen = {}
    for key, obj in collection.items():
        name = obj.name
        if not name:
            result.append("%s %s has no name" % (kind, key))
            continue
        if name in seen:
            result.append("duplicate %s name '%s' (uuids %s and %s)" %
                          (kind, name, seen[name], key))
        else:
            seen[name] = key


def _check_cluster(result, data):
    cluster = data.cluster
    if cluster is None:
        result.append("configuration has no cluster section")
        return False
    if not cluster.cluster_name:
        result.append("cluster has no name")
    master = data.nodes.get(cluster.master_node)
    if master is None:
        result.append("master node '%s' is not in the node list" %
                      (cluster.master_node,))
    elif not master.master_candidate:
        result.append("master node '%s' is not a master candidate" %
                      master.name)
    if not isinstance(cluster.candidate_pool_size, int) or \
            cluster.candidate_pool_size < 1:
        result.append("cluster candidate_pool_size %r is not a positive"
                      " integer" % (cluster.candidate_pool_size,))
    for hv in cluster.enabled_hypervisors or []:
        if hv not in constants.HYPER_TYPES:
            result.append("enabled hypervisor '%s' is unknown" % hv)
    if not cluster.enabled_hypervisors:
        result.append("no hypervisor is enabled")
    for dt in cluster.enabled_disk_templates or []:
        if dt not in constants.DISK_TEMPLATES:
            result.append("enabled disk template '%s' is unknown" % dt)
    if cluster.primary_ip_family not in (None, constants.IP4_FAMILY,
                                         constants.IP6_FAMILY):
        result.append("invalid primary_ip_family %r" %
                      (cluster.primary_ip_family,))
    return True


def _check_nodes(result, data):
    _check_keys(result, "node", data.nodes)
    _check_unique_names(result, "node", data.nodes)
    ips = {}
    for node in data.nodes.values():
        if node.group not in data.nodegroups:
            result.append("node '%s' has invalid node group '%s'" %
                          (node.name, node.group))
        if node.master_candidate and (node.offline or node.drained):
            result.append("node '%s' is a master candidate but %s" %
                          (node.name,
                           "offline" if node.offline else "drained"))
        if node.offline and node.drained:
            result.append("node '%s' is both offline and drained" % node.name)
        addresses = [node.primary_ip]
        if node.secondary_ip and node.secondary_ip != node.primary_ip:
            addresses.append(node.secondary_ip)
        if not node.primary_ip:
            result.append("node '%s' has no primary ip" % node.name)
        for address in addresses:
            if not address:
                continue
            other = ips.get(address)
            if other is not None and other != node.name:
                result.append("ip address %s is used by both node '%s' and"
                              " node '%s'" % (address, other, node.name))
            else:
                ips[address] = node.name


def _check_groups(result, data):
    _check_keys(result, "node group", data.nodegroups)
    _check_unique_names(result, "node group", data.nodegroups)
    for group in data.nodegroups.values():
        if group.alloc_policy not in constants.VALID_ALLOC_POLICIES:
            result.append("node group '%s' has invalid alloc_policy '%s'" %
                          (group.name, group.alloc_policy))
        for net_uuid in group.networks or {}:
            if net_uuid not in data.networks:
                result.append("node group '%s' is connected to unknown"
                              " network '%s'" % (group.name, net_uuid))


def _check_instances(result, data):
    _check_keys(result, "instance", data.instances)
    _check_unique_names(result, "instance", data.instances)
    macs = {}
    ports = {}
    disk_owner = {}
    for inst in data.instances.values():
        if inst.primary_node not in data.nodes:
            result.append("instance '%s' has invalid primary node '%s'" %
                          (inst.name, inst.primary_node))
        if inst.admin_state not in (constants.ADMINST_UP,
                                    constants.ADMINST_DOWN,
                                    constants.ADMINST_OFFLINE):
            result.append("instance '%s' has invalid admin_state %r" %
                          (inst.name, inst.admin_state))
        for disk_uuid in inst.disks or []:
            if disk_uuid not in data.disks:
                result.append("instance '%s' uses unknown disk '%s'" %
                              (inst.name, disk_uuid))
            elif disk_uuid in disk_owner:
                result.append("disk '%s' is used by both instance '%s' and"
                              " instance '%s'" % (disk_uuid,
                                                  disk_owner[disk_uuid],
                                                  inst.name))
            else:
                disk_owner[disk_uuid] = inst.name
        for idx, nic in enumerate(inst.nics or []):
            if not nic.mac:
                result.append("instance '%s' nic %d has no MAC" %
                              (inst.name, idx))
            elif nic.mac in macs:
                result.append("MAC address %s is used by both instance '%s'"
                              " and instance '%s'" % (nic.mac, macs[nic.mac],
                                                      inst.name))
            else:
                macs[nic.mac] = inst.name
            if nic.network and nic.network not in data.networks:
                result.append("instance '%s' nic %d is connected to unknown"
                              " network '%s'" % (inst.name, idx, nic.network))
        if inst.network_port is not None:
            if inst.network_port in ports:
                result.append("tcp/udp port %s is used by both instance '%s'"
                              " and instance '%s'" %
                              (inst.network_port, ports[inst.network_port],
                               inst.name))
            else:
                ports[inst.network_port] = inst.name
        for node_uuid in derived.instance_secondary_nodes(data, inst):
            if node_uuid not in data.nodes:
                result.append("instance '%s' has a disk on unknown node '%s'"
                              % (inst.name, node_uuid))


def _check_disks(result, data):
    _check_keys(result, "disk", data.disks)
    for disk in data.disks.values():
        if disk.dev_type not in constants.DISK_TEMPLATES:
            result.append("disk '%s' has invalid dev_type %r" %
                          (disk.uuid, disk.dev_type))
        if disk.mode not in ("rw", "ro"):
            result.append("disk '%s' has invalid mode %r" %
                          (disk.uuid, disk.mode))


def _check_networks(result, data):
    _check_keys(result, "network", data.networks)
    _check_unique_names(result, "network", data.networks)


def verify_config_data(data):
    """Every inconsistency found in ``data``, as messages (empty = valid)."""
    result = []
    if data.version != constants.CONFIG_VERSION:
        result.append("configuration version %s differs from %s" %
                      (data.version, constants.CONFIG_VERSION))
    if not _check_cluster(result, data):
        return result
    _check_nodes(result, data)
    _check_groups(result, data)
    _check_disks(result, data)
    _check_instances(result, data)
    _check_networks(result, data)
    return result
