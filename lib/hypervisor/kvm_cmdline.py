"""The qemu command line of a KVM instance, from its parameters.

Pure functions (no files written, no processes run), so that the whole
mapping hvparams -> argv is unit-tested. Two stages, as in Ganeti:

* ``generate_runtime(...)`` -> ``KvmRuntime(cmd, nics, hvparams, disks)``:
  everything that must be identical wherever the instance runs (memory,
  CPUs, machine type and accelerator, kernel, consoles, PCI slots of disks
  and NICs). It is saved as the instance's runtime file and shipped to the
  target of a migration, so the target starts the same machine.
* ``execute_args(...)``: what depends on the node and the moment: the tap
  file descriptors of the NICs, the drives (paths on this node), the QMP
  socket, ``-incoming`` for a migration target, ``-S``.

The runtime file is JSON ``[cmd, [nic dicts], hvparams, [[disk dict,
link_name, uri], ...]]`` (Ganeti's layout); NICs and disks carry
``hvinfo`` (qemu device driver, id, bus, addr) for later hot-plugging.
"""

import collections
import ipaddress
import logging
import os
import shlex
import uuid as uuid_mod

from ganeti import constants
from ganeti import errors
from ganeti import objects
from ganeti import serializer

# Ganeti's per-instance files under /var/run/ganeti/kvm-hypervisor
KvmRuntime = collections.namedtuple("KvmRuntime",
                                    ["cmd", "nics", "hvparams", "disks"])

ACCEL_KVM = "kvm"
ACCEL_TCG = "tcg"
VNC_BASE_PORT = 5900
PCI_SLOTS = 32
PCI_BUS = "pci.0"
PCIE_BUS = "pcie.0"
START_PAUSED_FLAG = "-S"

# Disk templates whose storage is shared between nodes: the host page
# cache must be off or a migration would read stale data on the target.
DTS_EXT_MIRROR = frozenset([constants.DT_BLOCK, constants.DT_EXT,
                            constants.DT_GLUSTER, constants.DT_RBD,
                            constants.DT_SHARED_FILE])

BOOT_ORDERS = ("disk", "cdrom", "floppy", "network")
NIC_TYPES = ("rtl8139", "ne2k_isa", "ne2k_pci", "paravirtual", "e1000",
             "i82551", "i82557b", "i82559er", "pcnet")
DISK_TYPES = ("ide", "scsi", "sd", "mtd", "pflash", "paravirtual",
              "scsi-block", "scsi-generic", "scsi-hd", "scsi-cd")
SCSI_DISK_TYPES = frozenset(["scsi", "scsi-block", "scsi-generic", "scsi-hd",
                             "scsi-cd"])
SCSI_CONTROLLER_TYPES = ("lsi", "virtio-scsi-pci", "megasas", "megasas-gen2",
                         "mptsas1068", "pvscsi")
CACHE_TYPES = ("default", "none", "writethrough", "writeback")
AIO_TYPES = ("threads", "native")
DISCARD_TYPES = ("default", "ignore", "unmap")
SECURITY_MODELS = ("none", "user", "pool")
MOUSE_TYPES = ("mouse", "tablet")
KVM_FLAG_VALUES = ("enabled", "disabled")
REBOOT_BEHAVIORS = ("reboot", "exit")
SPICE_LOSSLESS_IMG_COMPR = ("auto_glz", "auto_lz", "quic", "glz", "lz",
                            "off")
SPICE_LOSSY_IMG_COMPR = ("auto", "never", "always")
SPICE_VIDEO_STREAM_DETECTION = ("off", "all", "filter")

_VIRTIO_BLK_PCI = "virtio-blk-pci"
_VIRTIO_NET_PCI = "virtio-net-pci"
_ISA_NICS = frozenset(["ne2k_isa"])


