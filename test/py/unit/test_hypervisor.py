"""Hypervisor registry, parameter tables, the fake and chroot drivers, and
the node-side instance procedures (ganeti.backend.instance) on them.

Paths are relocated with GANETI_ROOTDIR; the chroot test mounts a real
ext4 image and runs a real init script in it.
"""

import importlib
import os
import shutil
import stat
import subprocess
import tempfile

import pytest

from ganeti import constants
from ganeti import errors
from ganeti import hypervisor
from ganeti import objects
from ganeti import pathutils
from ganeti.backend import RPCFail
from ganeti.backend import blockdev as bd
from ganeti.backend import instance as bi
from ganeti.hypervisor import base


@pytest.fixture
def root():
    path = tempfile.mkdtemp(prefix="ghv", dir="/tmp")
    old = os.environ.get("GANETI_ROOTDIR")
    os.environ["GANETI_ROOTDIR"] = path
    importlib.reload(pathutils)
    try:
        os.makedirs(pathutils.CONF_DIR)
        storage = path + "/srv/ganeti/file-storage"
        os.makedirs(storage)
        with open(pathutils.FILE_STORAGE_PATHS_FILE, "w") as fh:
            fh.write("# allowed\n%s\n" % storage)
        yield path
    finally:
        if old is None:
            del os.environ["GANETI_ROOTDIR"]
        else:
            os.environ["GANETI_ROOTDIR"] = old
        importlib.reload(pathutils)
        shutil.rmtree(path, ignore_errors=True)


def _switch_root(path):
    os.environ["GANETI_ROOTDIR"] = path
    importlib.reload(pathutils)


# --- registry and parameter tables ---

@pytest.mark.parametrize("name", hypervisor.available())
def test_parameters_cover_exactly_the_defaults(name):
    cls = hypervisor.get_hypervisor_class(name)
    assert cls.NAME == name
    assert set(cls.PARAMETERS) == set(constants.HVC_DEFAULTS[name])
    # the defaults themselves pass the master-side checks
    cls.check_parameter_syntax(dict(constants.HVC_DEFAULTS[name]))


def test_unknown_and_unsupported_hypervisors():
    with pytest.raises(errors.HypervisorError,
                       match="Unknown hypervisor type 'vbox'"):
        hypervisor.get_hypervisor("vbox")
    with pytest.raises(errors.HypervisorError,
                       match="Hypervisor 'xen-pvm' is not supported"):
        hypervisor.get_hypervisor("xen-pvm")


def test_syntax_check_messages():
    cls = hypervisor.get_hypervisor_class("fake")
    with pytest.raises(errors.HypervisorError) as err:
        cls.check_parameter_syntax({"migration_mode": "live", "foo": 1})
    assert str(err.value) == "Parameter 'foo' is not supported"
    with pytest.raises(errors.HypervisorError) as err:
        cls.check_parameter_syntax({})
    assert str(err.value) == "Parameter 'migration_mode' is missing"
    with pytest.raises(errors.HypervisorError) as err:
        cls.check_parameter_syntax({"migration_mode": ""})
    assert str(err.value) == ("Parameter 'migration_mode' is required but"
                              " is currently not defined")
    with pytest.raises(errors.HypervisorError) as err:
        cls.check_parameter_syntax({"migration_mode": "fast"})
    assert str(err.value) == ("Parameter 'migration_mode' fails syntax"
                              " check: invalid migration mode (current"
                              " value: 'fast')")


def test_cpu_masks_and_param_types():
    assert base.parse_cpu_mask("0-2,4") == [0, 1, 2, 4]
    assert base.parse_cpu_mask("all") == [-1]
    assert base.parse_multi_cpu_mask("0:all:1-2") == [[0], [-1], [1, 2]]
    with pytest.raises(errors.ParseError):
        base.parse_cpu_mask("2-1")
    kvm = hypervisor.get_hypervisor_class("kvm")
    with pytest.raises(errors.HypervisorError, match="Multiple CPU mask"):
        kvm.check_parameter_syntax(dict(constants.HVC_DEFAULTS["kvm"],
                                        cpu_mask="0:x"))
    types = base.param_types("kvm")
    assert types["acpi"] == "bool" and types["migration_port"] == "int"
    assert types["kernel_path"] == "string"


