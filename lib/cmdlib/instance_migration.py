"""Moving a running instance between nodes: migrate, failover, node migrate.

One class, ``Migrator``, holds what migrate and failover share (Ganeti's
TLMigrateInstance): the choice of the target node, the prerequisite
checks and the three executions (live/non-live migration, cleanup of an
interrupted migration, failover = stop here and start there).

Only templates whose data every node can reach are handled here: the
externally mirrored ones (sharedfile, blockdev, rbd, ext, gluster) and
diskless instances. They go to any node the user names; ``file`` and
``plain`` disks live on one node and are refused with Ganeti's message
(``gnt-instance move`` copies those). DRBD (internally mirrored, target
fixed to the secondary) is not implemented in this code base.
"""

import logging
import time

from ganeti import constants
from ganeti import errors
from ganeti import opcodes
from ganeti.cmdlib import base
from ganeti.cmdlib import instance_utils as iu


MIGRATION_LIVE = "live"
MIGRATION_NONLIVE = "non-live"
MIGRATION_MODES = (MIGRATION_LIVE, MIGRATION_NONLIVE)

# Poll interval of the memory transfer and how often progress is shown.
MIGRATION_POLL_INTERVAL = 0.5
MIGRATION_FEEDBACK_INTERVAL = 10.0
# Statuses after which the source stops transferring.
_MIGRATION_DONE = frozenset(["completed", "failed", "cancelled"])
_MIGRATION_FAILED = frozenset(["failed", "cancelled"])


def node_ip(cfg, node_uuid):
    """The address used for instance traffic (secondary IP, as Ganeti)."""
    node = cfg.get_node_info(node_uuid)
    return node.secondary_ip or node.primary_ip


def expand_target_node(lu):
    """Resolve ``op.target_node`` (may be None); sets ``lu.target_uuid``."""
    lu.target_uuid = None
    if lu.op.target_node:
        lu.target_uuid, lu.op.target_node = base.expand_node_name(
            lu.cfg, lu.op.target_node)


def check_iallocator_or_node(lu):
    """Ganeti's CheckIAllocatorOrNode for the target of a move: a node,
    or an allocator (the cluster default when neither is given)."""
    from ganeti import iallocator
    iallocator.check_iallocator_or_node(lu.cfg, lu.op, "iallocator",
                                        "target_node")


def choose_target_by_allocator(lu, instance):
    """Ask ``op.iallocator`` where the instance should go (a relocate
    request away from its primary); sets ``op.target_node`` and returns
    the node's UUID."""
    from ganeti import iallocator
    ial = iallocator.allocate(lu, lu.op.iallocator, iallocator.MODE_RELOC,
                              inst_uuid=instance.uuid,
                              relocate_from=[instance.primary_node])
    uuid, lu.op.target_node = base.expand_node_name(lu.cfg, ial.result[0])
    lu.feedback_fn("Selected nodes for instance %s via iallocator %s: %s" %
                   (instance.name, lu.op.iallocator, ", ".join(ial.result)))
    return uuid


def set_primary_node(lu, instance, node_uuid, feedback_fn=None):
    """Make ``node_uuid`` the instance's primary node.

    The disks of a single-node instance list that node in ``nodes`` (the
    secondaries are derived from the disks), so they move along.
    """
    current = lu.cfg.get_instance_info(instance.uuid)
    current.primary_node = node_uuid
    lu.cfg.update(current, feedback_fn)
    for disk in lu.cfg.get_instance_disks(instance.uuid):
        if list(disk.nodes or []) != [node_uuid]:
            disk.nodes = [node_uuid]
            lu.cfg.update(disk)
    fresh = lu.cfg.get_instance_info(instance.uuid)
    instance.primary_node = node_uuid
    instance.serial_no = fresh.serial_no
    return fresh


def check_bridges(lu, instance, node_uuid):
    """The bridges of the instance's bridged NICs exist on the node."""
    cluster = lu.cfg.get_cluster_info()
    bridges = []
    for nic in instance.nics or []:
        params = cluster.fill_nic(nic.nicparams)
        if params.get("mode") == constants.NIC_MODE_BRIDGED and \
                params.get("link"):
            bridges.append(params["link"])
    if not bridges:
        return
    node = lu.cfg.get_node_info(node_uuid)
    result = lu.rpc.call_single("bridges_exist", node.name, [bridges])
    result.raise_on_failure("Error checking bridges on destination node"
                            " '%s'" % node.name, prereq=True,
                            ecode=errors.ECODE_ENVIRON)