class KvmPaths:
    """Where the files of KVM instances live (``root`` is
    ``/var/run/ganeti/kvm-hypervisor``). The same on every node."""

    def __init__(self, root):
        self.root = root
        self.pid_dir = root + "/pid"
        self.uid_dir = root + "/uid"
        self.ctrl_dir = root + "/ctrl"
        self.conf_dir = root + "/conf"
        self.nic_dir = root + "/nic"
        self.keymap_dir = root + "/keymap"
        self.chroot_dir = root + "/chroot"
        self.chroot_quarantine_dir = root + "/chroot-quarantine"
        self.accel_file = root + "/accel"

    def all_dirs(self):
        return [self.root, self.pid_dir, self.uid_dir, self.ctrl_dir,
                self.conf_dir, self.nic_dir, self.keymap_dir,
                self.chroot_dir, self.chroot_quarantine_dir]

    def pidfile(self, name):
        return os.path.join(self.pid_dir, name)

    def monitor(self, name):
        return os.path.join(self.ctrl_dir, "%s.monitor" % name)

    def serial(self, name):
        return os.path.join(self.ctrl_dir, "%s.serial" % name)

    def qmp(self, name):
        return os.path.join(self.ctrl_dir, "%s.qmp" % name)

    def shutdown_marker(self, name):
        return os.path.join(self.ctrl_dir, "%s.shutdown" % name)

    def runtime(self, name):
        return os.path.join(self.conf_dir, "%s.runtime" % name)

    def nics(self, name):
        return os.path.join(self.nic_dir, name)

    def nic_file(self, name, seq):
        return os.path.join(self.nic_dir, name, str(seq))

    def chroot(self, name):
        return os.path.join(self.chroot_dir, name)

    def socket_files(self, name):
        return [self.monitor(name), self.serial(name), self.qmp(name)]


def _chardev_unix(path):
    return "unix:%s,server=on,wait=off" % path


def is_ip_address(value):
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return False


def is_ip6_address(value):
    try:
        return ipaddress.ip_address(value).version == 6
    except ValueError:
        return False


def _is_uuid(value):
    try:
        uuid_mod.UUID(value or "")
        return True
    except ValueError:
        return False


def pci_bus(machine):
    """The root PCI bus qemu names for ``machine``."""
    return PCIE_BUS if "q35" in (machine or "") else PCI_BUS


class _SlotAllocator:
    """PCI slots of the root bus: the first ``reserved`` belong to qemu's
    own devices; Ganeti's disks and NICs get the next free ones."""

    def __init__(self, reserved):
        self.used = [i < reserved for i in range(PCI_SLOTS)]

    def take(self):
        for slot, used in enumerate(self.used):
            if not used:
                self.used[slot] = True
                return slot
        raise errors.HypervisorError("No free PCI slot left")


def _device_id(kind, dev, slot, idx):
    uuid = getattr(dev, "uuid", None)
    short = uuid.split("-")[0] if uuid else "%d" % idx
    return "%s-%s-pci-%d" % (kind, short, slot)


def disk_driver(hvparams):
    disk_type = hvparams["disk_type"]
    if disk_type == "paravirtual":
        return _VIRTIO_BLK_PCI
    if disk_type in ("scsi", "scsi-hd"):
        return "scsi-hd"
    return disk_type


def nic_driver(hvparams):
    nic_type = hvparams["nic_type"]
    return _VIRTIO_NET_PCI if nic_type == "paravirtual" else nic_type


def _smp(hvparams, vcpus):
    parts = ["%s" % vcpus]
    for key, name in (("cpu_cores", "cores"), ("cpu_threads", "threads"),
                      ("cpu_sockets", "sockets")):
        if hvparams.get(key):
            parts.append("%s=%s" % (name, hvparams[key]))
    return ",".join(parts)


def _vnc_args(hvparams, instance):
    """``-vnc`` (and a TLS object if needed), or ``-display none``."""
    bind = hvparams.get("vnc_bind_address") or ""
    if not bind:
        return ["-display", "none"]
    if not is_ip_address(bind):
        # Not an address: a directory to hold the instance's VNC socket.
        return ["-vnc", "unix:%s/%s.vnc" % (bind, instance.name)]
    port = instance.network_port or 0
    if port <= VNC_BASE_PORT:
        logging.error("Network port is not a valid VNC display (%d < %d),"
                      " not starting VNC", port, VNC_BASE_PORT)
        return ["-vnc", "none"]
    display = port - VNC_BASE_PORT
    if bind == constants.IP4_ADDRESS_ANY:
        arg = ":%d" % display
    elif is_ip6_address(bind):
        arg = "[%s]:%d" % (bind, display)
    else:
        arg = "%s:%d" % (bind, display)
    pre = []
    if hvparams.get("vnc_tls"):
        creds = "tls-creds-x509,id=vnctls0,endpoint=server"
        if hvparams.get("vnc_x509_path"):
            creds += ",dir=%s" % hvparams["vnc_x509_path"]
        creds += ",verify-peer=%s" % ("on" if hvparams.get("vnc_x509_verify")
                                      else "off")
        pre = ["-object", creds]
        arg += ",tls-creds=vnctls0"
    if hvparams.get("vnc_password_file"):
        arg += ",password=on"
    return pre + ["-vnc", arg]


