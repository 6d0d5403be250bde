"""Facts derived from a ``ConfigData`` that are never stored.

Secondary nodes, disk templates and per-node instance lists follow from the
disks of an instance; computing them in one place keeps the ConfigWriter,
the verifier and the query engine in agreement. Every function here is pure
(reads its arguments, changes nothing) and works on the live objects, so
callers must hold whatever lock protects them.
"""

import re

from ganeti import constants

DT_MIXED = "mixed"
DRBD_META_SIZE = 128


def disk_nodes(disk):
    """Node UUIDs a disk lives on, in first-seen order.

    The ``nodes`` field (3.0) is authoritative; older disks only carry the
    DRBD pair in ``logical_id``, so children are searched as well.
    """
    result = []

    def add(uuid):
        if uuid and uuid not in result:
            result.append(uuid)

    def walk(dsk):
        for uuid in dsk.nodes or []:
            add(uuid)
        if dsk.dev_type == constants.DT_DRBD8 and dsk.logical_id:
            for uuid in dsk.logical_id[:2]:
                add(uuid)
        for child in dsk.children or []:
            walk(child)

    walk(disk)
    return result


def instance_disks(data, instance):
    """The Disk objects of ``instance`` in index order (unknown ones are
    skipped)."""
    return [data.disks[uuid] for uuid in instance.disks or []
            if uuid in data.disks]


def instance_all_nodes(data, instance):
    """Primary node first, then every other node holding one of its disks."""
    result = [instance.primary_node] if instance.primary_node else []
    for disk in instance_disks(data, instance):
        for uuid in disk_nodes(disk):
            if uuid not in result:
                result.append(uuid)
    return result


def instance_secondary_nodes(data, instance):
    """Node UUIDs of the instance other than its primary."""
    return [uuid for uuid in instance_all_nodes(data, instance)
            if uuid != instance.primary_node]


def instance_disk_template(data, instance):
    """``diskless`` without disks, the common dev_type, or ``mixed``."""
    kinds = []
    for disk in instance_disks(data, instance):
        if disk.dev_type not in kinds:
            kinds.append(disk.dev_type)
    if not kinds:
        return constants.DT_DISKLESS
    if len(kinds) == 1:
        return kinds[0]
    return DT_MIXED


def instance_disk_usage(data, instance):
    """MiB used on each node by the instance's disks (DRBD adds its meta
    LV)."""
    total = 0
    for disk in instance_disks(data, instance):
        if disk.dev_type in (constants.DT_DISKLESS, constants.DT_BLOCK):
            continue
        total += disk.size or 0
        if disk.dev_type == constants.DT_DRBD8:
            total += DRBD_META_SIZE
    return total


def node_instance_map(data):
    """``{node_uuid: (primary instance uuids, secondary instance uuids)}``.

    One pass over all instances, so per-node queries stay linear.
    """
    result = dict((uuid, ([], [])) for uuid in data.nodes)
    for inst_uuid, inst in data.instances.items():
        for node_uuid in instance_all_nodes(data, inst):
            slot = result.setdefault(node_uuid, ([], []))
            if node_uuid == inst.primary_node:
                slot[0].append(inst_uuid)
            else:
                slot[1].append(inst_uuid)
    return result


def master_node_name(data):
    node = data.nodes.get(data.cluster.master_node)
    return node.name if node is not None else None


def filled_group_ndparams(cluster, group):
    return cluster.fill_nd(group=group)


def filled_node_ndparams(data, node):
    """Cluster defaults, then the node's group, then the node's own values."""
    group = data.nodegroups.get(node.group)
    return data.cluster.fill_nd(node=node, group=group)


def filled_group_diskparams(cluster, group):
    params = cluster.fill_diskparams()
    for template, values in (group.diskparams or {}).items():
        params.setdefault(template, {}).update(values)
    return params


def default_hypervisor(cluster):
    hvs = cluster.enabled_hypervisors or []
    return hvs[0] if hvs else None


def match_name(key, names):
    """The one name in ``names`` that ``key`` designates, else None.

    An exact match wins; otherwise ``key`` may be the first components of
    a DNS name ("node2" matches "node2.example.com", case-insensitively),
    and must then match exactly one name.
    """
    if key in names:
        return key
    pattern = re.compile(r"^%s(\..*)?$" % re.escape(key), re.IGNORECASE)
    matches = [name for name in names if pattern.match(name)]
    exact = [name for name in matches if name.lower() == key.lower()]
    if len(exact) == 1:
        return exact[0]
    if len(matches) == 1:
        return matches[0]
    return None