class Migrator:
    """Shared by LUInstanceMigrate and LUInstanceFailover.

    ``failover`` may switch from False to True during ``check_prereq``
    (always_failover, or a stopped instance with ``allow_failover``).
    """

    def __init__(self, lu, cleanup=False, failover=False, fallback=False,
                 ignore_consistency=False, shutdown_timeout=None):
        self.lu = lu
        self.cfg = lu.cfg
        self.rpc = lu.rpc
        self.cleanup = cleanup
        self.failover = failover
        self.fallback = fallback
        self.ignore_consistency = ignore_consistency
        self.shutdown_timeout = (120
                                 if shutdown_timeout is None
                                 else shutdown_timeout)
        self.live = False
        self.instance = None
        self.source_uuid = None
        self.target_uuid = None

    def feedback(self, msg):
        self.lu.feedback_fn(msg)

    # --- prerequisites ---
    def check_prereq(self):
        lu = self.lu
        instance = self.cfg.get_instance_info(lu.instance_uuid)
        self.instance = instance
        self.source_uuid = instance.primary_node
        template = self.cfg.get_instance_disk_template(instance.uuid)
        if template not in constants.DTS_MIRRORED:
            raise errors.OpPrereqError(
                "Instance's disk layout '%s' does not allow %s" %
                (template, "failovers" if self.failover else "migrations"),
                errors.ECODE_STATE)
        if template in constants.DTS_INT_MIRROR:
            raise errors.OpPrereqError("Disk template %s is not supported by"
                                       " this cluster" % template,
                                       errors.ECODE_INVAL)
        if not self.failover and not self.cleanup and self.fallback and \
                instance.admin_state != constants.ADMINST_UP:
            lu.log_info("Instance is marked down or offline, fallback"
                        " allowed, switching to failover")
            self.failover = True
        self.target_uuid = lu.target_uuid
        if self.target_uuid is None and lu.op.iallocator:
            self.target_uuid = choose_target_by_allocator(lu, instance)
            lu.target_uuid = self.target_uuid
        if self.target_uuid == instance.primary_node:
            raise errors.OpPrereqError(
                "Cannot migrate instance %s to its primary (%s)" %
                (instance.name,
                 self.cfg.get_node_info(instance.primary_node).name),
                errors.ECODE_STATE)
        cluster = self.cfg.get_cluster_info()
        bep = iu.filled_beparams(self.cfg, instance)
        hvp = iu.filled_hvparams(self.cfg, instance)
        if not self.cleanup and (not self.failover or
                                 instance.admin_state ==
                                 constants.ADMINST_UP):
            iu.check_node_free_memory(
                lu, self.target_uuid, "migrating instance %s" %
                instance.name, bep[constants.BE_MINMEM],
                instance.hypervisor, cluster.fill_hv(instance.hypervisor))
        else:
            lu.log_info("Not checking memory on the secondary node as"
                        " instance will not be started")
        if not self.cleanup and not self.failover and \
                bep.get(constants.BE_ALWAYS_FAILOVER):
            lu.log_info("Instance configured to always failover; fallback"
                        " to failover")
            self.failover = True
        check_bridges(lu, instance, self.target_uuid)
        if not self.cleanup:
            target = self.cfg.get_node_info(self.target_uuid)
            base.check_node_online(lu, self.target_uuid)
            if target.drained:
                raise errors.OpPrereqError(
                    "Can't use drained node %s" % target.name,
                    errors.ECODE_STATE)
            if not target.vm_capable:
                raise errors.OpPrereqError(
                    "Can't use non-vm_capable node %s" % target.name,
                    errors.ECODE_STATE)
            if not self.failover:
                pnode = self.cfg.get_node_info(instance.primary_node)
                result = self.rpc.call_single(
                    "instance_migratable", pnode.name,
                    [iu.instance_rpc_dict(self.cfg, instance)])
                if result.fail_msg and self.fallback:
                    lu.log_info("Can't migrate, instance offline, fallback"
                                " to failover")
                    self.failover = True
                else:
                    result.raise_on_failure(
                        "Can't migrate, please use failover", prereq=True,
                        ecode=errors.ECODE_STATE)
        if not self.failover:
            op = lu.op
            if op.live is not None and op.mode is not None:
                raise errors.OpPrereqError("Only one of the 'live' and"
                                           " 'mode' parameters are"
                                           " accepted", errors.ECODE_INVAL)
            if op.live is not None:
                op.mode = MIGRATION_LIVE if op.live else MIGRATION_NONLIVE
                op.live = None
            elif op.mode is None:
                op.mode = hvp.get("migration_mode", MIGRATION_LIVE)
            if op.mode not in MIGRATION_MODES:
                raise errors.OpPrereqError("Invalid migration mode '%s'" %
                                           op.mode, errors.ECODE_INVAL)
            self.live = op.mode == MIGRATION_LIVE
        else:
            self.live = False

    # --- execution ---
    def exec_(self, feedback_fn):
        if self.failover:
            self.feedback("Failover instance %s" % self.instance.name)
            return self._exec_failover()
        self.feedback("Migrating instance %s" % self.instance.name)
        if self.cleanup:
            return self._exec_cleanup()
        return self._exec_migration()

    def _names(self):
        return (self.cfg.get_node_info(self.source_uuid).name,
                self.cfg.get_node_info(self.target_uuid).name)

    def _inst_dict(self):
        return iu.instance_rpc_dict(self.cfg, self.instance)

    def _exec_cleanup(self):
        instance = self.instance
        source, target = self._names()
        self.feedback("* checking where the instance actually runs (if this"
                      " hangs, the hypervisor might be in a bad state)")
        hvparams = self.cfg.get_cluster_info().fill_hv(instance.hypervisor)
        results = self.rpc.call("instance_list", [source, target],
                                [[instance.hypervisor],
                                 {instance.hypervisor: hvparams}])
        for name, result in results.items():
            result.raise_on_failure("Can't contact node %s" % name)
        on_source = instance.name in (results[source].payload or [])
        on_target = instance.name in (results[target].payload or [])
        if on_source and on_target:
            raise errors.OpExecError(
                "Instance seems to be running on two nodes, or the"
                " hypervisor is confused; you will have to ensure manually"
                " that it runs only on one and restart this operation")
        if not (on_source or on_target):
            raise errors.OpExecError(
                "Instance does not seem to be running at all; in this case"
                " it's safer to repair by running 'gnt-instance stop' to"
                " ensure disk shutdown, and then restarting it")
        if on_target:
            self.feedback("* instance running on secondary node (%s),"
                          " updating config" % target)
            set_primary_node(self.lu, instance, self.target_uuid,
                             self.feedback)
        else:
            self.feedback("* instance confirmed to be running on its"
                          " primary node (%s)" % source)
        self.feedback("* done")

    def _abort_migration(self, info):
        """Tell both sides the migration failed (the source keeps the
        instance)."""
        source, target = self._names()
        inst = self._inst_dict()
        result = self.rpc.call_single("instance_finalize_migration_dst",
                                      target, [inst, info, False])
        if result.fail_msg:
            logging.error("Aborting migration failed on target node %s: %s",
                          target, result.fail_msg)
        result = self.rpc.call_single("instance_finalize_migration_src",
                                      source, [inst, False, self.live])
        if result.fail_msg:
            logging.error("Aborting migration failed on source node %s: %s",
                          source, result.fail_msg)

    def _exec_migration(self):
        instance = self.instance
        source, target = self._names()
        inst = self._inst_dict()
        result = self.rpc.call_single("migration_info", source, [inst])
        if result.fail_msg:
            msg = ("Failed fetching source migration information from %s:"
                   " %s" % (source, result.fail_msg))
            logging.error(msg)
            raise errors.OpExecError(msg)
        info = result.payload
        self.feedback("* preparing %s to accept the instance" % target)
        result = self.rpc.call_single(
            "accept_instance", target,
            [inst, info, node_ip(self.cfg, self.target_uuid)])
        if result.fail_msg:
            logging.error("Instance pre-migration failed, trying to revert"
                          " disk status: %s", result.fail_msg)
            self.feedback("Pre-migration failed, aborting")
            self._abort_migration(info)
            raise errors.OpExecError("Could not pre-migrate instance %s: %s"
                                     % (instance.name, result.fail_msg))
        self.feedback("* migrating instance to %s" % target)
        started = time.time()
        result = self.rpc.call_single(
            "instance_migrate", source,
            [self.cfg.get_cluster_name(), inst,
             node_ip(self.cfg, self.target_uuid), self.live])
        if result.fail_msg:
            logging.error("Instance migration failed, trying to revert disk"
                          " status: %s", result.fail_msg)
            self.feedback("Migration failed, aborting")
            self._abort_migration(info)
            raise errors.OpExecError("Could not migrate instance %s: %s" %
                                     (instance.name, result.fail_msg))
        self.feedback("* starting memory transfer")
        last_feedback = time.time()
        while True:
            result = self.rpc.call_single("instance_get_migration_status",
                                          source, [inst])
            status = result.payload or {}
            msg = result.fail_msg
            if msg or status.get("status") in _MIGRATION_FAILED:
                logging.error("Instance migration failed, trying to revert"
                              " disk status: %s", msg)
                self.feedback("Migration failed, aborting")
                self._abort_migration(info)
                if not msg:
                    msg = status.get("error") or "hypervisor returned failure"
                raise errors.OpExecError("Could not migrate instance %s: %s"
                                         % (instance.name, msg))
            if status.get("status") in _MIGRATION_DONE:
                self.feedback("* memory transfer complete")
                break
            if time.time() - last_feedback > MIGRATION_FEEDBACK_INTERVAL and \
                    status.get("transferred_ram") is not None and \
                    status.get("total_ram"):
                self.feedback("* memory transfer progress: %.2f %%" %
                              (100.0 * status["transferred_ram"] /
                               status["total_ram"]))
                last_feedback = time.time()
            time.sleep(MIGRATION_POLL_INTERVAL)
        logging.info("Migration of %s took %.2f s", instance.name,
                     time.time() - started)
        result = self.rpc.call_single("instance_finalize_migration_src",
                                      source, [inst, True, self.live])
        if result.fail_msg:
            logging.error("Instance migration succeeded, but finalization"
                          " failed on the source node: %s", result.fail_msg)
            raise errors.OpExecError("Could not finalize instance migration:"
                                     " %s" % result.fail_msg)
        set_primary_node(self.lu, instance, self.target_uuid, self.feedback)
        inst = self._inst_dict()
        result = self.rpc.call_single("instance_finalize_migration_dst",
                                      target, [inst, info, True])
        if result.fail_msg:
            logging.error("Instance migration succeeded, but finalization"
                          " failed on the target node: %s", result.fail_msg)
            raise errors.OpExecError("Could not finalize instance migration:"
                                     " %s" % result.fail_msg)
        self.feedback("* done")

    def _exec_failover(self):
        lu = self.lu
        instance = self.instance
        source, target = self._names()
        source_node = self.cfg.get_node_info(self.source_uuid)
        if instance.disks_active:
            # externally mirrored disks are the same data on every node
            self.feedback("* checking disk consistency between source and"
                          " target")
        else:
            self.feedback("* not checking disk consistency as instance is"
                          " not running")
        self.feedback("* shutting down instance on source node")
        result = iu.shutdown_instance_on_node(lu, instance, self.source_uuid,
                                              self.shutdown_timeout)
        if result.fail_msg:
            if self.ignore_consistency or source_node.offline:
                lu.log_warning("Could not shutdown instance %s on node %s,"
                               " proceeding anyway; please make sure node"
                               " %s is down; error details: %s",
                               instance.name, source, source,
                               result.fail_msg)
            else:
                raise errors.OpExecError("Could not shutdown instance %s on"
                                         " node %s: %s" %
                                         (instance.name, source,
                                          result.fail_msg))
        self.feedback("* deactivating the instance's disks on source node")
        if not iu.shutdown_disks(lu, instance, ignore_primary=True):
            raise errors.OpExecError("Can't shut down the instance's disks")
        instance = set_primary_node(lu, instance, self.target_uuid,
                                    self.feedback)
        self.instance = instance
        if instance.admin_state == constants.ADMINST_UP:
            self.feedback("* activating the instance's disks on target node"
                          " %s" % target)
            self.feedback("* starting the instance on the target node %s" %
                          target)
            try:
                iu.start_instance_on_node(lu, instance, self.target_uuid)
            except errors.OpExecError as err:
                raise errors.OpExecError("Could not start instance %s on node"
                                         " %s: %s" % (instance.name, target,
                                                      err))