def _cdrom_args(image, disk_type, boot):
    if disk_type == "paravirtual":
        iface = "virtio"
    else:
        iface = disk_type or "ide"
    if boot:
        iface = "ide"
    opts = ",media=cdrom" if "://" in image else ",media=cdrom,format=raw"
    args = ["-drive", "file=%s%s,if=%s" % (image, opts, iface)]
    return (["-boot", "d"] if boot else []) + args


def generate_runtime(instance, block_devices, startup_paused, paths,
                     kvm_path, machine, accel):
    """The node-independent part of the instance's qemu invocation.

    ``instance``: objects.Instance with complete hvparams/beparams;
    ``block_devices``: [(objects.Disk, link_name, uri)];
    ``paths``: KvmPaths; ``kvm_path``: the qemu binary to run;
    ``machine``: the machine type (``machine_version`` or qemu's
    default, resolved by the caller); ``accel``: ACCEL_KVM or ACCEL_TCG.
    """
    hvp = instance.hvparams
    bep = instance.beparams
    name = instance.name
    memory = bep.get(constants.BE_MAXMEM, bep.get(constants.BE_MEMORY))
    cmd = [kvm_path, "-name", name, "-m", "%d" % memory,
           "-smp", _smp(hvp, bep.get(constants.BE_VCPUS, 1)),
           "-pidfile", paths.pidfile(name), "-daemonize"]
    if hvp["disk_type"] in SCSI_DISK_TYPES:
        cmd += ["-device", "%s,id=scsi" % hvp["scsi_controller_type"]]
    if not hvp["acpi"]:
        cmd += ["-no-acpi"]
    if hvp["reboot_behavior"] == "exit":
        cmd += ["-no-reboot"]
    cmd += ["-machine", "%s,accel=%s" % (machine, accel)]
    if startup_paused:
        cmd += [START_PAUSED_FLAG]

    kernel_path = hvp["kernel_path"]
    boot = "" if kernel_path else hvp["boot_order"]
    if boot == "network":
        cmd += ["-boot", "n"]
    cdrom_type = hvp["cdrom_disk_type"] or hvp["disk_type"]
    if hvp["cdrom_image_path"]:
        cmd += _cdrom_args(hvp["cdrom_image_path"], cdrom_type,
                           boot == "cdrom")
    if hvp["cdrom2_image_path"]:
        cmd += _cdrom_args(hvp["cdrom2_image_path"], cdrom_type, False)
    if hvp["floppy_image_path"]:
        opts = ",format=raw,media=disk,if=floppy"
        if boot == "floppy":
            cmd += ["-boot", "a"]
        cmd += ["-drive", "file=%s%s" % (hvp["floppy_image_path"], opts)]

    if kernel_path:
        cmd += ["-kernel", kernel_path]
        if hvp["initrd_path"]:
            cmd += ["-initrd", hvp["initrd_path"]]
        append = []
        if hvp["root_path"]:
            append.append("root=%s" % hvp["root_path"])
        if hvp["kernel_args"]:
            append.append(hvp["kernel_args"])
        if hvp["serial_console"]:
            append.append("console=ttyS0,%s" % hvp["serial_speed"])
        cmd += ["-append", " ".join(append)]

    if hvp["mem_path"]:
        cmd += ["-mem-path", hvp["mem_path"], "-mem-prealloc"]

    cmd += ["-monitor", _chardev_unix(paths.monitor(name))]
    if hvp["serial_console"]:
        cmd += ["-serial", _chardev_unix(paths.serial(name))]
    else:
        cmd += ["-serial", "none"]

    mouse = hvp["usb_mouse"]
    if mouse or hvp["usb_devices"] or hvp["vnc_bind_address"]:
        cmd += ["-usb"]
    if mouse:
        cmd += ["-device", "usb-%s" % mouse]
    elif hvp["vnc_bind_address"]:
        cmd += ["-device", "usb-tablet"]
    if hvp["spice_bind"]:
        raise errors.HypervisorError("SPICE consoles are not supported by"
                                     " this KVM driver (spice_bind is set)")
    cmd += _vnc_args(hvp, instance)
    if hvp["keymap"]:
        cmd += ["-k", hvp["keymap"]]
    if hvp["use_localtime"]:
        cmd += ["-rtc", "base=localtime"]
    if hvp["use_chroot"]:
        cmd += ["-chroot", paths.chroot(name)]
    if hvp["cpu_type"]:
        cmd += ["-cpu", hvp["cpu_type"]]
    if hvp["vga"]:
        cmd += ["-vga", hvp["vga"]]
    if hvp["soundhw"]:
        cmd += ["-device", hvp["soundhw"]]
    for dev in (hvp["usb_devices"] or "").split(","):
        if dev.strip():
            cmd += ["-usbdevice", dev.strip()]
    if _is_uuid(instance.uuid):
        cmd += ["-uuid", instance.uuid]
    if hvp["kvm_extra"]:
        cmd += shlex.split(hvp["kvm_extra"])

    bus = pci_bus(machine)
    slots = _SlotAllocator(hvp["kvm_pci_reservations"])
    disks = []
    drv = disk_driver(hvp)
    for idx, (disk, link, uri) in enumerate(block_devices):
        disk = disk.copy()
        if drv == _VIRTIO_BLK_PCI:
            slot = slots.take()
            disk.hvinfo = {"driver": drv, "id": _device_id("disk", disk,
                                                            slot, idx),
                           "bus": bus, "addr": hex(slot)}
        elif drv in SCSI_DISK_TYPES:
            disk.hvinfo = {"driver": drv, "id": "disk-scsi-%d" % idx,
                           "bus": "scsi.0", "channel": 0, "scsi-id": idx,
                           "lun": 0}
        else:
            disk.hvinfo = {}
        disks.append((disk, link, uri))
    nics = []
    ndrv = nic_driver(hvp)
    for idx, nic in enumerate(instance.nics):
        nic = nic.copy()
        if ndrv in _ISA_NICS:
            nic.hvinfo = {}
        else:
            slot = slots.take()
            nic.hvinfo = {"driver": ndrv, "id": _device_id("nic", nic, slot,
                                                           idx),
                          "bus": bus, "addr": hex(slot)}
        nics.append(nic)
    return KvmRuntime(cmd, nics, dict(hvp), disks)


