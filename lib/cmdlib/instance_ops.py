"""Instance lifecycle operations: remove, startup, shutdown, reboot,
disk (de)activation and console.

Each LU locks its instance and (from it) the instance's nodes; the
admin state is recorded in the config (unless ``no_remember``) so the
watcher and ``gnt-instance list`` know what the instance should be doing.
"""

from ganeti import constants
from ganeti import errors
from ganeti import hypervisor
from ganeti.cmdlib import base
from ganeti.cmdlib import instance_utils as iu

INSTANCE_ONLINE = (constants.ADMINST_DOWN, constants.ADMINST_UP)
INSTANCE_DOWN = (constants.ADMINST_DOWN,)
INSTANCE_NOT_RUNNING = (constants.ADMINST_DOWN, constants.ADMINST_OFFLINE)
REBOOT_SOFT = "soft"
REBOOT_HARD = "hard"
REBOOT_FULL = "full"
REBOOT_TYPES = (REBOOT_SOFT, REBOOT_HARD, REBOOT_FULL)
INSTST_ERRORDOWN = "ERROR_down"
INSTST_ADMINDOWN = "ADMIN_down"
INSTST_ADMINOFFLINE = "ADMIN_offline"


class _InstanceLU(iu.InstanceLU):
    """Common shape: one instance, locks on it and its nodes; the
    instance must exist and its primary node is looked up."""

    def check_prereq(self):
        self.instance = self.cfg.get_instance_info(self.instance_uuid)
        if self.instance is None:
            raise errors.OpPrereqError("Instance '%s' not known" %
                                       self.op.instance_name,
                                       errors.ECODE_NOENT)
        self.pnode = self.cfg.get_node_info(self.instance.primary_node)

    def _is_running(self):
        result = self.rpc.call_single(
            "instance_info", self.pnode.name,
            [self.instance.name, self.instance.hypervisor,
             iu.filled_hvparams(self.cfg, self.instance)])
        result.raise_on_failure("Error checking node %s" % self.pnode.name,
                                prereq=True)
        return bool(result.payload)


class LUInstanceRemove(_InstanceLU):
    HPATH = "instance-remove"

    def build_hooks_env(self):
        env = iu.hooks_env(self, self.instance)
        env["SHUTDOWN_TIMEOUT"] = self.op.shutdown_timeout
        return env

    def build_hooks_nodes(self):
        pre, post = iu.hooks_nodes(self, self.instance)
        return [self.cfg.get_master_node_name()], post

    def exec_(self, feedback_fn):
        inst = self.instance
        if not self.pnode.offline:
            result = iu.shutdown_instance_on_node(self, inst, self.pnode.uuid,
                                                  self.op.shutdown_timeout)
            if result.fail_msg:
                if self.op.ignore_failures:
                    feedback_fn("Warning: can't shutdown instance: %s" %
                                result.fail_msg)
                else:
                    raise errors.OpExecError(
                        "Could not shutdown instance %s on node %s: %s" %
                        (inst.name, self.pnode.name, result.fail_msg))
        if not iu.remove_disks(self, inst):
            if self.op.ignore_failures:
                feedback_fn("Warning: can't remove instance's disks")
            else:
                raise errors.OpExecError("Can't remove instance's disks")
        self.cfg.remove_instance(inst.uuid)