class _InstanceMoveLU(base.LogicalUnit):
    """Common locking and hooks of migrate and failover."""

    HTYPE = "INSTANCE"

    def check_arguments(self):
        if self.op.cleanup and self.is_failover:
            raise errors.OpPrereqError("Cleanup is only possible for"
                                       " migrations", errors.ECODE_INVAL)

    def expand_names(self):
        iu.expand_instance(self)
        expand_target_node(self)
        template = self.cfg.get_instance_disk_template(self.instance_uuid)
        if template in constants.DTS_EXT_MIRROR:
            check_iallocator_or_node(self)
        nodes = [self.instance.primary_node]
        if self.target_uuid and self.target_uuid not in nodes:
            nodes.append(self.target_uuid)
        if self.op.iallocator and not self.target_uuid:
            # the allocator may pick any node
            nodes = base.ALL_SET
        self.needed_locks[constants.LOCKS_INSTANCE] = [self.instance_uuid]
        self.needed_locks[constants.LOCKS_NODE] = nodes
        self.needed_locks[constants.LOCKS_NODE_RES] = \
            nodes if nodes == base.ALL_SET else list(nodes)
        self.migrator = self._make_migrator()

    def check_prereq(self):
        self.migrator.check_prereq()

    def exec_(self, feedback_fn):
        return self.migrator.exec_(feedback_fn)

    def build_hooks_env(self):
        instance = self.cfg.get_instance_info(self.instance_uuid)
        env = iu.hooks_env(self, instance)
        source = self.cfg.get_node_info(instance.primary_node).name
        target = self.op.target_node or ""
        env.update({"OLD_PRIMARY": source, "NEW_PRIMARY": target,
                    "OLD_SECONDARY": target, "NEW_SECONDARY": source})
        return env

    def build_hooks_nodes(self):
        pre, post = iu.hooks_nodes(self, self.instance)
        if self.op.target_node and self.op.target_node not in post:
            post = post + [self.op.target_node]
        return pre, post


