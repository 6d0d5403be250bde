"""The KVM hypervisor: one qemu process per instance, driven over QMP.

Files per instance, under ``/var/run/ganeti/kvm-hypervisor`` (Ganeti's
layout): ``pid/<name>`` (qemu's pid file), ``ctrl/<name>.{qmp,serial,
monitor}`` (unix sockets), ``conf/<name>.runtime`` (the command line, NICs,
hvparams and disks the instance was started with; see kvm_cmdline),
``nic/<name>/<seq>`` (the tap of each NIC). A restarted noded finds its
guests from these alone.

The qemu binary: ``kvm_path`` (default ``/usr/bin/kvm``); when that
default does not exist (Debian only has it with qemu-system-x86, other
systems never), ``qemu-system-x86_64`` from PATH is used instead.

Acceleration: qemu runs with ``accel=kvm`` only when the node can really
run guests under KVM, else with ``accel=tcg`` (full emulation: slow but
correct). ``kvm_flag=disabled`` forces TCG; otherwise (``""`` or
``enabled``) a probe decides, once per boot of the node, with the result
cached in ``kvm-hypervisor/accel``:

* no ``/dev/kvm``, or not openable: TCG;
* ``/dev/kvm`` present but the CPU has neither vmx nor svm: it is not a
  hardware KVM (e.g. the kvm_pvm backend of some cloud machines, where
  qemu starts with ``accel=kvm`` but stock guests never boot): TCG;
* else a 64 KiB test firmware counting to 2^25 must finish under
  ``accel=kvm`` within PROBE_TIMEOUT seconds.

``accel_status()`` reports the decision (``get_node_info`` includes it as
``accel`` and ``accel_message``), so that cluster verify can say "KVM
acceleration unavailable, using TCG".
"""

import errno
import fcntl
import json
import logging
import os
import shutil
import subprocess
import tempfile
import time

from ganeti import constants
from ganeti import errors
from ganeti import pathutils
from ganeti import serializer
from ganeti.hypervisor import base
from ganeti.hypervisor import kvm_cmdline as cmdline
from ganeti.hypervisor import netdev
from ganeti.hypervisor import qmp as qmp_mod
from ganeti.utils import io

DEFAULT_KVM_PATH = constants.HVC_DEFAULTS[constants.HT_KVM]["kvm_path"]
FALLBACK_QEMU = "qemu-system-x86_64"
PROBE_TIMEOUT = 3.0
START_TIMEOUT = 120
QMP_TIMEOUT = 10.0
MIGRATION_CAPS_DELIM = ":"
ACCEL_MSG_TCG = "KVM acceleration unavailable, using TCG"

# Real-mode test firmware (reset vector -> F000:0000): mov ecx, 2^25;
# loop: dec ecx; jnz loop; out 0xf4, 0 (isa-debug-exit: qemu exits 1).
_PROBE_CODE = bytes.fromhex("66b900000002" "6649" "75fc" "b000" "e6f4"
                            "f4" "ebfd")
_PROBE_RESET = bytes.fromhex("ea000000f0")


def probe_firmware():
    """The 64 KiB firmware image the acceleration probe boots."""
    image = bytearray(65536)
    image[:len(_PROBE_CODE)] = _PROBE_CODE
    image[0xfff0:0xfff0 + len(_PROBE_RESET)] = _PROBE_RESET
    return bytes(image)


