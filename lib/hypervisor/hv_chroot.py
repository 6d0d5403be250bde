"""The chroot "hypervisor": an instance is a process tree in a chroot.

As in Ganeti: the instance's first disk is mounted on
``/var/run/ganeti/chroot-hypervisor/<name>`` and the instance runs while
that mount exists. Starting runs ``<init_script> start`` inside the
chroot (hvparam ``init_script``, default ``/ganeti-chroot``), stopping
runs ``<init_script> stop`` (or, forced, kills every process whose root
is the chroot) and unmounts. The disk must hold a filesystem with the
init script and whatever it needs (e.g. a static busybox).
"""

import os
import signal
import time

from ganeti import constants
from ganeti import errors
from ganeti import pathutils
from ganeti.hypervisor import base
from ganeti.utils import process

SCRIPT_TIMEOUT = 120


def _is_mount(path):
    try:
        with open("/proc/self/mountinfo") as fh:
            for line in fh:
                fields = line.split()
                if len(fields) > 4 and \
                        fields[4].replace("\\040", " ") == path:
                    return True
    except OSError:
        return os.path.ismount(path)
    return False


class ChrootManager(base.BaseHypervisor):
    NAME = constants.HT_CHROOT
    CAN_MIGRATE = False
    PARAMETERS = {
        "init_script": (True, base.is_norm_abs_path,
                        "must be an absolute normalized path", None, None),
    }

    def __init__(self):
        self.root = pathutils.RUN_DIR + "/chroot-hypervisor"
        os.makedirs(self.root, mode=0o775, exist_ok=True)

    def _dir(self, name):
        return os.path.join(self.root, name)

    def _processes_in(self, root_dir):
        """Pids of the processes whose root directory is ``root_dir``."""
        result = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if os.readlink("/proc/%s/root" % entry) == root_dir:
                    result.append(int(entry))
            except OSError:
                continue
        return result

    def start_instance(self, instance, block_devices, startup_paused):
        root_dir = self._dir(instance.name)
        os.makedirs(root_dir, mode=0o755, exist_ok=True)
        if not os.path.isdir(root_dir):
            raise errors.HypervisorError("Needed path %s is not a directory" %
                                         root_dir)
        if not _is_mount(root_dir):
            if not block_devices:
                raise errors.HypervisorError("The chroot manager needs at"
                                             " least one disk")
            dev = block_devices[0][1]
            result = process.run_cmd(["mount", dev, root_dir],
                                     reset_env=True, timeout=60)
            if result.failed:
                raise errors.HypervisorError("Can't mount the chroot dir: %s"
                                             % result.output.strip())
        script = instance.hvparams["init_script"]
        result = process.run_cmd(["chroot", root_dir, script, "start"],
                                 reset_env=True, timeout=SCRIPT_TIMEOUT)
        if result.failed:
            raise errors.HypervisorError("Can't run the chroot start script:"
                                         " %s" % result.output.strip())

    def stop_instance(self, instance, force=False, timeout=None):
        root_dir = self._dir(instance.name)
        if not os.path.exists(root_dir) or not _is_mount(root_dir):
            return
        if not force:
            result = process.run_cmd(
                ["chroot", root_dir, instance.hvparams["init_script"],
                 "stop"], reset_env=True, timeout=timeout or SCRIPT_TIMEOUT)
            if result.failed:
                raise errors.HypervisorError("Can't run the chroot stop"
                                             " script: %s" %
                                             result.output.strip())
        else:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                for pid in self._processes_in(root_dir):
                    try:
                        os.kill(pid, sig)
                    except ProcessLookupError:
                        pass
                deadline = time.time() + 5
                while self._processes_in(root_dir) and \
                        time.time() < deadline:
                    time.sleep(0.1)
        deadline = time.time() + (timeout or 10)
        while self._processes_in(root_dir) and time.time() < deadline:
            time.sleep(0.1)
        if self._processes_in(root_dir):
            if not force:
                return  # still ending; the backend retries, then forces
            raise errors.HypervisorError("Processes still running in the"
                                         " chroot %s" % root_dir)
        result = process.run_cmd(["umount", root_dir], reset_env=True,
                                 timeout=60)
        if result.failed and force:
            result = process.run_cmd(["umount", "-l", root_dir],
                                     reset_env=True, timeout=60)
        if result.failed:
            raise errors.HypervisorError("Can't umount the chroot dir: %s" %
                                         result.output.strip())

    def cleanup_instance(self, instance_name):
        root_dir = self._dir(instance_name)
        if _is_mount(root_dir):
            raise errors.HypervisorError("Cannot cleanup a live instance")
        try:
            os.rmdir(root_dir)
        except FileNotFoundError:
            pass
        except OSError as err:
            raise errors.HypervisorError("Can't remove the chroot dir %s: %s"
                                         % (root_dir, err))

    def reboot_instance(self, instance, timeout=None):
        root_dir = self._dir(instance.name)
        if not _is_mount(root_dir):
            raise errors.HypervisorError("Failed to reboot instance %s: not"
                                         " running" % instance.name)
        script = instance.hvparams["init_script"]
        for action in ("stop", "start"):
            result = process.run_cmd(["chroot", root_dir, script, action],
                                     reset_env=True, timeout=SCRIPT_TIMEOUT)
            if result.failed:
                raise errors.HypervisorError("Can't run the chroot %s script:"
                                             " %s" % (action,
                                                      result.output.strip()))

    def list_instances(self, hvparams=None):
        return sorted(name for name in os.listdir(self.root)
                      if _is_mount(self._dir(name)))

    def get_instance_info(self, instance_name, hvparams=None):
        if not _is_mount(self._dir(instance_name)):
            return None
        return (instance_name, 0, 0, 0, base.HvInstanceState.RUNNING, 0)

    def verify(self, hvparams=None):
        if not os.path.isdir(self.root):
            return "The required directory '%s' does not exist" % self.root
        return None

    @classmethod
    def get_instance_console(cls, instance, primary_node, node_group,
                             hvparams, beparams):
        root_dir = os.path.join(pathutils.RUN_DIR, "chroot-hypervisor",
                                instance.name)
        ndparams = dict(constants.NDC_DEFAULTS)
        if node_group is not None:
            ndparams.update(node_group.ndparams or {})
        ndparams.update(primary_node.ndparams or {})
        return base.console(instance.name, base.CONS_SSH,
                            host=primary_node.name,
                            port=ndparams.get("ssh_port"),
                            user=base.SSH_CONSOLE_USER,
                            command=["chroot", root_dir, "/bin/sh"])