def _device_str(hvinfo):
    """``driver,id=..,bus=..,addr=..`` (or the SCSI address) of a device."""
    parts = [hvinfo["driver"], "id=%s" % hvinfo["id"],
             "bus=%s" % hvinfo["bus"]]
    if "addr" in hvinfo:
        parts.append("addr=%s" % hvinfo["addr"])
    else:
        parts += ["channel=%s" % hvinfo["channel"],
                  "scsi-id=%s" % hvinfo["scsi-id"],
                  "lun=%s" % hvinfo["lun"]]
    return ",".join(parts)


def drive_args(hvparams, disks):
    """``-drive``/``-device`` options of the instance's disks.

    ``disks``: the runtime's [(objects.Disk with hvinfo, link_name, uri)].
    """
    kernel_path = hvparams["kernel_path"]
    boot_disk = not kernel_path and hvparams["boot_order"] == "disk"
    aio = hvparams["disk_aio"]
    cache = hvparams["disk_cache"]
    discard = hvparams["disk_discard"]
    args = []
    for idx, (disk, link, uri) in enumerate(disks):
        if disk.dev_type in DTS_EXT_MIRROR:
            if cache not in ("none", "default"):
                logging.warning("KVM: overriding disk_cache setting '%s'"
                                " with 'none' to prevent shared storage"
                                " corruption on migration", cache)
            cache_val = ",cache=none"
        elif aio == "native" and cache != "none":
            if cache != "default":
                logging.warning("KVM: overriding disk_cache setting '%s'"
                                " with 'none' to prevent QEMU failures in"
                                " version 2.6+", cache)
            cache_val = ",cache=none"
        elif cache != "default":
            cache_val = ",cache=%s" % cache
        else:
            cache_val = ""
        aio_val = ",aio=native" if aio == "native" else ""
        discard_val = ",discard=%s" % discard if discard != "default" else ""
        ro_val = ",readonly=on" if disk.mode == "ro" else ""
        if boot_disk:
            args += ["-boot", "c"]
            boot_disk = False
        drive = "file=%s,format=raw" % (uri or link)
        hvinfo = disk.hvinfo or {}
        if hvinfo.get("id"):
            drive += ",if=none,id=%s" % hvinfo["id"]
            args += ["-device", "%s,drive=%s" % (_device_str(hvinfo),
                                                 hvinfo["id"])]
        else:
            drive += ",if=%s,index=%d" % (hvparams["disk_type"], idx)
        args += ["-drive", drive + cache_val + aio_val + discard_val +
                 ro_val]
    return args