def run_probe(kvm_path, accel, workdir, timeout=PROBE_TIMEOUT):
    """Boot the probe firmware; (ok, reason)."""
    fd, image = tempfile.mkstemp(prefix="accel-probe.", dir=workdir)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(probe_firmware())
        argv = [kvm_path, "-machine", "pc,accel=%s" % accel, "-bios", image,
                "-nodefaults", "-no-user-config", "-display", "none",
                "-serial", "none", "-monitor", "none", "-m", "16",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x01"]
        start = time.time()
        try:
            proc = subprocess.run(argv, capture_output=True, text=True,
                                  timeout=timeout, close_fds=True)
        except subprocess.TimeoutExpired:
            return False, ("a test guest did not finish within %.0f s under"
                           " accel=%s" % (timeout, accel))
        except OSError as err:
            return False, "cannot run %s: %s" % (kvm_path, err)
        if proc.returncode == 1:
            return True, "test guest ran in %.2f s" % (time.time() - start)
        output = (proc.stderr or proc.stdout).strip().splitlines()
        return False, ("test guest failed under accel=%s (exit code %s)%s"
                       % (accel, proc.returncode,
                          ": " + output[-1] if output else ""))
    finally:
        io.remove_file(image)


def _cpu_has_virt_flags(cpuinfo="/proc/cpuinfo"):
    try:
        with open(cpuinfo) as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = line.split(":", 1)[1].split()
                    return "vmx" in flags or "svm" in flags
    except OSError:
        pass
    return False


def resolve_kvm_path(path):
    """The qemu binary to run for hvparam ``kvm_path``, or None.

    The configured path if it is an executable file; for the default
    ``/usr/bin/kvm`` only, ``qemu-system-x86_64`` from PATH as a fallback.
    """
    if path and os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    if path in (DEFAULT_KVM_PATH, pathutils.KVM_PATH):
        return shutil.which(FALLBACK_QEMU,
                            path="/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                            "/usr/bin:/sbin:/bin")
    return None


_KVM_PATH_CHECK = (True, base.is_norm_abs_path,
                   "must be an absolute normalized path",
                   lambda p: resolve_kvm_path(p) is not None,
                   "not found or not a file")

_machine_cache = {}


def parse_default_machine(text):
    """The machine marked ``(default)`` in ``qemu -machine help``."""
    for line in text.splitlines():
        if line.rstrip().endswith("(default)") and line.split():
            return line.split()[0]
    return None


def default_machine(kvm_path):
    """qemu's default machine type, e.g. ``pc-i440fx-7.2``.

    Saved in the runtime so that a migration target emulates the same
    machine even if its qemu's default differs.
    """
    try:
        key = (kvm_path, os.stat(kvm_path).st_mtime)
    except OSError as err:
        raise errors.HypervisorError("Can't stat %s: %s" % (kvm_path, err))
    if key not in _machine_cache:
        proc = subprocess.run([kvm_path, "-machine", "help"],
                              capture_output=True, text=True, timeout=60)
        machine = parse_default_machine(proc.stdout)
        if proc.returncode != 0 or machine is None:
            raise errors.HypervisorError(
                "Unable to get default hardware revision: %s" %
                (proc.stderr.strip() or "no default machine listed"))
        _machine_cache[key] = machine
    return _machine_cache[key]


class KVMHypervisor(base.BaseHypervisor):
    NAME = constants.HT_KVM
    CAN_MIGRATE = True

    PARAMETERS = {
        "kvm_path": _KVM_PATH_CHECK,
        "kernel_path": base.OPT_FILE_CHECK,
        "initrd_path": base.OPT_FILE_CHECK,
        "root_path": base.NO_CHECK,
        "kernel_args": base.NO_CHECK,
        "acpi": base.NO_CHECK,
        "serial_console": base.NO_CHECK,
        "serial_speed": base.NO_CHECK,
        "vnc_bind_address": base.NO_CHECK,
        "vnc_tls": base.NO_CHECK,
        "vnc_x509_path": base.OPT_DIR_CHECK,
        "vnc_x509_verify": base.NO_CHECK,
        "vnc_password_file": base.OPT_FILE_CHECK,
        "spice_bind": base.NO_CHECK,
        "spice_ip_version": (False, lambda x: x in (0, 4, 6),
                             "The SPICE IP version should be 4 or 6",
                             None, None),
        "spice_password_file": base.OPT_FILE_CHECK,
        "spice_image_compression": base.param_in_set(
            False, cmdline.SPICE_LOSSLESS_IMG_COMPR),
        "spice_jpeg_wan_compression": base.param_in_set(
            False, cmdline.SPICE_LOSSY_IMG_COMPR),
        "spice_zlib_glz_wan_compression": base.param_in_set(
            False, cmdline.SPICE_LOSSY_IMG_COMPR),
        "spice_streaming_video": base.param_in_set(
            False, cmdline.SPICE_VIDEO_STREAM_DETECTION),
        "spice_playback_compression": base.NO_CHECK,
        "spice_use_tls": base.NO_CHECK,
        "spice_tls_ciphers": base.NO_CHECK,
        "spice_use_vdagent": base.NO_CHECK,
        "floppy_image_path": base.OPT_FILE_CHECK,
        "cdrom_image_path": base.OPT_FILE_OR_URL_CHECK,
        "cdrom2_image_path": base.OPT_FILE_OR_URL_CHECK,
        "boot_order": base.param_in_set(True, cmdline.BOOT_ORDERS),
        "nic_type": base.param_in_set(True, cmdline.NIC_TYPES),
        "disk_type": base.param_in_set(True, cmdline.DISK_TYPES),
        "scsi_controller_type": base.param_in_set(
            True, cmdline.SCSI_CONTROLLER_TYPES),
        "disk_discard": base.param_in_set(False, cmdline.DISCARD_TYPES),
        "cdrom_disk_type": base.param_in_set(False, cmdline.DISK_TYPES),
        "usb_mouse": base.param_in_set(False, cmdline.MOUSE_TYPES),
        "keymap": base.NO_CHECK,
        "migration_port": base.REQ_NET_PORT_CHECK,
        "migration_bandwidth": base.REQ_NONNEGATIVE_INT_CHECK,
        "migration_downtime": base.REQ_NONNEGATIVE_INT_CHECK,
        "migration_mode": base.MIGRATION_MODE_CHECK,
        "use_guest_agent": base.NO_CHECK,
        "use_localtime": base.NO_CHECK,
        "disk_cache": base.param_in_set(True, cmdline.CACHE_TYPES),
        "disk_aio": base.param_in_set(False, cmdline.AIO_TYPES),
        "security_model": base.param_in_set(True, cmdline.SECURITY_MODELS),
        "security_domain": base.NO_CHECK,
        "kvm_flag": base.param_in_set(False, cmdline.KVM_FLAG_VALUES),
        "vhost_net": base.NO_CHECK,
        "virtio_net_queues": base.OPT_VIRTIO_NET_QUEUES_CHECK,
        "use_chroot": base.NO_CHECK,
        "user_shutdown": base.NO_CHECK,
        "mem_path": base.OPT_DIR_CHECK,
        "reboot_behavior": base.param_in_set(True, cmdline.REBOOT_BEHAVIORS),
        "cpu_mask": base.OPT_MULTI_CPU_MASK_CHECK,
        "cpu_type": base.NO_CHECK,
        "cpu_cores": base.OPT_NONNEGATIVE_INT_CHECK,
        "cpu_threads": base.OPT_NONNEGATIVE_INT_CHECK,
        "cpu_sockets": base.OPT_NONNEGATIVE_INT_CHECK,
        "soundhw": base.NO_CHECK,
        "usb_devices": base.NO_CHECK,
        "vga": base.NO_CHECK,
        "kvm_extra": base.NO_CHECK,
        "machine_version": base.NO_CHECK,
        "migration_caps": base.NO_CHECK,
        "kvm_pci_reservations": (
            False,
            lambda x: isinstance(x, int) and 0 <= x <= cmdline.PCI_SLOTS,
            "The number of PCI slots managed by QEMU (max: %s)" %
            cmdline.PCI_SLOTS, None, None),
        "vnet_hdr": base.NO_CHECK,
    }

    def __init__(self):
        self.paths = cmdline.KvmPaths(pathutils.RUN_DIR + "/kvm-hypervisor")
        for path in self.paths.all_dirs():
            os.makedirs(path, mode=0o775, exist_ok=True)

    # --- parameters ---

    @classmethod
    def check_parameter_syntax(cls, hvparams):
        super(KVMHypervisor, cls).check_parameter_syntax(hvparams)
        if hvparams["security_model"] == "user" and \
                not hvparams["security_domain"]:
            raise errors.HypervisorError("A security domain (user to run"
                                         " kvm as) must be specified")
        if hvparams["security_model"] != "user" and \
                hvparams["security_domain"]:
            raise errors.HypervisorError("Cannot have a security domain when"
                                         " the security model is 'none' or"
                                         " 'pool'")
        if not hvparams["kernel_path"] and hvparams["boot_order"] == \
                "cdrom" and not hvparams["cdrom_image_path"]:
            raise errors.HypervisorError("Cannot boot from cdrom without an"
                                         " ISO path")
        if hvparams["spice_bind"] and hvparams["vnc_bind_address"]:
            raise errors.HypervisorError("Both SPICE and VNC are configured,"
                                         " but only one of them may be used"
                                         " at a time")

    @staticmethod
    def kvm_binary(hvparams):
        path = resolve_kvm_path(hvparams.get("kvm_path") or DEFAULT_KVM_PATH)
        if path is None:
            raise errors.HypervisorError("The KVM binary ('%s') does not"
                                         " exist" % hvparams.get("kvm_path"))
        return path

    # --- acceleration ---

    def accel_status(self, hvparams=None, probe=True):
        """``{"accel": "kvm"|"tcg", "message": str, "reason": str}``.

        ``probe=False`` answers from the cache only (``"unknown"`` if the
        node was never probed).
        """
        hvparams = hvparams or constants.HVC_DEFAULTS[constants.HT_KVM]
        if hvparams.get("kvm_flag") == "disabled":
            return {"accel": cmdline.ACCEL_TCG, "reason": "kvm_flag is"
                    " disabled", "message": "KVM disabled by kvm_flag,"
                    " using TCG"}
        kvm_path = self.kvm_binary(hvparams)
        result = self._kvm_probe(kvm_path, probe)
        if result is None:
            return {"accel": "unknown", "reason": "not probed yet",
                    "message": "KVM acceleration not probed yet"}
        if result["usable"]:
            return {"accel": cmdline.ACCEL_KVM, "reason": result["reason"],
                    "message": "KVM acceleration available"}
        return {"accel": cmdline.ACCEL_TCG, "reason": result["reason"],
                "message": "%s (%s)" % (ACCEL_MSG_TCG, result["reason"])}

    @staticmethod
    def _cached_probes(path):
        """The probe results saved in ``path`` (none when unreadable)."""
        try:
            with open(path) as fh:
                return json.load(fh)
        except (OSError, ValueError):
            return {}

    def _kvm_probe(self, kvm_path, probe):
        path = self.paths.accel_file
        cached = self._cached_probes(path)
        if cached.get(kvm_path) is not None:
            return cached[kvm_path]
        if not probe:
            return None
        with open(path + ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            cached = self._cached_probes(path)
            if cached.get(kvm_path) is not None:
                return cached[kvm_path]
            usable, reason = self._probe_kvm(kvm_path)
            cached[kvm_path] = {"usable": usable, "reason": reason,
                                "time": time.time()}
            io.write_file(path, serializer.dump_json(cached), mode=0o644)
            logging.info("KVM acceleration probe for %s: %s (%s)", kvm_path,
                         "usable" if usable else "unusable", reason)
            return cached[kvm_path]

    def _probe_kvm(self, kvm_path):
        if not os.path.exists("/dev/kvm"):
            return False, "/dev/kvm does not exist"
        try:
            os.close(os.open("/dev/kvm", os.O_RDWR))
        except OSError as err:
            return False, "cannot open /dev/kvm: %s" % err.strerror
        if not _cpu_has_virt_flags():
            return False, ("/dev/kvm exists but the CPU has no vmx/svm"
                           " flag: not a hardware KVM (e.g. kvm_pvm), stock"
                           " guests cannot run")
        return run_probe(kvm_path, cmdline.ACCEL_KVM, self.paths.root)

    # --- instance processes ---

    def _pid_info(self, name):
        """(pidfile, pid, alive): alive only if the process is a qemu
        started for instance ``name``."""
        pidfile = self.paths.pidfile(name)
        pid = io.read_pid_file(pidfile)
        if not base.process_alive(pid):
            return pidfile, pid, False
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as fh:
                argv = fh.read().decode("utf-8", "replace").split("\0")
        except OSError:
            return pidfile, pid, False
        info = cmdline.parse_pid_cmdline(argv)
        return pidfile, pid, info is not None and info[0] == name

    def _check_down(self, name):
        if self._pid_info(name)[2]:
            raise errors.HypervisorError("Failed to start instance %s: %s" %
                                         (name, "already running"))

    def _qmp(self, name, timeout=QMP_TIMEOUT):
        return qmp_mod.QmpConnection(self.paths.qmp(name), timeout=timeout)

    def _save_runtime(self, name, runtime):
        try:
            io.write_file(self.paths.runtime(name),
                          cmdline.serialize_runtime(runtime))
        except OSError as err:
            raise errors.HypervisorError("Failed to save KVM runtime file:"
                                         " %s" % err)

    def _load_runtime(self, name, serialized=None):
        if serialized is None:
            try:
                serialized = io.read_file(self.paths.runtime(name))
            except OSError as err:
                raise errors.HypervisorError("Failed to load KVM runtime"
                                             " file: %s" % err)
        return cmdline.load_runtime(serialized)

    def _remove_runtime_files(self, name):
        io.remove_file(self.paths.pidfile(name))
        for path in self.paths.socket_files(name):
            io.remove_file(path)
        io.remove_file(self.paths.runtime(name))
        io.remove_file(self.paths.shutdown_marker(name))
        shutil.rmtree(self.paths.nics(name), ignore_errors=True)
        chroot = self.paths.chroot(name)
        try:
            os.rmdir(chroot)
        except FileNotFoundError:
            pass
        except OSError as err:
            if err.errno != errno.ENOTEMPTY:
                raise
            dest = tempfile.mkdtemp(dir=self.paths.chroot_quarantine_dir,
                                    prefix="%s-%s-" %
                                    (name, time.strftime("%Y%m%d%H%M%S")))
            logging.warning("The chroot directory of instance %s can not be"
                            " removed as it is not empty. Moving it to the"
                            " quarantine instead. Please investigate the"
                            " contents (%s) and clean up manually", name,
                            dest)
            os.rename(chroot, dest)

    def generate_runtime(self, instance, block_devices, startup_paused):
        """The KvmRuntime to start ``instance`` with on this node."""
        hvp = instance.hvparams
        self.validate_parameters(hvp)
        if hvp["security_model"] == "pool":
            raise errors.HypervisorError("Security model 'pool' is not"
                                         " supported by this KVM driver")
        kvm_path = self.kvm_binary(hvp)
        machine = hvp["machine_version"] or default_machine(kvm_path)
        accel = self.accel_status(hvp)["accel"]
        return cmdline.generate_runtime(instance, block_devices,
                                        startup_paused, self.paths,
                                        kvm_path, machine, accel)

    def _execute(self, instance, runtime, incoming=None):
        """Run the qemu of ``runtime`` for ``instance``; see kvm_cmdline.
        """
        name = instance.name
        self._check_down(name)
        io.remove_file(self.paths.shutdown_marker(name))
        up_hvp = dict(instance.hvparams)
        up_hvp.update(runtime.hvparams)
        runtime = runtime._replace(hvparams=up_hvp, cmd=list(runtime.cmd))
        paravirtual = up_hvp["nic_type"] == "paravirtual"
        queues = up_hvp.get("virtio_net_queues") or 1 if paravirtual else 1
        taps, tap_fds = [], []
        try:
            for _ in runtime.nics:
                tap, fds = netdev.open_tap(
                    vnet_hdr=paravirtual and up_hvp["vnet_hdr"],
                    queues=queues)
                taps.append(tap)
                tap_fds.append(fds)
            for seq, nic in enumerate(runtime.nics):
                if incoming and (nic.nicparams or {}).get(
                        constants.NIC_MODE) == constants.NIC_MODE_ROUTED:
                    continue  # the route moves in finalize_migration_dst
                netdev.configure_nic(instance, seq, nic, taps[seq])
            if up_hvp["use_chroot"]:
                os.makedirs(self.paths.chroot(name), mode=0o750,
                            exist_ok=True)
            pin = up_hvp["cpu_mask"] not in ("", "all")
            argv = cmdline.execute_args(runtime, self.paths, name, tap_fds,
                                        incoming=incoming,
                                        start_paused=pin and not incoming)
            for path in self.paths.socket_files(name):
                io.remove_file(path)
            all_fds = [fd for fds in tap_fds for fd in fds]
            logging.info("Starting instance %s: %s", name, " ".join(argv))
            try:
                proc = subprocess.run(
                    argv, pass_fds=all_fds, close_fds=True,
                    capture_output=True, text=True, timeout=START_TIMEOUT,
                    stdin=subprocess.DEVNULL, cwd="/",
                    env={"PATH": "/sbin:/bin:/usr/sbin:/usr/bin"})
            except subprocess.TimeoutExpired:
                raise errors.HypervisorError("Failed to start instance %s:"
                                             " timed out" % name)
            except OSError as err:
                raise errors.HypervisorError("Failed to start instance %s:"
                                             " %s" % (name, err))
        finally:
            for fds in tap_fds:
                for fd in fds:
                    os.close(fd)
        if proc.returncode != 0:
            reason = ("exited with exit code %s" % proc.returncode
                      if proc.returncode > 0 else
                      "killed by signal %s" % -proc.returncode)
            raise errors.HypervisorError("Failed to start instance %s: %s"
                                         " (%s)" % (name, reason,
                                                    (proc.stdout +
                                                     proc.stderr).strip()))
        _, pid, alive = self._pid_info(name)
        if not alive:
            raise errors.HypervisorError("Failed to start instance %s" %
                                         name)
        os.makedirs(self.paths.nics(name), mode=0o775, exist_ok=True)
        for seq, tap in enumerate(taps):
            io.write_file(self.paths.nic_file(name, seq), tap)
        self._post_start(instance, up_hvp, pid, pin and not incoming,
                         cmdline.START_PAUSED_FLAG in runtime.cmd)

    def _post_start(self, instance, hvp, pid, pinned, user_paused):
        """VNC password, CPU pinning, migration capabilities over QMP."""
        name = instance.name
        pw_file = instance.hvparams.get("vnc_password_file")
        if not (pw_file or pinned):
            return
        with self._qmp(name) as qmp:
            if pw_file and hvp.get("vnc_bind_address"):
                try:
                    password = io.read_one_line(pw_file)
                except OSError as err:
                    raise errors.HypervisorError(
                        "Failed to open VNC password file %s: %s" %
                        (pw_file, err))
                qmp.execute("change-vnc-password", {"password": password})
            if pinned:
                self._pin_cpus(qmp, pid, hvp["cpu_mask"])
                if not user_paused:
                    qmp.execute("cont")

    @staticmethod
    def _pin_cpus(qmp, pid, mask):
        masks = base.parse_multi_cpu_mask(mask)
        all_cpus = list(range(os.cpu_count() or 1))

        def cpus(values):
            return all_cpus if values == [-1] else values

        if len(masks) == 1:
            for tid in os.listdir("/proc/%d/task" % pid):
                os.sched_setaffinity(int(tid), cpus(masks[0]))
            return
        threads = dict((c["cpu-index"], c["thread-id"])
                       for c in qmp.execute("query-cpus-fast"))
        if len(threads) != len(masks):
            raise errors.HypervisorError("Number of vCPUs (%d) does not match"
                                         " the CPU mask (%d entries)" %
                                         (len(threads), len(masks)))
        for index, values in enumerate(masks):
            os.sched_setaffinity(threads[index], cpus(values))

    # --- lifecycle ---

    def start_instance(self, instance, block_devices, startup_paused):
        self._check_down(instance.name)
        runtime = self.generate_runtime(instance, block_devices,
                                        startup_paused)
        self._save_runtime(instance.name, runtime)
        try:
            self._execute(instance, runtime)
        except Exception:
            self._abandon_start(instance.name)
            raise

    def _abandon_start(self, name):
        """Undo a start that failed: its qemu killed if it runs, its
        runtime files removed."""
        _, pid, alive = self._pid_info(name)
        if alive:
            base.kill_process(pid)
        self._remove_runtime_files(name)

    def stop_instance(self, instance, force=False, timeout=None):
        name = instance.name
        _, pid, alive = self._pid_info(name)
        if not alive:
            return
        if force or not instance.hvparams.get("acpi", True):
            if not base.kill_process(pid, timeout=timeout or 30):
                raise errors.HypervisorError("Failed to stop instance %s:"
                                             " process %d does not die" %
                                             (name, pid))
        else:
            qmp_mod.qmp_command(self.paths.qmp(name), "system_powerdown",
                                timeout=min(timeout or QMP_TIMEOUT,
                                            QMP_TIMEOUT))

    def cleanup_instance(self, instance_name):
        if self._pid_info(instance_name)[2]:
            raise errors.HypervisorError("Cannot cleanup a live instance")
        self._remove_runtime_files(instance_name)

    def reboot_instance(self, instance, timeout=None):
        """Restart the instance's qemu with the saved runtime (the guest
        gets an ACPI power-off first when ``timeout`` allows for it)."""
        name = instance.name
        _, pid, alive = self._pid_info(name)
        if not alive:
            raise errors.HypervisorError("Failed to reboot instance %s: not"
                                         " running" % name)
        runtime = self._load_runtime(name)
        if timeout and instance.hvparams.get("acpi", True):
            try:
                qmp_mod.qmp_command(self.paths.qmp(name), "system_powerdown")
                deadline = time.time() + timeout
                while time.time() < deadline and base.process_alive(pid):
                    time.sleep(0.1)
            except errors.HypervisorError as err:
                logging.warning("Soft shutdown of %s for reboot failed: %s",
                                name, err)
        if not base.kill_process(pid):
            raise errors.HypervisorError("Failed to reboot instance %s:"
                                         " process %d does not die" %
                                         (name, pid))
        self._execute(instance, runtime)

    # --- inventory ---

    def list_instances(self, hvparams=None):
        return sorted(name for name in os.listdir(self.paths.pid_dir)
                      if self._pid_info(name)[2])

    def get_instance_info(self, instance_name, hvparams=None):
        _, pid, alive = self._pid_info(instance_name)
        if not alive:
            if os.path.exists(self.paths.shutdown_marker(instance_name)):
                return (instance_name, -1, 0, 0,
                        base.HvInstanceState.SHUTDOWN, 0)
            return None
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as fh:
                argv = fh.read().decode("utf-8", "replace").split("\0")
        except OSError as err:
            raise errors.HypervisorError("Can't open cmdline file for pid %s:"
                                         " %s" % (pid, err))
        _, memory, vcpus = cmdline.parse_pid_cmdline(argv)
        return (instance_name, pid, memory, vcpus,
                base.HvInstanceState.RUNNING, 0)

    def get_node_info(self, hvparams=None):
        info = base.linux_node_info()
        try:
            status = self.accel_status(hvparams)
            info["accel"] = status["accel"]
            info["accel_message"] = status["message"]
        except errors.HypervisorError as err:
            info["accel"] = None
            info["accel_message"] = str(err)
        return info

    def verify(self, hvparams=None):
        hvparams = hvparams or constants.HVC_DEFAULTS[constants.HT_KVM]
        msgs = []
        kvm_path = hvparams.get("kvm_path") or DEFAULT_KVM_PATH
        if resolve_kvm_path(kvm_path) is None:
            msgs.append("The KVM binary ('%s') does not exist" % kvm_path)
        if not os.path.exists(base.SOCAT_PATH):
            msgs.append("The socat binary ('%s') does not exist" %
                        base.SOCAT_PATH)
        return self.format_verify_results(msgs)

    @classmethod
    def get_instance_console(cls, instance, primary_node, node_group,
                             hvparams, beparams):
        paths = cmdline.KvmPaths(pathutils.RUN_DIR + "/kvm-hypervisor")
        if hvparams.get("serial_console"):
            ndparams = dict(constants.NDC_DEFAULTS)
            if node_group is not None:
                ndparams.update(node_group.ndparams or {})
            ndparams.update(primary_node.ndparams or {})
            command = [base.SOCAT_PATH,
                       "STDIO,raw,echo=0,escape=%s" % base.SOCAT_ESCAPE_CODE,
                       "UNIX-CONNECT:%s" % paths.serial(instance.name)]
            return base.console(instance.name, base.CONS_SSH,
                                host=primary_node.name,
                                port=ndparams.get("ssh_port"),
                                user=base.SSH_CONSOLE_USER, command=command)
        bind = hvparams.get("vnc_bind_address")
        if bind and cmdline.is_ip_address(bind):
            if bind in (constants.IP4_ADDRESS_ANY, "::"):
                bind = primary_node.primary_ip
            port = instance.network_port
            return base.console(instance.name, base.CONS_VNC, host=bind,
                                port=port,
                                display=port - cmdline.VNC_BASE_PORT)
        if bind:
            return base.console(instance.name, base.CONS_MESSAGE,
                                message="VNC console of instance %s is the"
                                " unix socket %s/%s.vnc on node %s" %
                                (instance.name, bind, instance.name,
                                 primary_node.name))
        return base.console(instance.name, base.CONS_MESSAGE,
                            message="No serial shell for instance %s" %
                            instance.name)

    # --- migration ---

    def migration_info(self, instance):
        try:
            return io.read_file(self.paths.runtime(instance.name))
        except OSError as err:
            raise errors.HypervisorError("Failed to load KVM runtime file:"
                                         " %s" % err)

    def accept_instance(self, instance, info, target):
        runtime = self._load_runtime(instance.name, serialized=info)
        port = instance.hvparams["migration_port"]
        try:
            self._execute(instance, runtime, incoming=(target, port))
            caps = instance.hvparams.get("migration_caps")
            if caps:
                self._set_migration_caps(instance.name, caps)
        except Exception:
            self._abandon_start(instance.name)
            raise

    def _set_migration_caps(self, name, caps, qmp=None):
        wanted = [{"capability": cap, "state": True}
                  for cap in caps.split(MIGRATION_CAPS_DELIM) if cap]
        if not wanted:
            return
        if qmp is None:
            with self._qmp(name) as conn:
                conn.execute("migrate-set-capabilities",
                             {"capabilities": wanted})
        else:
            qmp.execute("migrate-set-capabilities", {"capabilities": wanted})

    def finalize_migration_dst(self, instance, info, success):
        name = instance.name
        if not success:
            _, pid, alive = self._pid_info(name)
            if alive:
                base.kill_process(pid)
            self._remove_runtime_files(name)
            return
        runtime = self._load_runtime(name, serialized=info)
        for seq, nic in enumerate(runtime.nics):
            if (nic.nicparams or {}).get(constants.NIC_MODE) != \
                    constants.NIC_MODE_ROUTED:
                continue
            try:
                tap = io.read_one_line(self.paths.nic_file(name, seq))
                netdev.configure_nic(instance, seq, nic, tap)
            except (OSError, errors.HypervisorError) as err:
                logging.warning("Failed to configure NIC #%d of %s: %s", seq,
                                name, err)
        try:
            io.write_file(self.paths.runtime(name), info)
        except OSError as err:
            raise errors.HypervisorError("Failed to save KVM runtime file:"
                                         " %s" % err)

    def migrate_instance(self, cluster_name, instance, target, live):
        name = instance.name
        hvp = instance.hvparams
        if not self._pid_info(name)[2]:
            raise errors.HypervisorError("Instance not running, cannot"
                                         " migrate")
        host = "[%s]" % target if ":" in target else target
        with self._qmp(name) as qmp:
            if not live:
                qmp.execute("stop")
            qmp.execute("migrate-set-parameters", {
                "max-bandwidth": hvp["migration_bandwidth"] * 1024 * 1024,
                "downtime-limit": hvp["migration_downtime"]})
            if hvp.get("migration_caps"):
                self._set_migration_caps(name, hvp["migration_caps"], qmp)
            qmp.execute("migrate", {"uri": "tcp:%s:%s" %
                                    (host, hvp["migration_port"])})

    def get_migration_status(self, instance):
        """Status and RAM progress (KiB) from QMP ``query-migrate``;
        ``downtime_ms`` once completed, ``error`` when failed."""
        last = None
        for _ in range(5):
            try:
                info = qmp_mod.qmp_command(self.paths.qmp(instance.name),
                                           "query-migrate")
            except errors.HypervisorError as err:
                last = str(err)
                time.sleep(0.5)
                continue
            status = info.get("status")
            if status in base.MIGRATION_VALID_STATUSES:
                ram = info.get("ram") or {}
                result = {"status": status,
                          "transferred_ram": None, "total_ram": None}
                if "transferred" in ram:
                    result["transferred_ram"] = ram["transferred"] // 1024
                    result["total_ram"] = ram.get("total", 0) // 1024
                if "downtime" in info:
                    result["downtime_ms"] = info["downtime"]
                if status == base.MIGRATION_FAILED and \
                        info.get("error-desc"):
                    result["error"] = info["error-desc"]
                return result
            last = "unknown migration status '%s'" % status
            logging.warning("KVM: %s", last)
            time.sleep(0.5)
        raise errors.HypervisorError("Cannot get the migration status of %s:"
                                     " %s" % (instance.name, last))

    def finalize_migration_src(self, instance, success, live):
        name = instance.name
        _, pid, alive = self._pid_info(name)
        if success:
            if alive and not base.kill_process(pid):
                raise errors.HypervisorError("Failed to kill the migrated"
                                             " instance %s (pid %d)" %
                                             (name, pid))
            self._remove_runtime_files(name)
        elif alive:
            with self._qmp(name) as qmp:
                if qmp.execute("query-status").get("status") != "running":
                    qmp.execute("cont")

    @staticmethod
    def versions_safe_for_migration(src, target):
        return True
