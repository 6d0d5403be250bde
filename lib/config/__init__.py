"""The master's configuration store (``config.data``).

``ConfigWriter`` keeps the configuration objects in memory behind one lock.
Readers get copies (or, for queries, a shared snapshot they must not
change). A mutation changes memory under the lock, checks the whole
configuration (refusing changes that make it inconsistent), and then waits
until a write that contains it is on disk. Writes are *group commits*: one
thread at a time serialises the newest state, writes it atomically and
hands it to the distributor (replication to master candidates, ssconf to
all nodes) outside the config lock, so N concurrent mutations cost far
fewer than N writes and readers never wait behind disk or network I/O.

Invariant that makes snapshots cheap: stored node, group, instance, disk,
network and filter objects are never changed in place, only replaced
(mutations work on copies); only the cluster object and the top-level
counters change in place. A snapshot is therefore a new ``ConfigData``
with copied dicts that share the stored objects, plus a private copy of
the cluster: O(number of objects) pointer copies, no deep copy. Both the
query engine and the writer (serialising outside the lock) read it.
"""

import copy
import logging
import threading
import time

from ganeti import constants
from ganeti import errors
from ganeti import objects
from ganeti import pathutils
from ganeti.config import derived
from ganeti.config import instance_index
from ganeti.config.resources import (ResourcesMixin, FIRST_DRBD_PORT,
                                     LAST_DRBD_PORT)
from ganeti.config import ssconf_values
from ganeti.config import store
from ganeti.config.reservations import TemporaryReservationManager
from ganeti.config.verify import verify_config_data
from ganeti.utils import text as text_utils

__all__ = ["ConfigWriter", "TemporaryReservationManager",
           "verify_config_data", "FIRST_DRBD_PORT", "LAST_DRBD_PORT"]

_MISSING = object()

# object class -> ConfigData collection holding it (None: the cluster)
_COLLECTION_OF = (
    (objects.Cluster, None),
    (objects.Node, "nodes"),
    (objects.NodeGroup, "nodegroups"),
    (objects.Instance, "instances"),
    (objects.Disk, "disks"),
    (objects.Network, "networks"),
    (objects.Filter, "filters"),
)
# Changes to these also bump the cluster's serial number.
_BUMPS_CLUSTER = frozenset(["nodes", "nodegroups", "instances"])
# Cluster fields owned by allocate_port/add_tcp_udp_port: update(cluster)
# keeps the stored values so a stale copy cannot hand a port out twice.
_CONFIG_OWNED_CLUSTER_FIELDS = ("highest_used_port", "tcpudp_port_pool")


def _copy(obj):
    return obj.copy() if obj is not None else None


class _UndoLog:
    """Records what a mutation changed so that a refused change leaves
    memory exactly as it was."""

    def __init__(self, data):
        self._data = data
        self._steps = []

    def save_item(self, collection, key):
        """Call before replacing/adding/removing ``collection[key]``."""
        coll = getattr(self._data, collection)
        self._steps.append(("item", collection, key, coll.get(key, _MISSING)))

    def save_attrs(self, obj, *names):
        """Call before changing attributes of ``obj`` in place."""
        saved = dict((name, copy.deepcopy(getattr(obj, name)))
                     for name in names)
        self._steps.append(("attrs", obj, saved))

    def save_cluster(self):
        self._steps.append(("cluster", self._data.cluster))

    @property
    def steps(self):
        return list(self._steps)

    def saved_before(self, collection):
        """``{key: member before the mutation or None}`` for the members
        of ``collection`` the mutation touched."""
        result = {}
        for step in self._steps:
            if step[0] == "item" and step[1] == collection and \
                    step[2] not in result:
                result[step[2]] = None if step[3] is _MISSING else step[3]
        return result

    def rollback(self):
        for step in reversed(self._steps):
            if step[0] == "item":
                coll = getattr(self._data, step[1])
                if step[3] is _MISSING:
                    coll.pop(step[2], None)
                else:
                    coll[step[2]] = step[3]
            elif step[0] == "attrs":
                for name, value in step[2].items():
                    setattr(step[1], name, value)
            else:
                self._data.cluster = step[1]
        self._steps = []


