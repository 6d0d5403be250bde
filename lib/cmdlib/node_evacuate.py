"""gnt-node evacuate: move every instance off a node, one job each.

With ``-I NAME`` (or the cluster's default allocator) the moves are
computed by the instance allocator, as in Ganeti: a ``node-evacuate``
request, whose answer lists the jobs (failover, migrate or replace-disks
opcodes) that the LU submits; instances the allocator could not place
fail the operation with their reasons.

With ``-n NODE`` Ganeti only replaces DRBD secondaries. This cluster has
no DRBD, so ``-n`` does what it can without an allocator:

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
from ganeti import iallocator
from ganeti import opcodes
from ganeti.cmdlib import base
from ganeti.cmdlib import instance_migration as im

NODE_EVAC_PRI = iallocator.NODE_EVAC_PRI
NODE_EVAC_SEC = iallocator.NODE_EVAC_SEC
NODE_EVAC_ALL = iallocator.NODE_EVAC_ALL
NODE_EVAC_MODES = iallocator.NODE_EVAC_MODES


class LUNodeEvacuate(base.NoHooksLU):
    """Relocate the primary (and secondary) instances of a node."""

    def check_arguments(self):
        if self.op.mode not in NODE_EVAC_MODES:
            raise errors.OpPrereqError("Invalid evacuation mode '%s'" %
                                       self.op.mode, errors.ECODE_INVAL)
        iallocator.check_iallocator_or_node(self.cfg, self.op, "iallocator",
                                            "remote_node")

    def expand_names(self):
        uuid, self.op.node_name = base.expand_node_name(self.cfg,
                                                        self.op.node_name)
        self.node_uuid = uuid
        self.share_locks[constants.LOCKS_NODE] = 1
        if self.op.remote_node is None:
            # the allocator sees (and may pick) every node
            self.needed_locks[constants.LOCKS_NODE] = base.ALL_SET
            return
        ruuid, rname = base.expand_node_name(self.cfg, self.op.remote_node)
        if ruuid == uuid:
            raise errors.OpPrereqError("Can not use evacuated node as a new"
                                       " secondary node", errors.ECODE_INVAL)
        self.remote_uuid, self.op.remote_node = ruuid, rname
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
        if self.op.iallocator is not None:
            return
        for inst in self.instances:
            template = self.cfg.get_instance_disk_template(inst.uuid)
            if inst.primary_node != self.node_uuid:
                raise errors.OpPrereqError(
                    "Instance '%s' has the node %s as secondary node; only"
                    " DRBD instances have secondaries and DRBD is not"
                    " supported" % (inst.name, self.op.node_name),
                    errors.ECODE_INVAL)
            if template not in constants.DTS_EXT_MIRROR:
                raise errors.OpPrereqError(
                    "Instance '%s' has disk template %s, which can not be"
                    " evacuated; use 'gnt-instance move'" %
                    (inst.name, template), errors.ECODE_STATE)

    def exec_(self, feedback_fn):
        if not self.instances:
            feedback_fn("No instances to evacuate on node %s" %
                        self.op.node_name)
            return base.ResultWithJobs([])
        if self.op.iallocator is not None:
            return base.ResultWithJobs(self._allocator_jobs())
        jobs = []
        for inst in self.instances:
            jobs.append([opcodes.OpCode.from_dict({
                "OP_ID": "OP_INSTANCE_MIGRATE", "instance_name": inst.name,
                "target_node": self.op.remote_node,
                "allow_failover": True})])
        return base.ResultWithJobs(jobs)

    def _allocator_jobs(self):
        """The jobs of the allocator's node-evacuate answer (Ganeti's
        LoadNodeEvacResult)."""
        ial = iallocator.allocate(
            self, self.op.iallocator, iallocator.MODE_NODE_EVAC,
            what="node evacuation", instances=[i.name for i in
                                                self.instances],
            evac_mode=self.op.mode,
            ignore_soft_errors=bool(self.op.ignore_soft_errors))
        moved, failed, jobs = ial.result
        if failed:
            reasons = ", ".join("%s (%s)" % (name, reason)
                                for name, reason in failed)
            self.log_warning("Unable to evacuate instances %s", reasons)
            raise errors.OpExecError("Unable to evacuate instances %s" %
                                     reasons)
        if moved:
            self.log_info("Instances to be moved: %s", ", ".join(
                "%s (to %s)" % (name, ", ".join(nodes))
                for name, _, nodes in moved))
        result = []
        for job in jobs:
            ops = []
            for op_dict in job:
                op = opcodes.OpCode.from_dict(op_dict)
                if hasattr(op, "early_release"):
                    op.early_release = bool(self.op.early_release)
                ops.append(op)
            result.append(ops)
        return result
