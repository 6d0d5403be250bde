"""gnt-node evacuate: move every instance off a node, one job each.

Ganeti computes the moves with an instance allocator (or replaces the
DRBD secondary with ``-n``). This cluster has neither DRBD nor an
allocator, so the LU handles the instances it can move without one:

* primary instances with externally mirrored or no disks
  (sharedfile, blockdev, rbd, ext, gluster, diskless) get an
  OP_INSTANCE_MIGRATE job to ``remote_node`` with ``allow_failover``
  (running instances migrate, stopped ones fail over);
* secondary instances would be DRBD ones and are refused.

The jobs are returned as ``ResultWithJobs``, so the client waits for
them like Ganeti's ``gnt-node evacuate``.
"""

from ganeti import constants
from ganeti import errors
from ganeti import opcodes
from ganeti.cmdlib import base
from ganeti.cmdlib import instance_migration as im

NODE_EVAC_PRI = "primary-only"
NODE_EVAC_SEC = "secondary-only"
NODE_EVAC_ALL = "all"
NODE_EVAC_MODES = (NODE_EVAC_PRI, NODE_EVAC_SEC, NODE_EVAC_ALL)


class LUNodeEvacuate(base.NoHooksLU):
    """Relocate the primary (and secondary) instances of a node."""

    def check_arguments(self):
        if self.op.mode not in NODE_EVAC_MODES:
            raise errors.OpPrereqError("Invalid evacuation mode '%s'" %
                                       self.op.mode, errors.ECODE_INVAL)
        if self.op.iallocator and self.op.remote_node:
            raise errors.OpPrereqError("Give either the iallocator or the"
                                       " new node, not both",
                                       errors.ECODE_INVAL)
        if not self.op.iallocator and not self.op.remote_node:
            raise errors.OpPrereqError(
                "No iallocator or node given and no cluster-wide default"
                " iallocator found; please specify either an iallocator or"
                " a node, or set a cluster-wide default iallocator",
                errors.ECODE_INVAL)
        if self.op.iallocator:
            raise errors.OpPrereqError("Instance allocators are not supported"
                                       " by this cluster; please specify a"
                                       " target node", errors.ECODE_INVAL)

    def expand_names(self):
        uuid, name = self.cfg.expand_node_name(self.op.node_name)
        if uuid is None:
            raise errors.OpPrereqError("Node '%s' not known" %
                                       self.op.node_name, errors.ECODE_NOENT)
        self.node_uuid, self.op.node_name = uuid, name
        ruuid, rname = self.cfg.expand_node_name(self.op.remote_node)
        if ruuid is None:
            raise errors.OpPrereqError("Node '%s' not known" %
                                       self.op.remote_node,
                                       errors.ECODE_NOENT)
        if ruuid == uuid:
            raise errors.OpPrereqError("Can not use evacuated node as a new"
                                       " secondary node", errors.ECODE_INVAL)
        self.remote_uuid, self.op.remote_node = ruuid, rname
        self.share_locks[constants.LOCKS_NODE] = 1
        self.needed_locks[constants.LOCKS_NODE] = [uuid, ruuid]

    def _instances(self):
        primary, secondary = self.cfg.get_node_instances(self.node_uuid)
        if self.op.mode == NODE_EVAC_PRI:
            uuids = primary
        elif self.op.mode == NODE_EVAC_SEC:
            uuids = secondary
        else:
            uuids = primary + secondary
        insts = [self.cfg.get_instance_info(u) for u in uuids]
        return sorted(insts, key=lambda i: i.name)

    def check_prereq(self):
        self.instances = self._instances()
        for inst in self.instances:
            template = self.cfg.get_instance_disk_template(inst.uuid)
            if inst.primary_node != self.node_uuid:
                raise errors.OpPrereqError(
                    "Instance '%s' has the node %s as secondary node; only"
                    " DRBD instances have secondaries and DRBD is not"
                    " supported" % (inst.name, self.op.node_name),
                    errors.ECODE_INVAL)
            if template not in im.DTS_EXT_MIRROR:
                raise errors.OpPrereqError(
                    "Instance '%s' has disk template %s, which can not be"
                    " evacuated; use 'gnt-instance move'" %
                    (inst.name, template), errors.ECODE_STATE)

    def exec_(self, feedback_fn):
        jobs = []
        for inst in self.instances:
            jobs.append([opcodes.OpCode.from_dict({
                "OP_ID": "OP_INSTANCE_MIGRATE", "instance_name": inst.name,
                "target_node": self.op.remote_node,
                "allow_failover": True})])
        if not jobs:
            feedback_fn("No instances to evacuate on node %s" %
                        self.op.node_name)
        return base.ResultWithJobs(jobs)
