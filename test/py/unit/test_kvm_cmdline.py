"""The qemu command line built from an instance's parameters.

Pure functions: no qemu runs here (test_hv_kvm.py starts real ones).
"""

import pytest

from ganeti import constants
from ganeti import errors
from ganeti import objects
from ganeti.hypervisor import kvm_cmdline as cmdline

ROOT = "/var/run/ganeti/kvm-hypervisor"
PATHS = cmdline.KvmPaths(ROOT)
UUID = "0c7e4a6c-3d1b-4d6a-9c0e-1f2a3b4c5d6e"
DISK_UUID = "6b1d0e1c-7a43-4c55-a1e2-9d0f3c2b1a00"
NIC_UUID = "1e2d3c4b-5a69-4788-9aab-bccddeeff001"


def _instance(nics=1, network_port=None, **hvparams):
    hvp = dict(constants.HVC_DEFAULTS[constants.HT_KVM])
    hvp.update(hvparams)
    inst = objects.Instance(
        name="inst1.example.com", uuid=UUID, hypervisor="kvm",
        hvparams=hvp, beparams={"maxmem": 256, "minmem": 128, "vcpus": 2},
        nics=[objects.NIC(mac="aa:00:00:00:00:%02x" % i, uuid=NIC_UUID,
                          nicparams={"mode": "bridged", "link": "br0"})
              for i in range(nics)],
        network_port=network_port)
    inst.upgrade_config()
    return inst


def _disks(count=1, dev_type="sharedfile", mode="rw"):
    return [(objects.Disk(dev_type=dev_type, uuid=DISK_UUID, mode=mode,
                          logical_id=["loop", "/srv/d%d" % i], size=32),
             "/var/run/ganeti/instance-disks/inst1.example.com:%d" % i, None)
            for i in range(count)]


def _runtime(inst, disks=None, paused=False, machine="pc-i440fx-7.2",
             accel="tcg"):
    return cmdline.generate_runtime(inst, _disks() if disks is None else
                                    disks, paused, PATHS, "/usr/bin/kvm",
                                    machine, accel)


def _opt(argv, flag):
    """Values of every occurrence of ``flag`` in ``argv``."""
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == flag]


def test_base_command_line_of_a_kernel_booted_instance():
    inst = _instance(kernel_path="/boot/vmlinuz", initrd_path="/boot/initrd",
                     kernel_args="ro quiet", root_path="/dev/vda1")
    cmd = _runtime(inst).cmd
    assert cmd[:11] == ["/usr/bin/kvm", "-name", "inst1.example.com",
                        "-m", "256", "-smp", "2", "-pidfile",
                        ROOT + "/pid/inst1.example.com", "-daemonize",
                        "-machine"]
    assert _opt(cmd, "-machine") == ["pc-i440fx-7.2,accel=tcg"]
    assert _opt(cmd, "-kernel") == ["/boot/vmlinuz"]
    assert _opt(cmd, "-initrd") == ["/boot/initrd"]
    assert _opt(cmd, "-append") == [
        "root=/dev/vda1 ro quiet console=ttyS0,38400"]
    assert _opt(cmd, "-serial") == [
        "unix:%s/ctrl/inst1.example.com.serial,server=on,wait=off" % ROOT]
    assert _opt(cmd, "-monitor") == [
        "unix:%s/ctrl/inst1.example.com.monitor,server=on,wait=off" % ROOT]
    assert _opt(cmd, "-display") == ["none"]
    assert _opt(cmd, "-uuid") == [UUID]
    assert "-S" not in cmd and "-boot" not in cmd
    assert "-no-acpi" not in cmd and "-no-reboot" not in cmd


def test_accelerator_and_pause_and_flags():
    inst = _instance(acpi=False, reboot_behavior="exit", cpu_cores=2,
                     cpu_threads=1, cpu_sockets=1, cpu_type="qemu64",
                     use_localtime=True, vga="std", mem_path="/hugepages")
    cmd = _runtime(inst, paused=True, accel="kvm", machine="q35").cmd
    assert _opt(cmd, "-machine") == ["q35,accel=kvm"]
    assert "-S" in cmd and "-no-acpi" in cmd and "-no-reboot" in cmd
    assert _opt(cmd, "-smp") == ["2,cores=2,threads=1,sockets=1"]
    assert _opt(cmd, "-cpu") == ["qemu64"]
    assert _opt(cmd, "-rtc") == ["base=localtime"]
    assert _opt(cmd, "-vga") == ["std"]
    assert _opt(cmd, "-mem-path") == ["/hugepages"]
    assert "-mem-prealloc" in cmd


def test_no_serial_console_and_no_kernel():
    inst = _instance(serial_console=False, kernel_path="")
    cmd = _runtime(inst).cmd
    assert _opt(cmd, "-serial") == ["none"]
    assert "-kernel" not in cmd and "-append" not in cmd


