"""Test opcodes: delays, dummies and job queue exercises.

They exist so that the job queue, locking and the CLI's job handling can
be exercised on a real cluster without touching instances.
"""

import time

from ganeti import constants
from ganeti import errors
from ganeti import opcodes
from ganeti.cmdlib import base
from ganeti.cmdlib import node as node_lu

# How often a master-side delay looks for a cancel request.
_CANCEL_POLL = 0.1


def _cancel_check_of(feedback_fn):
    """The job's cancel check, if the feedback function is a job callback.

    The LU gets only the feedback function from the processor; when that is
    a bound method of the job's callbacks object, its ``check_cancel``
    lets a long delay end early with JobCanceled.
    """
    owner = getattr(feedback_fn, "__self__", None)
    return getattr(owner, "check_cancel", None)


def sleep_interruptibly(duration, cancel_check=None, poll=_CANCEL_POLL):
    """Sleep ``duration`` seconds, calling ``cancel_check`` now and then."""
    deadline = time.monotonic() + duration
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        if cancel_check is not None:
            cancel_check()
            time.sleep(min(poll, remaining))
        else:
            time.sleep(remaining)


class LUTestDelay(base.NoHooksLU):
    """Sleep on the master and/or on nodes, possibly several times."""

    def check_arguments(self):
        if self.op.duration <= 0:
            # One argument on purpose: Ganeti prints it without an
            # "error type" line
            raise errors.OpPrereqError("Duration must be greater than zero")

    def expand_names(self):
        self.node_names = []
        uuids = []
        for name in self.op.on_nodes or []:
            uuid, full_name = node_lu.expand_node_name(self.cfg, name)
            uuids.append(uuid)
            self.node_names.append(full_name)
        if self.op.on_master:
            uuids.append(self.cfg.get_master_node())
        if uuids and not self.op.no_locks:
            self.needed_locks[constants.LOCKS_NODE] = uuids

    def _delay_once(self, feedback_fn):
        if self.op.on_master:
            check = (_cancel_check_of(feedback_fn)
                     if self.op.interruptible else None)
            sleep_interruptibly(self.op.duration, check)
        if self.node_names:
            results = self.rpc.call("test_delay", self.node_names,
                                    [self.op.duration])
            for name in self.node_names:
                results[name].raise_on_failure(
                    "Failure during rpc call to node %s" % name)

    def exec_(self, feedback_fn):
        if self.op.repeat == 0:
            self._delay_once(feedback_fn)
            return None
        top = self.op.repeat - 1
        for index in range(self.op.repeat):
            self.log_info("Test delay iteration %d/%d", index, top)
            self._delay_once(feedback_fn)
        return None


class LUTestDummy(base.NoHooksLU):
    """Returns what it was given: for testing result and error paths."""

    def exec_(self, feedback_fn):
        for message in self.op.messages or []:
            feedback_fn(message)
        if self.op.fail:
            raise errors.OpExecError("Opcode failure was requested")
        if self.op.submit_jobs:
            jobs = [[opcodes.OpCode.from_dict(op) if isinstance(op, dict)
                     else op for op in job] for job in self.op.submit_jobs]
            return base.ResultWithJobs(jobs)
        return self.op.result


class LUTestJqueue(base.NoHooksLU):
    """Exercise the job log and failure handling of the queue.

    Ganeti's version also hands out unix sockets to synchronise with a test
    client (notify_waitlock/notify_exec); here those only log a line.
    """

    def expand_names(self):
        self.log_info("Expanding names")
        if self.op.notify_waitlock:
            self.log_info("Notify: waiting for locks")
        self.needed_locks[constants.LOCKS_NODE] = [self.cfg.get_master_node()]

    def exec_(self, feedback_fn):
        if self.op.notify_exec:
            self.log_info("Notify: executing")
        self.log_info("Executing")
        for index, message in enumerate(self.op.log_messages or []):
            self.log_info("Sending log message %s", index + 1)
            feedback_fn("TESTMSG=" + message)
        if self.op.fail:
            raise errors.OpExecError("Opcode failure was requested")
        return True