def test_linux_node_info():
    info = base.linux_node_info()
    for key in ("memory_total", "memory_free", "memory_dom0", "cpu_total",
                "cpu_dom0", "cpu_nodes", "cpu_sockets"):
        assert isinstance(info[key], int) and info[key] >= 0, key
    assert info["memory_total"] >= info["memory_free"] > 0
    assert info["cpu_total"] == os.cpu_count()


# --- the fake hypervisor through the backend procedures ---

def _disk_dict(root, idx=0, dev_type="file"):
    return {"dev_type": dev_type, "size": 4, "mode": "rw",
            "uuid": "6b1d0e1c-7a43-4c55-a1e2-9d0f3c2b1a0%d" % idx,
            "iv_name": "disk/%d" % idx,
            "logical_id": ["loop", root + "/srv/ganeti/file-storage/inst1/"
                           "disk%d" % idx]}


def _inst_dict(root, hv="fake", disks=1):
    return {"name": "inst1", "hypervisor": hv, "os": "debootstrap",
            "uuid": "0c7e4a6c-3d1b-4d6a-9c0e-1f2a3b4c5d6e",
            "hvparams": {}, "beparams": {"memory": 256, "vcpus": 2},
            "nics": [{"mac": "aa:00:00:00:00:01"}],
            "disks": [d["uuid"] for d in
                      (_disk_dict(root, i) for i in range(disks))],
            "disks_info": [_disk_dict(root, i) for i in range(disks)]}


def test_instance_from_wire_fills_parameters(root):
    inst, disks = bi.instance_from_wire(_inst_dict(root, hv="kvm"))
    assert inst.hvparams == constants.HVC_DEFAULTS["kvm"]
    assert inst.beparams["maxmem"] == inst.beparams["minmem"] == 256
    assert inst.beparams["vcpus"] == 2
    assert inst.nics[0].nicparams == {"mode": "bridged", "link": "xen-br0",
                                      "vlan": ""}
    assert [d.iv_name for d in disks] == ["disk/0"]
    with pytest.raises(RPCFail, match="Invalid instance description"):
        bi.instance_from_wire({"hypervisor": "fake"})


def test_fake_instance_lifecycle_through_the_backend(root):
    idict = _inst_dict(root)
    disk = idict["disks_info"][0]
    assert bd.blockdev_create(disk, 4, "inst1", True, "", False) == \
        disk["logical_id"]
    bi.instance_start(idict, False, [["gnt:opcode", "start", 1]])
    link = bd.link_path("inst1", 0)
    assert os.readlink(link) == disk["logical_id"][1]
    with open(os.path.join(bi.reason_dir(), "inst1")) as fh:
        assert "gnt:opcode" in fh.read()
    # a second start is a no-op, as in Ganeti
    bi.instance_start(idict, False, None)
    assert bi.instance_list(["fake", "kvm"], {}) == ["inst1"]
    assert bi.all_instances_info(["fake"], {}) == {
        "inst1": {"memory": 256, "vcpus": 2, "state": 0, "time": 0}}
    assert bi.instance_info("inst1", "fake", {}) == {
        "memory": 256, "vcpus": 2, "state": 0, "time": 0}
    bi.instance_reboot(idict, bi.REBOOT_SOFT, 10, None)
    bi.instance_reboot(idict, bi.REBOOT_HARD, 10, None)
    with pytest.raises(RPCFail, match="Invalid reboot_type received:"
                       " 'cold'"):
        bi.instance_reboot(idict, "cold", 10, None)
    bi.instance_migratable(idict)
    bi.instance_shutdown(idict, 10, None)
    assert bi.instance_info("inst1", "fake", {}) == {}
    assert not os.path.lexists(link)
    with pytest.raises(RPCFail, match="Cannot reboot instance inst1 that is"
                       " not running"):
        bi.instance_reboot(idict, bi.REBOOT_SOFT, 10, None)
    with pytest.raises(RPCFail, match="Instance inst1 is not running"):
        bi.instance_migratable(idict)
    # shutting down a stopped instance is fine
    bi.instance_shutdown(idict, 10, None)


def test_start_without_its_disk_fails_cleanly(root):
    idict = _inst_dict(root)
    with pytest.raises(RPCFail) as err:
        bi.instance_start(idict, False, None)
    assert str(err.value).startswith("Block device error: Block device")
    assert str(err.value).endswith("is not set up.")
    assert bi.instance_list(["fake"], {}) == []