class ConfigWriter(ResourcesMixin):
    """Thread-safe owner of ``config.data`` (see the module docstring)."""

    def __init__(self, cfg_file=None, distributor=None):
        """Load ``cfg_file`` (default ``pathutils.CLUSTER_CONF_FILE``).

        ``distributor(payload_bytes, ssconf_values_or_None, snapshot)`` is
        called after every write, outside the config lock; ssconf values
        are passed only when they differ from the last ones distributed
        successfully; ``snapshot`` is the read-only state written.
        """
        self._cfg_file = cfg_file or pathutils.CLUSTER_CONF_FILE
        self._distributor = distributor
        self._lock = threading.RLock()
        self._data = store.load_config_file(self._cfg_file)
        self._known_problems = set(verify_config_data(self._data))
        for problem in sorted(self._known_problems):
            logging.warning("Configuration problem: %s", problem)
        self._snapshot = None
        self._instance_index = None  # lazily built InstanceIndex
        # used by the single active writer only
        self._instance_sorter = text_utils.IncrementalNiceSort()
        # collection -> sorter / (snapshot, names); under _lock
        self._name_sorters = {}
        self._sorted_names = {}
        # Group commit state, guarded by _commit_cond
        self._commit_cond = threading.Condition(threading.Lock())
        self._written_serial = self._data.serial_no
        self._writer_busy = False
        self._failure = None      # (serial, message) of the last failed write
        self._last_ssconf = None  # last ssconf values distributed
        self._ssconf_force_serial = None  # resend ssconf from this serial
        self._write_count = 0
        # Reservations of running jobs
        self._temporary_ids = TemporaryReservationManager()
        self._temporary_macs = TemporaryReservationManager()
        self._temporary_ips = TemporaryReservationManager()

    # ------------------------------------------------------------------
    # Bootstrap
    @staticmethod
    def write_initial(cfg_file, config_data):
        """Validate and write a brand-new configuration (``gnt-cluster
        init``); ``config_data`` is a ``ConfigData`` or its dict form."""
        if isinstance(config_data, dict):
            config_data = objects.ConfigData.from_dict(config_data)
        if config_data.version != constants.CONFIG_VERSION:
            raise errors.ConfigVersionMismatch(
                "Cluster configuration version mismatch, got %s instead of"
                " %s" % (config_data.version, constants.CONFIG_VERSION))
        problems = verify_config_data(config_data)
        if problems:
            raise errors.ConfigurationError(
                "Refusing to write an inconsistent configuration: %s" %
                "; ".join(problems))
        store.write_config_file(cfg_file, store.serialize_config(config_data))

    # ------------------------------------------------------------------
    # Mutation machinery
    def _mutate(self, change_fn):
        """Run ``change_fn(data, undo_log, now)`` under the lock, verify,
        and wait for the commit; returns ``change_fn``'s result."""
        with self._lock:
            data = self._data
            log = _UndoLog(data)
            log.save_attrs(data, "serial_no", "mtime")
            now = time.time()
            index = self._get_instance_index()
            try:
                result = change_fn(data, log, now)
                data.serial_no = (data.serial_no or 0) + 1
                data.mtime = now
                inst_keys, disk_keys, other, stale = \
                    instance_index.summarize_changes(log.steps, data)
                if not other and \
                        index.changes_are_clean(data, inst_keys, disk_keys):
                    problems = None   # proven: nothing new, known unchanged
                else:
                    problems = verify_config_data(data)
                    new = [p for p in problems
                           if p not in self._known_problems]
                    if new:
                        raise errors.ConfigurationError(
                            "Refusing to write an inconsistent"
                            " configuration: %s" % "; ".join(new))
            except BaseException:
                log.rollback()
                raise
            if problems is not None:
                self._known_problems = set(problems)
            if stale:
                self._instance_index = None
            else:
                for key, old in log.saved_before("instances").items():
                    index.apply(old, data.instances.get(key))
            self._snapshot = None
            target = data.serial_no
        self._commit(target)
        return result

    def _get_instance_index(self):
        """The InstanceIndex of the current state; call with the lock."""
        if self._instance_index is None:
            self._instance_index = instance_index.InstanceIndex(self._data)
        return self._instance_index

    def _commit(self, target):
        """Return once a write containing serial ``target`` is on disk and
        was handed to the distributor; become the writer if none is busy."""
        cond = self._commit_cond
        while True:
            with cond:
                while True:
                    if self._written_serial >= target:
                        return
                    if self._failure is not None and \
                            self._failure[0] >= target:
                        raise errors.ConfigurationError(self._failure[1])
                    if not self._writer_busy:
                        self._writer_busy = True
                        break
                    cond.wait()
            with self._lock:
                serial = self._data.serial_no
                snapshot = self._get_snapshot_locked()
                force = self._ssconf_force_serial
            done = False
            message = "interrupted while writing the configuration"
            try:
                payload = store.serialize_config(snapshot)
                ssconf = ssconf_values.compute_ssconf_values(
                    snapshot, self._instance_sorter)
                forced = force is not None and serial >= force
                if self._write_and_distribute(payload, ssconf, snapshot,
                                              forced) and \
                        forced:
                    with self._lock:
                        if self._ssconf_force_serial == force:
                            self._ssconf_force_serial = None
                done = True
            except Exception as err:  # pylint: disable=broad-except
                message = str(err)
                logging.exception("Writing the configuration failed")
            finally:
                with cond:
                    self._writer_busy = False
                    if done:
                        self._written_serial = max(self._written_serial,
                                                   serial)
                        self._failure = None
                    else:
                        self._failure = (serial, message)
                    cond.notify_all()

    def _write_and_distribute(self, payload, ssconf, snapshot,
                              force_ssconf=False):
        """Write ``payload`` to disk, then call the distributor (whose
        failures are only logged); True if the distributor succeeded.
        Only the single active writer runs this."""
        store.write_config_file(self._cfg_file, payload)
        self._write_count += 1
        send = force_ssconf or ssconf != self._last_ssconf
        if self._distributor is None:
            self._last_ssconf = ssconf
            return True
        try:
            self._distributor(payload, ssconf if send else None, snapshot)
        except Exception:  # pylint: disable=broad-except
            logging.exception("Distributing the configuration failed")
            if send:
                self._last_ssconf = None  # resend with the next write
            return False
        self._last_ssconf = ssconf
        return True

    @property
    def write_count(self):
        """Number of times ``config.data`` was written by this object."""
        return self._write_count

    # ------------------------------------------------------------------
    # Whole-configuration reads
    def get_config_data(self):
        """A private deep copy of the whole configuration."""
        with self._lock:
            return self._data.copy()

    def get_config_snapshot(self):
        """A consistent, *shared* view for read-only users (queries).

        Built at most once per configuration change and cheap (see the
        module docstring); callers must not modify it or its objects.
        """
        with self._lock:
            return self._get_snapshot_locked()

    def _get_snapshot_locked(self):
        if self._snapshot is None:
            data = self._data
            snap = objects.ConfigData(
                **dict((name, getattr(data, name))
                       for name in objects.ConfigData.FIELDS))
            snap.cluster = data.cluster.copy()
            for name in ("nodes", "nodegroups", "instances", "networks",
                         "disks", "filters"):
                setattr(snap, name, dict(getattr(data, name)))
            self._snapshot = snap
        return self._snapshot

    def get_sorted_names(self, collection):
        """``(snapshot, names)``: the member names of ``collection``
        ("instances", "nodes", ...) of the current snapshot in natural
        order. Kept incrementally and cached per snapshot, so listing
        10,000 instances does not sort them again for every query."""
        with self._lock:
            snap = self._get_snapshot_locked()
            cached = self._sorted_names.get(collection)
            if cached is not None and cached[0] is snap:
                return cached
            sorter = self._name_sorters.get(collection)
            if sorter is None:
                sorter = self._name_sorters[collection] = \
                    text_utils.IncrementalNiceSort()
            names = sorter.update(member.name for member in
                                  getattr(snap, collection).values()
                                  if member.name)
            result = self._sorted_names[collection] = (snap, names)
            return result

    def get_config_serial(self):
        with self._lock:
            return self._data.serial_no

    def verify_config(self):
        """Problems of the current configuration (empty list = valid)."""
        with self._lock:
            return verify_config_data(self._data)

    def get_ssconf_values(self):
        """``{ssconf key: text}`` for the current configuration."""
        with self._lock:
            return ssconf_values.compute_ssconf_values(self._data)

    # ------------------------------------------------------------------
    # Cluster
    def get_cluster_info(self):
        with self._lock:
            return self._data.cluster.copy()

    def _cluster_attr(self, name):
        with self._lock:
            return copy.deepcopy(getattr(self._data.cluster, name))

    def get_cluster_name(self):
        return self._cluster_attr("cluster_name")

    def get_master_node(self):
        """UUID of the master node."""
        return self._cluster_attr("master_node")

    def get_master_node_name(self):
        with self._lock:
            return derived.master_node_name(self._data)

    def get_master_node_info(self):
        with self._lock:
            return _copy(self._data.nodes.get(self._data.cluster.master_node))

    def get_master_ip(self):
        return self._cluster_attr("master_ip")

    def get_master_netdev(self):
        return self._cluster_attr("master_netdev")

    def get_master_netmask(self):
        return self._cluster_attr("master_netmask")

    def get_use_external_mip_script(self):
        return bool(self._cluster_attr("use_external_mip_script"))

    def get_file_storage_dir(self):
        return self._cluster_attr("file_storage_dir")

    def get_shared_file_storage_dir(self):
        return self._cluster_attr("shared_file_storage_dir")

    def get_gluster_storage_dir(self):
        return self._cluster_attr("gluster_storage_dir")

    def get_enabled_hypervisors(self):
        return self._cluster_attr("enabled_hypervisors") or []

    def get_hypervisor_type(self):
        """The default hypervisor: the first enabled one."""
        with self._lock:
            return derived.default_hypervisor(self._data.cluster)

    def get_enabled_disk_templates(self):
        return self._cluster_attr("enabled_disk_templates") or []

    def get_vg_name(self):
        return self._cluster_attr("volume_group_name")

    def get_drbd_helper(self):
        return self._cluster_attr("drbd_usermode_helper")

    def get_mac_prefix(self):
        return self._cluster_attr("mac_prefix")

    def get_primary_ip_family(self):
        return self._cluster_attr("primary_ip_family")

    def get_candidate_certs(self):
        return self._cluster_attr("candidate_certs") or {}

    def get_ndparams(self, node):
        """Filled node parameters of ``node`` (object or UUID)."""
        with self._lock:
            if not isinstance(node, objects.Node):
                node = self._data.nodes.get(node)
                if node is None:
                    return None
            return derived.filled_node_ndparams(self._data, node)

    # ------------------------------------------------------------------
    # Nodes
    def _sorted_node_uuids(self, predicate=None):
        nodes = [n for n in self._data.nodes.values()
                 if predicate is None or predicate(n)]
        return [n.uuid for n in text_utils.nice_sort(nodes,
                                                     key=lambda n: n.name)]

    def get_node_list(self):
        """Node UUIDs, ordered by node name."""
        with self._lock:
            return self._sorted_node_uuids()

    def get_online_node_list(self):
        with self._lock:
            return self._sorted_node_uuids(lambda n: not n.offline)

    def get_vm_capable_node_list(self):
        with self._lock:
            return self._sorted_node_uuids(lambda n: n.vm_capable)

    def get_non_vm_capable_node_list(self):
        with self._lock:
            return self._sorted_node_uuids(lambda n: not n.vm_capable)

    def get_all_nodes_info(self):
        """``{uuid: Node}`` (copies)."""
        with self._lock:
            return dict((uuid, node.copy())
                        for uuid, node in self._data.nodes.items())

    def get_node_info(self, node_uuid):
        with self._lock:
            return _copy(self._data.nodes.get(node_uuid))

    def _node_by_name(self, name):
        for node in self._data.nodes.values():
            if node.name == name:
                return node
        return None

    def get_node_info_by_name(self, name):
        with self._lock:
            return _copy(self._node_by_name(name))

    def get_node_name(self, node_uuid):
        with self._lock:
            node = self._data.nodes.get(node_uuid)
            return node.name if node is not None else None

    def get_node_names(self, node_uuids):
        """Names in the order of ``node_uuids`` (None for unknown ones)."""
        with self._lock:
            return [self._data.nodes[u].name if u in self._data.nodes
                    else None for u in node_uuids]

    def expand_node_name(self, short_name):
        """``(uuid, full name)`` of the node ``short_name`` designates
        (exact name, or a unique ``short_name.`` prefix), else
        ``(None, None)``."""
        with self._lock:
            by_name = dict((n.name, n.uuid) for n in self._data.nodes.values())
            if short_name in self._data.nodes:
                return (short_name, self._data.nodes[short_name].name)
        full = derived.match_name(short_name, list(by_name))
        if full is None:
            return (None, None)
        return (by_name[full], full)

    def get_master_candidate_stats(self, exceptions=None):
        """``(mc_now, mc_should, mc_max)``: current candidates, the wanted
        number (pool size capped by eligible nodes), eligible nodes."""
        with self._lock:
            return self._candidate_stats(self._data, exceptions)

    @staticmethod
    def _candidate_stats(data, exceptions):
        exceptions = set(exceptions or [])
        mc_now = mc_max = 0
        for node in data.nodes.values():
            if node.uuid in exceptions:
                continue
            if not (node.offline or node.drained) and node.master_capable:
                mc_max += 1
            if node.master_candidate:
                mc_now += 1
        mc_should = min(mc_max, data.cluster.candidate_pool_size or 0)
        return (mc_now, mc_should, mc_max)

    def get_node_instances(self, node_uuid):
        """``(primary instance uuids, secondary instance uuids)``."""
        with self._lock:
            primary, secondary = [], []
            for inst_uuid, inst in self._data.instances.items():
                nodes = derived.instance_all_nodes(self._data, inst)
                if inst.primary_node == node_uuid:
                    primary.append(inst_uuid)
                elif node_uuid in nodes:
                    secondary.append(inst_uuid)
            return (primary, secondary)

    # ------------------------------------------------------------------
    # Node groups
    def get_node_group(self, group_uuid):
        with self._lock:
            return _copy(self._data.nodegroups.get(group_uuid))

    def get_all_node_groups_info(self):
        with self._lock:
            return dict((uuid, group.copy())
                        for uuid, group in self._data.nodegroups.items())

    def lookup_node_group(self, target):
        """UUID of the group named (or identified by) ``target``; ``None``
        means "the only group" and fails if there are several."""
        with self._lock:
            groups = self._data.nodegroups
            if target is None:
                if len(groups) != 1:
                    raise errors.OpPrereqError(
                        "More than one node group exists. Target group must"
                        " be specified explicitly.", errors.ECODE_INVAL)
                return list(groups)[0]
            if target in groups:
                return target
            for group in groups.values():
                if group.name == target:
                    return group.uuid
        raise errors.OpPrereqError("Node group '%s' not found" % target,
                                   errors.ECODE_NOENT)

    def get_group_node_list(self, group_uuid):
        """UUIDs of the nodes in the group, ordered by name."""
        with self._lock:
            return self._sorted_node_uuids(lambda n: n.group == group_uuid)

    get_node_group_members = get_group_node_list

    # ------------------------------------------------------------------
    # Instances and disks
    def _instance_copy(self, inst):
        if inst is None:
            return None
        result = inst.copy()
        result.secondary_nodes = derived.instance_secondary_nodes(self._data,
                                                                  inst)
        return result

    def get_instance_list(self):
        """Instance UUIDs, ordered by instance name."""
        with self._lock:
            insts = text_utils.nice_sort(list(self._data.instances.values()),
                                         key=lambda i: i.name or "")
            return [i.uuid for i in insts]

    def get_all_instances_info(self):
        with self._lock:
            return dict((uuid, self._instance_copy(inst))
                        for uuid, inst in self._data.instances.items())

    def get_instance_info(self, inst_uuid):
        """Copy of the instance (``secondary_nodes`` filled in), or None."""
        with self._lock:
            return self._instance_copy(self._data.instances.get(inst_uuid))

    def get_instance_info_by_name(self, name):
        with self._lock:
            for inst in self._data.instances.values():
                if inst.name == name:
                    return self._instance_copy(inst)
            return None

    def get_instance_name(self, inst_uuid):
        with self._lock:
            inst = self._data.instances.get(inst_uuid)
            return inst.name if inst is not None else None

    def expand_instance_name(self, short_name):
        """``(uuid, full name)`` or ``(None, None)``, like nodes."""
        with self._lock:
            if short_name in self._data.instances:
                return (short_name, self._data.instances[short_name].name)
            by_name = dict((i.name, i.uuid)
                           for i in self._data.instances.values())
        full = derived.match_name(short_name, list(by_name))
        if full is None:
            return (None, None)
        return (by_name[full], full)

    def get_instance_disks(self, inst_uuid):
        """The instance's Disk objects (copies) in index order."""
        with self._lock:
            inst = self._data.instances.get(inst_uuid)
            if inst is None:
                return []
            return [d.copy() for d in derived.instance_disks(self._data, inst)]

    def get_instance_secondary_nodes(self, inst_uuid):
        with self._lock:
            inst = self._data.instances.get(inst_uuid)
            if inst is None:
                return []
            return derived.instance_secondary_nodes(self._data, inst)

    def get_instance_all_nodes(self, inst_uuid):
        with self._lock:
            inst = self._data.instances.get(inst_uuid)
            if inst is None:
                return []
            return derived.instance_all_nodes(self._data, inst)

    def get_instance_disk_template(self, inst_uuid):
        with self._lock:
            inst = self._data.instances.get(inst_uuid)
            if inst is None:
                return None
            return derived.instance_disk_template(self._data, inst)

    def get_disk_info(self, disk_uuid):
        with self._lock:
            return _copy(self._data.disks.get(disk_uuid))

    # ------------------------------------------------------------------
    # Networks
    def get_network(self, net_uuid):
        with self._lock:
            return _copy(self._data.networks.get(net_uuid))

    def get_all_networks_info(self):
        with self._lock:
            return dict((uuid, net.copy())
                        for uuid, net in self._data.networks.items())

    def lookup_network(self, target):
        """UUID of the network named (or identified by) ``target``."""
        with self._lock:
            if target in self._data.networks:
                return target
            for net in self._data.networks.values():
                if net.name == target:
                    return net.uuid
        raise errors.OpPrereqError("Network '%s' not found" % target,
                                   errors.ECODE_NOENT)

    # ------------------------------------------------------------------
    # Mutations
    def add_node(self, node, ec_id=None):
        """Add a node (a copy of ``node`` is stored)."""
        node = node.copy()

        def change(data, log, now):
            self._ensure_uuid(node, ec_id)
            if node.group is None:
                node.group = self.lookup_node_group(None)
            node.serial_no = 1
            node.ctime = node.mtime = now
            log.save_item("nodes", node.uuid)
            data.nodes[node.uuid] = node
            self._bump_cluster(data, log, now)
            return node.uuid
        return self._mutate(change)

    def remove_node(self, node_uuid):
        def change(data, log, now):
            if node_uuid not in data.nodes:
                raise errors.ConfigurationError("Unknown node '%s'" %
                                                node_uuid)
            log.save_item("nodes", node_uuid)
            del data.nodes[node_uuid]
            self._bump_cluster(data, log, now)
        self._mutate(change)

    def add_node_group(self, group, ec_id=None, check_uuid=True):
        """Add a node group; its name must be new."""
        group = group.copy()

        def change(data, log, now):
            for other in data.nodegroups.values():
                if other.name == group.name:
                    raise errors.OpPrereqError(
                        "Desired group name '%s' already exists as a node"
                        " group (UUID: %s)" % (group.name, other.uuid),
                        errors.ECODE_EXISTS)
            if check_uuid or not group.uuid:
                self._ensure_uuid(group, ec_id)
            group.serial_no = 1
            group.ctime = group.mtime = now
            if group.networks is None:
                group.networks = {}
            log.save_item("nodegroups", group.uuid)
            data.nodegroups[group.uuid] = group
            self._bump_cluster(data, log, now)
            return group.uuid
        return self._mutate(change)

    def remove_node_group(self, group_uuid):
        def change(data, log, now):
            if group_uuid not in data.nodegroups:
                raise errors.ConfigurationError("Unknown node group '%s'" %
                                                group_uuid)
            if len(data.nodegroups) == 1:
                raise errors.ConfigurationError(
                    "Group '%s' is the only group, cannot be removed" %
                    data.nodegroups[group_uuid].name)
            log.save_item("nodegroups", group_uuid)
            del data.nodegroups[group_uuid]
            self._bump_cluster(data, log, now)
        self._mutate(change)

    def add_instance(self, instance, ec_id=None, disks=None):
        """Add an instance and (optionally) its new ``disks``.

        When ``disks`` are given and ``instance.disks`` is empty, the
        instance refers to them in the given order.
        """
        instance = instance.copy()
        disks = [d.copy() for d in disks or []]

        def change(data, log, now):
            used = self._all_macs()
            for nic in instance.nics or []:
                if nic.mac in used:
                    raise errors.ConfigurationError(
                        "Cannot add instance %s: MAC address '%s' already in"
                        " use." % (instance.name, nic.mac))
            self._ensure_uuid(instance, ec_id)
            for disk in disks:
                self._ensure_uuid(disk, ec_id)
                disk.serial_no = 1
                disk.ctime = disk.mtime = now
                log.save_item("disks", disk.uuid)
                data.disks[disk.uuid] = disk
            if disks and not instance.disks:
                instance.disks = [d.uuid for d in disks]
            instance.secondary_nodes = None
            instance.serial_no = 1
            instance.ctime = instance.mtime = now
            log.save_item("instances", instance.uuid)
            data.instances[instance.uuid] = instance
            self._bump_cluster(data, log, now)
            return instance.uuid
        return self._mutate(change)

    def remove_instance(self, inst_uuid):
        """Remove an instance with its disks; its network port goes back to
        the cluster's port pool."""
        def change(data, log, now):
            inst = data.instances.get(inst_uuid)
            if inst is None:
                raise errors.ConfigurationError("Unknown instance '%s'" %
                                                inst_uuid)
            for disk_uuid in inst.disks or []:
                log.save_item("disks", disk_uuid)
                data.disks.pop(disk_uuid, None)
            if inst.network_port is not None:
                cluster = data.cluster
                log.save_attrs(cluster, "tcpudp_port_pool")
                pool = cluster.tcpudp_port_pool or []
                if inst.network_port not in pool:
                    cluster.tcpudp_port_pool = pool + [inst.network_port]
            log.save_item("instances", inst_uuid)
            del data.instances[inst_uuid]
            self._bump_cluster(data, log, now)
        self._mutate(change)

    def add_instance_disk(self, inst_uuid, disk, idx=None, ec_id=None):
        """Attach a new disk (a copy is stored) at index ``idx`` (default:
        last); the disk's UUID."""
        disk = disk.copy()

        def change(data, log, now):
            inst = data.instances.get(inst_uuid)
            if inst is None:
                raise errors.ConfigurationError("Unknown instance '%s'" %
                                                inst_uuid)
            self._ensure_uuid(disk, ec_id)
            disk.serial_no = 1
            disk.ctime = disk.mtime = now
            log.save_item("disks", disk.uuid)
            data.disks[disk.uuid] = disk
            log.save_item("instances", inst_uuid)
            inst = inst.copy()
            disks = list(inst.disks or [])
            disks.insert(len(disks) if idx is None else idx, disk.uuid)
            inst.disks = disks
            inst.serial_no = (inst.serial_no or 0) + 1
            inst.mtime = now
            data.instances[inst_uuid] = inst
            self._bump_cluster(data, log, now)
            return disk.uuid
        return self._mutate(change)

    def remove_instance_disk(self, inst_uuid, disk_uuid):
        """Detach and forget one disk of an instance."""
        def change(data, log, now):
            inst = data.instances.get(inst_uuid)
            if inst is None or disk_uuid not in (inst.disks or []):
                raise errors.ConfigurationError(
                    "Disk %s is not attached to instance '%s'" %
                    (disk_uuid, inst_uuid))
            log.save_item("instances", inst_uuid)
            inst = inst.copy()
            inst.disks = [d for d in inst.disks if d != disk_uuid]
            inst.serial_no = (inst.serial_no or 0) + 1
            inst.mtime = now
            data.instances[inst_uuid] = inst
            log.save_item("disks", disk_uuid)
            data.disks.pop(disk_uuid, None)
            self._bump_cluster(data, log, now)
        self._mutate(change)

    @staticmethod
    def _bump_cluster(data, log, now):
        log.save_attrs(data.cluster, "serial_no", "mtime")
        data.cluster.serial_no = (data.cluster.serial_no or 0) + 1
        data.cluster.mtime = now

    def update(self, target, feedback_fn=None):
        """Replace the stored object with ``target`` (a modified copy of the
        cluster, a node, group, instance, disk, network or filter).

        The object's serial number and mtime are bumped (also on
        ``target`` itself, so a caller can update it again); node, group
        and instance changes bump the cluster's serial number too.
        """
        collection = _MISSING
        for cls, name in _COLLECTION_OF:
            if isinstance(target, cls):
                collection = name
                break
        if collection is _MISSING:
            raise errors.ProgrammerError("Invalid object type %s passed to"
                                         " update" % type(target).__name__)
        new = target.copy()

        def change(data, log, now):
            if collection is None:
                current = data.cluster
                for name in _CONFIG_OWNED_CLUSTER_FIELDS:
                    setattr(new, name, copy.deepcopy(getattr(current, name)))
                log.save_cluster()
            else:
                coll = getattr(data, collection)
                current = coll.get(new.uuid)
                if current is None:
                    raise errors.ConfigurationError(
                        "Configuration updated since object has been read or"
                        " unknown object (%s %s)" %
                        (type(target).__name__, new.uuid))
                log.save_item(collection, new.uuid)
            if isinstance(new, objects.Instance):
                new.secondary_nodes = None
            new.serial_no = max(current.serial_no or 0,
                                new.serial_no or 0) + 1
            new.mtime = now
            if collection is None:
                data.cluster = new
            else:
                coll[new.uuid] = new
                if collection in _BUMPS_CLUSTER:
                    self._bump_cluster(data, log, now)
            return (new.serial_no, now)

        serial, mtime = self._mutate(change)
        target.serial_no = serial
        target.mtime = mtime
        if feedback_fn is not None:
            problems = self.verify_config()
            if problems:
                feedback_fn("Configuration has problems: %s" %
                            "; ".join(problems))

    def redistribute_config(self):
        """Write ``config.data`` again and hand it, with the ssconf values
        even if unchanged, to the distributor (``redist-conf``)."""
        def change(data, log, now):
            self._ssconf_force_serial = (data.serial_no or 0) + 1
        self._mutate(change)

    def maintain_candidate_pool(self, exception_uuids=None):
        """Promote eligible nodes (online, not drained, master capable, not
        in ``exception_uuids``) until the pool is full; returns copies of
        the promoted nodes."""
        exceptions = set(exception_uuids or [])

        def change(data, log, now):
            mc_now, mc_should, _ = self._candidate_stats(data, exceptions)
            promoted = []
            if mc_now >= mc_should:
                return promoted
            nodes = text_utils.nice_sort(list(data.nodes.values()),
                                         key=lambda n: n.name)
            for node in nodes:
                if mc_now >= mc_should:
                    break
                if (node.master_candidate or node.offline or node.drained or
                        node.uuid in exceptions or not node.master_capable):
                    continue
                log.save_item("nodes", node.uuid)
                new = node.copy()
                new.master_candidate = True
                new.serial_no = (new.serial_no or 0) + 1
                new.mtime = now
                data.nodes[new.uuid] = new
                promoted.append(new.copy())
                mc_now += 1
            if mc_now < mc_should:
                logging.warning("Warning: MaintainCandidatePool didn't manage"
                                " to fill the candidate pool (%d/%d)",
                                mc_now, mc_should)
            if promoted:
                self._bump_cluster(data, log, now)
            return promoted

        with self._lock:
            mc_now, mc_should, _ = self._candidate_stats(self._data,
                                                         exceptions)
            if mc_now >= mc_should:
                return []
        return self._mutate(change)
