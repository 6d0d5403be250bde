"""The fake hypervisor: instances that are only files.

An instance "runs" on a node while ``/var/run/ganeti/fake-hypervisor/<name>``
exists; the file holds three lines, id, memory (MiB) and vCPUs, as in
Ganeti. Starting writes it, stopping removes it, migration creates it on
the target and removes it on the source. Node facts are the host's real
ones. Fast, and enough for everything above the hypervisor layer.
"""

import logging
import os

from ganeti import constants
from ganeti import errors
from ganeti import pathutils
from ganeti.hypervisor import base


class FakeHypervisor(base.BaseHypervisor):
    NAME = constants.HT_FAKE
    CAN_MIGRATE = True
    PARAMETERS = {
        "migration_mode": base.MIGRATION_MODE_CHECK,
    }

    def __init__(self):
        self.root = pathutils.RUN_DIR + "/fake-hypervisor"
        os.makedirs(self.root, mode=0o775, exist_ok=True)

    def _file(self, name):
        return os.path.join(self.root, name)

    def _is_alive(self, name):
        return os.path.exists(self._file(name))

    def _mark_up(self, instance, memory):
        vcpus = instance.beparams.get(constants.BE_VCPUS, 1)
        tmp = self._file(".%s.new" % instance.name)
        try:
            with open(tmp, "w") as fh:
                fh.write("0\n%d\n%d\n" % (memory, vcpus))
            os.rename(tmp, self._file(instance.name))
        except OSError as err:
            raise errors.HypervisorError("Failed to start instance %s: %s" %
                                         (instance.name, err))

    def _mark_down(self, name):
        try:
            os.unlink(self._file(name))
        except FileNotFoundError:
            pass

    def start_instance(self, instance, block_devices, startup_paused):
        if self._is_alive(instance.name):
            raise errors.HypervisorError("Failed to start instance %s: %s" %
                                         (instance.name, "already running"))
        self._mark_up(instance, self.startup_memory(instance))

    def stop_instance(self, instance, force=False, timeout=None):
        if not self._is_alive(instance.name):
            raise errors.HypervisorError("Failed to stop instance %s: %s" %
                                         (instance.name, "not running"))
        self._mark_down(instance.name)

    def reboot_instance(self, instance, timeout=None):
        if not self._is_alive(instance.name):
            raise errors.HypervisorError("Failed to reboot instance %s: not"
                                         " running" % instance.name)

    def list_instances(self, hvparams=None):
        return sorted(n for n in os.listdir(self.root)
                      if not n.startswith("."))

    def get_instance_info(self, instance_name, hvparams=None):
        try:
            with open(self._file(instance_name)) as fh:
                lines = fh.read().splitlines()
        except FileNotFoundError:
            return None
        except OSError as err:
            raise errors.HypervisorError("Failed to list instance %s: %s" %
                                         (instance_name, err))
        try:
            inst_id, memory, vcpus = (int(lines[0]), int(lines[1]),
                                      int(lines[2]))
        except (IndexError, ValueError):
            raise errors.HypervisorError("Failed to list instance %s:"
                                         " corrupt state file" %
                                         instance_name)
        return (instance_name, inst_id, memory, vcpus,
                base.HvInstanceState.RUNNING, 0)

    def verify(self, hvparams=None):
        if not os.path.isdir(self.root):
            return "The required directory '%s' does not exist" % self.root
        return None

    @classmethod
    def get_instance_console(cls, instance, primary_node, node_group,
                             hvparams, beparams):
        return base.console(instance.name, base.CONS_MESSAGE,
                            message="Console not available for fake"
                            " hypervisor")

    # Migration only moves the state file.
    def accept_instance(self, instance, info, target):
        self._mark_up(instance, self.startup_memory(instance))

    def finalize_migration_dst(self, instance, info, success):
        if not success:
            self._mark_down(instance.name)

    def migrate_instance(self, cluster_name, instance, target, live):
        if not self._is_alive(instance.name):
            raise errors.HypervisorError("Instance not running, cannot"
                                         " migrate")
        logging.debug("Fake hypervisor migrating %s to %s (live=%s)",
                      instance.name, target, live)

    def get_migration_status(self, instance):
        return {"status": base.MIGRATION_COMPLETED, "transferred_ram": None,
                "total_ram": None}

    def finalize_migration_src(self, instance, success, live):
        if success:
            self._mark_down(instance.name)