class LUInstanceStartup(_InstanceLU):
    HPATH = "instance-start"

    def check_prereq(self):
        _InstanceLU.check_prereq(self)
        inst = self.instance
        cluster = self.cfg.get_cluster_info()
        if self.op.beparams:
            from ganeti import cli_opts
            cli_opts.force_dict_type(self.op.beparams,
                                     cli_opts.BES_PARAMETER_COMPAT)
        if self.op.hvparams:
            known = constants.HVC_DEFAULTS.get(inst.hypervisor, {})
            for key in self.op.hvparams:
                if key not in known:
                    raise errors.OpPrereqError(
                        "Unknown hypervisor parameter '%s' for hypervisor"
                        " %s" % (key, inst.hypervisor), errors.ECODE_INVAL)
            filled = cluster.fill_hv(inst.hypervisor, inst.hvparams,
                                     os_name=inst.os)
            filled.update(self.op.hvparams)
            hypervisor.get_hypervisor_class(inst.hypervisor) \
                .check_parameter_syntax(filled)
        self._check_online()
        self.primary_offline = self.pnode.offline
        if self.primary_offline and self.op.ignore_offline_nodes:
            self.log_warning("Ignoring offline primary node")
            if self.op.hvparams or self.op.beparams:
                self.log_warning("Overridden parameters are ignored")
            return
        base.check_node_online(self, self.pnode.uuid)
        if not self._is_running():
            bep = iu.filled_beparams(self.cfg, inst)
            bep.update(self.op.beparams or {})
            hvp = iu.filled_hvparams(self.cfg, inst)
            hvp.update(self.op.hvparams or {})
            iu.check_node_free_memory(
                self, self.pnode.uuid, "starting instance %s" % inst.name,
                bep[constants.BE_MAXMEM], inst.hypervisor, hvp)

    def _check_online(self):
        if self.instance.admin_state == constants.ADMINST_OFFLINE:
            raise errors.OpPrereqError(
                "Instance '%s' is marked to be offline, can't use instance"
                " from outside %s states" %
                (self.instance.name, ", ".join(sorted(INSTANCE_ONLINE))),
                errors.ECODE_STATE)

    def exec_(self, feedback_fn):
        inst = self.instance
        if not self.op.no_remember:
            iu.set_admin_state(self, inst, constants.ADMINST_UP)
        if self.primary_offline:
            assert self.op.ignore_offline_nodes
            self.log_info("Primary node offline, marked instance as started")
            return
        iu.start_instance_on_node(self, inst, self.pnode.uuid,
                                  self.op.startup_paused,
                                  hvp_override=self.op.hvparams,
                                  bep_override=self.op.beparams)


class LUInstanceShutdown(_InstanceLU):
    HPATH = "instance-stop"

    def check_prereq(self):
        _InstanceLU.check_prereq(self)
        if self.instance.admin_state == constants.ADMINST_OFFLINE and \
                not self.op.force:
            raise errors.OpPrereqError(
                "Instance '%s' is marked to be offline, can't use instance"
                " from outside %s states" %
                (self.instance.name, ", ".join(sorted(INSTANCE_ONLINE))),
                errors.ECODE_STATE)
        self.primary_offline = self.pnode.offline
        if self.primary_offline and self.op.ignore_offline_nodes:
            self.log_warning("Ignoring offline primary node")
        else:
            base.check_node_online(self, self.pnode.uuid)

    def build_hooks_env(self):
        env = iu.hooks_env(self, self.instance)
        env["TIMEOUT"] = self.op.timeout
        return env

    def exec_(self, feedback_fn):
        inst = self.instance
        if not self.op.no_remember:
            iu.set_admin_state(self, inst, constants.ADMINST_DOWN)
        if self.primary_offline:
            assert self.op.ignore_offline_nodes
            self.log_info("Primary node offline, marked instance as stopped")
            return
        result = iu.shutdown_instance_on_node(self, inst, self.pnode.uuid,
                                              self.op.timeout)
        if result.fail_msg:
            self.log_warning("Could not shutdown instance: %s",
                             result.fail_msg)
        iu.shutdown_disks(self, inst)