def test_kvm_extra_is_split_like_a_shell():
    cmd = _runtime(_instance(kvm_extra="-device virtio-rng-pci -name 'a b'"))
    assert cmd.cmd[-4:] == ["-device", "virtio-rng-pci", "-name", "a b"]


def test_invalid_uuid_is_not_passed():
    inst = _instance()
    inst.uuid = "not-a-uuid"
    assert "-uuid" not in _runtime(inst).cmd


def test_vnc_on_an_address_and_on_a_unix_socket():
    cmd = _runtime(_instance(vnc_bind_address="0.0.0.0"),
                   disks=[]).cmd
    assert _opt(cmd, "-vnc") == ["none"]  # no network_port: no display
    inst = _instance(vnc_bind_address="0.0.0.0", network_port=5903,
                     vnc_password_file="/etc/ganeti/vnc-pw")
    cmd = _runtime(inst).cmd
    assert _opt(cmd, "-vnc") == [":3,password=on"]
    assert "-usb" in cmd and _opt(cmd, "-device")[0] == "usb-tablet"
    inst = _instance(vnc_bind_address="198.51.100.11", network_port=5910,
                     vnc_tls=True, vnc_x509_path="/etc/x509",
                     vnc_x509_verify=True)
    cmd = _runtime(inst).cmd
    assert _opt(cmd, "-vnc") == ["198.51.100.11:10,tls-creds=vnctls0"]
    assert _opt(cmd, "-object") == [
        "tls-creds-x509,id=vnctls0,endpoint=server,dir=/etc/x509,"
        "verify-peer=on"]
    inst = _instance(vnc_bind_address="2001:db8::1", network_port=5901)
    assert _opt(_runtime(inst).cmd, "-vnc") == ["[2001:db8::1]:1"]
    inst = _instance(vnc_bind_address="/var/run/ganeti/vnc")
    assert _opt(_runtime(inst).cmd, "-vnc") == [
        "unix:/var/run/ganeti/vnc/inst1.example.com.vnc"]


def test_spice_is_refused_clearly():
    with pytest.raises(errors.HypervisorError, match="SPICE"):
        _runtime(_instance(spice_bind="0.0.0.0"))


def test_cdrom_boot_and_floppy():
    inst = _instance(kernel_path="", boot_order="cdrom",
                     cdrom_image_path="/srv/cd.iso",
                     floppy_image_path="/srv/fd.img")
    cmd = _runtime(inst).cmd
    assert _opt(cmd, "-boot") == ["d"]
    assert _opt(cmd, "-drive") == [
        "file=/srv/cd.iso,media=cdrom,format=raw,if=ide",
        "file=/srv/fd.img,format=raw,media=disk,if=floppy"]
    inst = _instance(kernel_path="", boot_order="network")
    assert _opt(_runtime(inst).cmd, "-boot") == ["n"]


def test_pci_slots_of_disks_and_nics_follow_the_reservations():
    rt = _runtime(_instance(nics=2), disks=_disks(2))
    assert [d.hvinfo for d, _, _ in rt.disks] == [
        {"driver": "virtio-blk-pci", "id": "disk-6b1d0e1c-pci-12",
         "bus": "pci.0", "addr": "0xc"},
        {"driver": "virtio-blk-pci", "id": "disk-6b1d0e1c-pci-13",
         "bus": "pci.0", "addr": "0xd"}]
    assert [n.hvinfo["addr"] for n in rt.nics] == ["0xe", "0xf"]
    rt = _runtime(_instance(kvm_pci_reservations=3), machine="pc-q35-7.2")
    assert rt.disks[0][0].hvinfo["bus"] == "pcie.0"
    assert rt.disks[0][0].hvinfo["addr"] == "0x3"
    assert rt.nics[0].hvinfo["addr"] == "0x4"


def test_drive_and_nic_options_at_execution():
    rt = _runtime(_instance(kernel_path="/boot/vmlinuz"))
    argv = cmdline.execute_args(rt, PATHS, "inst1.example.com", [[7]],
                                incoming=("198.51.100.12", 8102))
    assert argv[:len(rt.cmd)] == rt.cmd
    tail = argv[len(rt.cmd):]
    assert tail == [
        "-netdev", "tap,id=nic-1e2d3c4b-pci-13,fd=7",
        "-device", "virtio-net-pci,id=nic-1e2d3c4b-pci-13,bus=pci.0,"
        "addr=0xd,netdev=nic-1e2d3c4b-pci-13,mac=aa:00:00:00:00:00",
        "-incoming", "tcp:198.51.100.12:8102",
        "-qmp", "unix:%s/ctrl/inst1.example.com.qmp,server=on,wait=off" %
        ROOT,
        "-device", "virtio-blk-pci,id=disk-6b1d0e1c-pci-12,bus=pci.0,"
        "addr=0xc,drive=disk-6b1d0e1c-pci-12",
        # sharedfile is shared storage: the host cache is always off
        "-drive", "file=/var/run/ganeti/instance-disks/inst1.example.com:0,"
        "format=raw,if=none,id=disk-6b1d0e1c-pci-12,cache=none"]