def test_fake_migration_between_two_node_roots(root):
    idict = _inst_dict(root, disks=0)
    target = tempfile.mkdtemp(prefix="ghv", dir="/tmp")
    try:
        bi.instance_start(idict, False, None)
        info = bi.migration_info(idict)
        _switch_root(target)
        bi.accept_instance(idict, info, "198.51.100.12")
        bi.instance_finalize_migration_dst(idict, info, True)
        assert bi.instance_list(["fake"], {}) == ["inst1"]
        _switch_root(root)
        bi.instance_migrate("cluster", idict, "198.51.100.12", True)
        assert bi.instance_get_migration_status(idict)["status"] == \
            "completed"
        bi.instance_finalize_migration_src(idict, True, True)
        assert bi.instance_list(["fake"], {}) == []
        _switch_root(target)
        assert bi.instance_list(["fake"], {}) == ["inst1"]
        # a failed migration is undone on the target
        bi.instance_finalize_migration_dst(idict, info, False)
        assert bi.instance_list(["fake"], {}) == []
    finally:
        _switch_root(root)
        shutil.rmtree(target, ignore_errors=True)


def test_validate_params_procedure(root):
    bi.hypervisor_validate_params("fake", {"migration_mode": "live"})
    with pytest.raises(RPCFail, match="Parameter 'kernel_path' fails"
                       " validation"):
        bi.hypervisor_validate_params(
            "kvm", dict(constants.HVC_DEFAULTS["kvm"],
                        kernel_path="/nonexistent"))
    with pytest.raises(RPCFail, match="Unknown hypervisor type"):
        bi.all_instances_info(["nope"], {})


def test_fake_console():
    inst = objects.Instance(name="inst1")
    cons = hypervisor.get_hypervisor_class("fake").get_instance_console(
        inst, objects.Node(name="n1"), None, {}, {})
    assert cons == {"instance": "inst1", "kind": "msg",
                    "message": "Console not available for fake hypervisor"}


# --- chroot ---

def _chroot_image(root):
    """An ext4 image holding busybox and an init script that starts a
    sleeping process and stops it."""
    tree = os.path.join(root, "tree")
    os.makedirs(tree + "/bin")
    os.makedirs(tree + "/dev")
    os.mknod(tree + "/dev/null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    shutil.copy("/bin/busybox", tree + "/bin/busybox")
    with open(tree + "/ganeti-chroot", "w") as fh:
        fh.write("#!/bin/busybox sh\n"
                 "case \"$1\" in\n"
                 "start) /bin/busybox setsid /bin/busybox sleep 1000"
                 " </dev/null >/dev/null 2>&1 &\n"
                 "  echo $! > /sleep.pid ;;\n"
                 "stop) /bin/busybox kill $(/bin/busybox cat /sleep.pid) ;;\n"
                 "esac\n")
    os.chmod(tree + "/ganeti-chroot", 0o755)
    image = root + "/srv/ganeti/file-storage/inst1/disk0"
    os.makedirs(os.path.dirname(image))
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", tree, image, "16M"],
                   check=True, capture_output=True)
    return image


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mkfs.ext4") or
                    not os.path.exists("/bin/busybox"),
                    reason="needs root, mkfs.ext4 and busybox")
def test_chroot_instance_runs_its_init_script(root):
    image = _chroot_image(root)
    idict = _inst_dict(root, hv="chroot")
    idict["disks_info"][0]["logical_id"][1] = image
    hv = hypervisor.get_hypervisor("chroot")
    mountpoint = os.path.join(hv.root, "inst1")
    try:
        bi.instance_start(idict, False, None)
        assert bi.instance_list(["chroot"], {}) == ["inst1"]
        pids = hv._processes_in(mountpoint)
        assert len(pids) == 1
        with open("/proc/%d/cmdline" % pids[0]) as fh:
            assert "sleep" in fh.read()
        bi.instance_shutdown(idict, 20, None)
        assert bi.instance_list(["chroot"], {}) == []
        assert hv._processes_in(mountpoint) == []
        assert not os.path.exists(mountpoint)
    finally:
        subprocess.run(["umount", "-l", mountpoint], capture_output=True)