class LUInstanceReboot(_InstanceLU):
    HPATH = "instance-reboot"

    def check_arguments(self):
        if self.op.reboot_type not in REBOOT_TYPES:
            raise errors.OpPrereqError("Invalid reboot type '%s', not one of"
                                       " %s" % (self.op.reboot_type,
                                                ", ".join(REBOOT_TYPES)),
                                       errors.ECODE_INVAL)

    def check_prereq(self):
        _InstanceLU.check_prereq(self)
        if self.instance.admin_state not in INSTANCE_ONLINE:
            raise errors.OpPrereqError(
                "Instance '%s' is marked to be offline, can't use instance"
                " from outside %s states" %
                (self.instance.name, ", ".join(sorted(INSTANCE_ONLINE))),
                errors.ECODE_STATE)
        base.check_node_online(self, self.pnode.uuid)

    def build_hooks_env(self):
        env = iu.hooks_env(self, self.instance)
        env["REBOOT_TYPE"] = self.op.reboot_type
        env["SHUTDOWN_TIMEOUT"] = self.op.shutdown_timeout
        return env

    def exec_(self, feedback_fn):
        inst = self.instance
        running = self._is_running()
        if running and self.op.reboot_type in (REBOOT_SOFT, REBOOT_HARD):
            iu.assemble_disks(self, inst)
            result = self.rpc.call_single(
                "instance_reboot", self.pnode.name,
                [iu.instance_rpc_dict(self.cfg, inst), self.op.reboot_type,
                 self.op.shutdown_timeout, list(self.op.reason or [])])
            result.raise_on_failure("Could not reboot instance")
        else:
            if running:
                result = iu.shutdown_instance_on_node(
                    self, inst, self.pnode.uuid, self.op.shutdown_timeout)
                result.raise_on_failure("Could not shutdown instance for"
                                        " full reboot")
                iu.shutdown_disks(self, inst)
            else:
                self.log_info("Instance %s was already stopped, starting now",
                              inst.name)
            iu.assemble_disks(self, inst)
            result = self.rpc.call_single(
                "instance_start", self.pnode.name,
                [iu.instance_rpc_dict(self.cfg, inst), False,
                 list(self.op.reason or [])])
            if result.fail_msg:
                iu.shutdown_disks(self, inst)
                raise errors.OpExecError("Could not start instance for full"
                                         " reboot: %s" % result.fail_msg)
        iu.set_admin_state(self, inst, constants.ADMINST_UP)


class LUInstanceActivateDisks(_InstanceLU):
    HPATH = None
    HTYPE = None
    NODES_SHARED = True

    def check_prereq(self):
        _InstanceLU.check_prereq(self)
        base.check_node_online(self, self.pnode.uuid)

    def exec_(self, feedback_fn):
        info = iu.assemble_disks(self, self.instance,
                                 ignore_size=self.op.ignore_size)
        return [list(row) for row in info]


class LUInstanceDeactivateDisks(_InstanceLU):
    HPATH = None
    HTYPE = None
    NODES_SHARED = True

    def exec_(self, feedback_fn):
        inst = self.instance
        if self.op.force:
            iu.shutdown_disks(self, inst)
            return
        iu.check_instance_state(self, inst, INSTANCE_DOWN,
                                "cannot shutdown disks")
        if not iu.shutdown_disks(self, inst):
            raise errors.OpExecError("Could not shutdown all disks")


class LUInstanceConsole(_InstanceLU):
    """How to reach the console; the client runs the command."""

    HPATH = None
    HTYPE = None
    NODES_SHARED = True

    def exec_(self, feedback_fn):
        inst = self.instance
        hvp = iu.filled_hvparams(self.cfg, inst)
        base.check_node_online(self, self.pnode.uuid)
        result = self.rpc.call_single("instance_list", self.pnode.name,
                                      [[inst.hypervisor],
                                       {inst.hypervisor: hvp}])
        result.raise_on_failure("Can't get node information from %s" %
                                self.pnode.name)
        if inst.name not in (result.payload or []):
            if inst.admin_state == constants.ADMINST_UP:
                state = INSTST_ERRORDOWN
            elif inst.admin_state == constants.ADMINST_DOWN:
                state = INSTST_ADMINDOWN
            else:
                state = INSTST_ADMINOFFLINE
            raise errors.OpExecError("Instance %s is not running (state %s)"
                                     % (inst.name, state))
        group = self.cfg.get_node_group(self.pnode.group)
        hv_class = hypervisor.get_hypervisor_class(inst.hypervisor)
        return hv_class.get_instance_console(
            inst, self.pnode, group, hvp,
            iu.filled_beparams(self.cfg, inst))