class LUTestAllocator(base.NoHooksLU):
    """gnt-debug iallocator: show an allocator's input (direction "in")
    or run it and show its raw answer ("out").

    How admins debug allocators: the input is exactly what a real
    operation would send (same builder, same live node data).
    """

    def check_arguments(self):
        from ganeti import iallocator
        op = self.op
        if op.direction not in iallocator.DIRECTIONS:
            raise errors.OpPrereqError("Invalid allocator direction '%s'" %
                                       op.direction, errors.ECODE_INVAL)
        if op.mode not in iallocator.MODES:
            raise errors.OpPrereqError("Invalid test allocator mode '%s'" %
                                       op.mode, errors.ECODE_INVAL)
        if op.direction == iallocator.DIR_OUT and op.iallocator is None:
            raise errors.OpPrereqError("Missing allocator name",
                                       errors.ECODE_INVAL)

    def check_prereq(self):
        from ganeti import iallocator
        op = self.op
        cfg = self.cfg
        if op.mode in (iallocator.MODE_ALLOC, iallocator.MODE_MULTI_ALLOC):
            if cfg.get_instance_info_by_name(op.name) is not None:
                raise errors.OpPrereqError("Instance '%s' already in the"
                                           " cluster" % op.name,
                                           errors.ECODE_EXISTS)
            for row in op.disks or []:
                if (not isinstance(row, dict) or
                        not isinstance(row.get("size"), int) or
                        row.get("mode") not in ("rw", "ro")):
                    raise errors.OpPrereqError("Invalid contents of the"
                                               " 'disks' parameter",
                                               errors.ECODE_INVAL)
            if op.hypervisor is None:
                op.hypervisor = cfg.get_hypervisor_type()
            if op.disk_template is None:
                templates = cfg.get_enabled_disk_templates()
                op.disk_template = templates[0] if templates else \
                    constants.DT_DISKLESS
            bep = cfg.get_cluster_info().fill_be()
            if op.memory is None:
                op.memory = bep[constants.BE_MAXMEM]
            if op.vcpus is None:
                op.vcpus = bep[constants.BE_VCPUS]
        elif op.mode in (iallocator.MODE_RELOC,
                         iallocator.MODE_ALLOC_SECONDARY):
            uuid, name = cfg.expand_instance_name(op.name)
            if uuid is None:
                raise errors.OpPrereqError("Instance '%s' not known" %
                                           op.name, errors.ECODE_NOENT)
            op.name = name
            self.inst_uuid = uuid
        else:
            if not op.instances:
                raise errors.OpPrereqError("Missing instances",
                                           errors.ECODE_INVAL)
            names = []
            for name in op.instances:
                uuid, full = cfg.expand_instance_name(name)
                if uuid is None:
                    raise errors.OpPrereqError("Instance '%s' not known" %
                                               name, errors.ECODE_NOENT)
                names.append(full)
            op.instances = names

    def _alloc_params(self, name):
        op = self.op
        return dict(name=name, memory=op.memory, disks=op.disks or [],
                    disk_template=op.disk_template, group_name=op.group_name,
                    os=op.os, tags=op.tags, nics=op.nics or [],
                    vcpus=op.vcpus, spindle_use=op.spindle_use,
                    hypervisor=op.hypervisor)

    def _request_params(self):
        from ganeti import iallocator
        op = self.op
        if op.mode == iallocator.MODE_ALLOC:
            return self._alloc_params(op.name)
        if op.mode == iallocator.MODE_MULTI_ALLOC:
            return {"instances": [self._alloc_params("%s%s" % (op.name, idx))
                                  for idx in range(op.count)]}
        if op.mode == iallocator.MODE_RELOC:
            # the secondary (DRBD); externally mirrored instances have
            # none and move away from their primary, as migrate asks
            source = self.cfg.get_instance_secondary_nodes(self.inst_uuid) \
                or [self.cfg.get_instance_info(self.inst_uuid).primary_node]
            return {"inst_uuid": self.inst_uuid, "relocate_from": source}
        if op.mode == iallocator.MODE_ALLOC_SECONDARY:
            return {"name": op.name}
        if op.mode == iallocator.MODE_CHG_GROUP:
            return {"instances": op.instances,
                    "target_groups": op.target_groups or []}
        return {"instances": op.instances, "evac_mode": op.evac_mode}

    def exec_(self, feedback_fn):
        from ganeti import iallocator
        ial = iallocator.IAllocator(self.cfg, self.rpc, self.op.mode,
                                    **self._request_params())
        if self.op.direction == iallocator.DIR_IN:
            return ial.in_text
        ial.run(self.op.iallocator, validate=False)
        return ial.out_text