def nic_args(hvparams, nics, tap_fds):
    """``-netdev``/``-device`` options; ``tap_fds[i]`` lists the open tap
    file descriptors of NIC i (one per queue)."""
    if not nics:
        return ["-net", "none"]
    args = []
    paravirtual = hvparams["nic_type"] == "paravirtual"
    queues = hvparams.get("virtio_net_queues") or 1
    for seq, nic in enumerate(nics):
        fds = tap_fds[seq]
        hvinfo = nic.hvinfo or {}
        netdev = hvinfo.get("id") or "netdev%d" % seq
        tap = "tap,id=%s,%s%s" % (netdev, "fds=" if len(fds) > 1 else "fd=",
                                  ":".join(str(fd) for fd in fds))
        dev_extra = ""
        if paravirtual:
            # vnet_hdr is a flag of the tap we open (qemu probes the fd)
            if hvparams["vhost_net"]:
                tap += ",vhost=on"
            if queues > 1:
                dev_extra = ",mq=on,vectors=%d" % (2 * queues + 1)
        if hvinfo.get("id"):
            dev = _device_str(hvinfo)
        else:
            dev = nic_driver(hvparams)
        dev += ",netdev=%s,mac=%s%s" % (netdev, nic.mac, dev_extra)
        args += ["-netdev", tap, "-device", dev]
    return args


def execute_args(runtime, paths, name, tap_fds, incoming=None,
                 start_paused=False):
    """The full argv to run: the runtime's command plus the node-specific
    options (see the module docstring). ``incoming`` is (address, port) on
    a migration target."""
    hvp = runtime.hvparams
    cmd = [str(arg) for arg in runtime.cmd]  # Ganeti wrote "-m" as a number
    if hvp["security_model"] == "user":
        cmd += ["-runas", hvp["security_domain"]]
    cmd += nic_args(hvp, runtime.nics, tap_fds)
    if incoming:
        cmd += ["-incoming", "tcp:%s:%s" % tuple(incoming)]
    cmd += ["-qmp", _chardev_unix(paths.qmp(name))]
    cmd += drive_args(hvp, runtime.disks)
    if start_paused and START_PAUSED_FLAG not in cmd:
        cmd += [START_PAUSED_FLAG]
    return cmd


# --- the runtime file ---

def serialize_runtime(runtime):
    return serializer.dump_json([
        runtime.cmd, [nic.to_dict() for nic in runtime.nics],
        runtime.hvparams,
        [[disk.to_dict(), link, uri] for disk, link, uri in runtime.disks]])


def load_runtime(text):
    """A KvmRuntime from ``serialize_runtime``'s text (or Ganeti's)."""
    try:
        data = serializer.load_json(text)
        cmd, nics, hvparams = data[:3]
        disks = data[3] if len(data) > 3 else []
    except (ValueError, TypeError, IndexError) as err:
        raise errors.HypervisorError("Invalid KVM runtime data: %s" % err)
    return KvmRuntime(list(cmd), [objects.NIC.from_dict(n) for n in nics],
                      hvparams, [(objects.Disk.from_dict(d), link, uri)
                                 for d, link, uri in disks])


def runtime_accel(cmd):
    """The accelerator a saved command line asks for (None if none)."""
    for idx, arg in enumerate(cmd[:-1]):
        if arg == "-machine":
            for part in cmd[idx + 1].split(",")[1:]:
                if part.startswith("accel="):
                    return part[len("accel="):]
    return None


def parse_pid_cmdline(argv):
    """(instance name, memory MiB, vCPUs) from a qemu argv, or None if it
    is not a Ganeti instance (no ``-name``)."""
    name = None
    memory = 0
    vcpus = 0
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "-name" and args:
            name = args.pop(0).split(",")[0]
        elif arg == "-m" and args:
            try:
                memory = int(args.pop(0).split(",")[0].rstrip("M"))
            except ValueError:
                pass
        elif arg == "-smp" and args:
            try:
                vcpus = int(args.pop(0).split(",")[0])
            except ValueError:
                pass
    if name is None:
        return None
    return name, memory, vcpus