class LUInstanceMigrate(_InstanceMoveLU):
    """gnt-instance migrate."""

    HPATH = "instance-migrate"
    is_failover = False

    def _make_migrator(self):
        return Migrator(self, cleanup=self.op.cleanup, failover=False,
                        fallback=self.op.allow_failover)

    def build_hooks_env(self):
        env = _InstanceMoveLU.build_hooks_env(self)
        env["MIGRATE_LIVE"] = str(self.migrator.live)
        env["MIGRATE_CLEANUP"] = str(bool(self.op.cleanup))
        return env


class LUInstanceFailover(_InstanceMoveLU):
    """gnt-instance failover."""

    HPATH = "instance-failover"
    is_failover = True

    def _make_migrator(self):
        return Migrator(self, cleanup=False, failover=True,
                        ignore_consistency=self.op.ignore_consistency,
                        shutdown_timeout=self.op.shutdown_timeout)

    def build_hooks_env(self):
        env = _InstanceMoveLU.build_hooks_env(self)
        env["IGNORE_CONSISTENCY"] = str(bool(self.op.ignore_consistency))
        env["SHUTDOWN_TIMEOUT"] = str(self.op.shutdown_timeout)
        return env


def node_primary_instances(cfg, node_uuid):
    """The instances whose primary is the node, ordered by name."""
    primary, _ = cfg.get_node_instances(node_uuid)
    insts = [cfg.get_instance_info(uuid) for uuid in primary]
    return sorted(insts, key=lambda i: i.name)