def test_disk_cache_aio_discard_and_boot_disk():
    rt = _runtime(_instance(kernel_path="", disk_cache="writeback",
                            disk_aio="native", disk_discard="unmap"),
                  disks=_disks(2, dev_type="file"))
    args = cmdline.drive_args(rt.hvparams, rt.disks)
    drives = _opt(args, "-drive")
    # aio=native needs O_DIRECT: the cache is forced off
    assert drives[0].endswith(",cache=none,aio=native,discard=unmap")
    assert _opt(args, "-boot") == ["c"]
    rt = _runtime(_instance(disk_cache="writethrough"),
                  disks=_disks(1, dev_type="file", mode="ro"))
    drive = _opt(cmdline.drive_args(rt.hvparams, rt.disks), "-drive")[0]
    assert drive.endswith(",cache=writethrough,readonly=on")


def test_ide_and_scsi_disks():
    rt = _runtime(_instance(disk_type="ide"), disks=_disks(2, "file"))
    assert _opt(cmdline.drive_args(rt.hvparams, rt.disks), "-drive") == [
        "file=/var/run/ganeti/instance-disks/inst1.example.com:0,format=raw,"
        "if=ide,index=0",
        "file=/var/run/ganeti/instance-disks/inst1.example.com:1,format=raw,"
        "if=ide,index=1"]
    rt = _runtime(_instance(disk_type="scsi-hd",
                            scsi_controller_type="virtio-scsi-pci"))
    assert _opt(rt.cmd, "-device")[0] == "virtio-scsi-pci,id=scsi"
    args = cmdline.drive_args(rt.hvparams, rt.disks)
    assert _opt(args, "-device") == [
        "scsi-hd,id=disk-scsi-0,bus=scsi.0,channel=0,scsi-id=0,lun=0,"
        "drive=disk-scsi-0"]


def test_nic_models_queues_and_no_nics():
    rt = _runtime(_instance(nics=0))
    assert cmdline.nic_args(rt.hvparams, rt.nics, []) == ["-net", "none"]
    rt = _runtime(_instance(nic_type="e1000"))
    assert cmdline.nic_args(rt.hvparams, rt.nics, [[5]])[3].startswith(
        "e1000,id=nic-1e2d3c4b-pci-13,bus=pci.0,addr=0xd,netdev=")
    rt = _runtime(_instance(nic_type="ne2k_isa"))
    assert cmdline.nic_args(rt.hvparams, rt.nics, [[5]]) == [
        "-netdev", "tap,id=netdev0,fd=5",
        "-device", "ne2k_isa,netdev=netdev0,mac=aa:00:00:00:00:00"]
    rt = _runtime(_instance(vhost_net=True, virtio_net_queues=2))
    args = cmdline.nic_args(rt.hvparams, rt.nics, [[5, 6]])
    assert args[1] == "tap,id=nic-1e2d3c4b-pci-13,fds=5:6,vhost=on"
    assert args[3].endswith(",mq=on,vectors=5")


def test_runas_for_the_user_security_model():
    rt = _runtime(_instance(security_model="user", security_domain="kvmu"))
    argv = cmdline.execute_args(rt, PATHS, "inst1.example.com", [[3]])
    assert _opt(argv, "-runas") == ["kvmu"]


def test_runtime_file_round_trip_and_ganeti_layout():
    rt = _runtime(_instance(), disks=_disks(1))
    text = cmdline.serialize_runtime(rt)
    loaded = cmdline.load_runtime(text)
    assert loaded.cmd == rt.cmd and loaded.hvparams == rt.hvparams
    assert loaded.nics[0].to_dict() == rt.nics[0].to_dict()
    assert loaded.disks[0][0].to_dict() == rt.disks[0][0].to_dict()
    assert loaded.disks[0][1:] == rt.disks[0][1:]
    # a 3-element runtime (older Ganeti, no disks) still loads
    old = cmdline.load_runtime('[["kvm"], [], {}]')
    assert old.disks == []
    with pytest.raises(errors.HypervisorError):
        cmdline.load_runtime("[]")
    assert cmdline.runtime_accel(rt.cmd) == "tcg"


def test_parse_pid_cmdline():
    assert cmdline.parse_pid_cmdline(
        ["kvm", "-name", "inst1", "-m", "256", "-smp", "2,cores=2"]) == \
        ("inst1", 256, 2)
    assert cmdline.parse_pid_cmdline(["sleep", "10"]) is None