class LUNodeMigrate(base.LogicalUnit):
    """gnt-node migrate: one OP_INSTANCE_MIGRATE job per primary
    instance."""

    HPATH = "node-migrate"
    HTYPE = "NODE"

    def expand_names(self):
        uuid, self.op.node_name = base.expand_node_name(self.cfg,
                                                        self.op.node_name)
        self.node_uuid = uuid
        expand_target_node(self)
        if self.target_uuid == self.node_uuid:
            raise errors.OpPrereqError("Cannot migrate instances to the same"
                                       " node", errors.ECODE_INVAL)
        self.share_locks[constants.LOCKS_NODE] = 1
        self.needed_locks[constants.LOCKS_NODE] = [uuid]

    def build_hooks_env(self):
        return {"NODE_NAME": self.op.node_name,
                "ALLOW_RUNTIME_CHANGES": self.op.allow_runtime_changes}

    def build_hooks_nodes(self):
        names = [self.cfg.get_master_node_name()]
        return names, names

    def exec_(self, feedback_fn):
        jobs = [[opcodes.OpCode.from_dict({
            "OP_ID": "OP_INSTANCE_MIGRATE", "instance_name": inst.name,
            "mode": self.op.mode, "live": self.op.live,
            "iallocator": self.op.iallocator,
            "target_node": self.op.target_node,
            "allow_runtime_changes": self.op.allow_runtime_changes,
            "ignore_ipolicy": self.op.ignore_ipolicy})]
            for inst in node_primary_instances(self.cfg, self.node_uuid)]
        return base.ResultWithJobs(jobs)
