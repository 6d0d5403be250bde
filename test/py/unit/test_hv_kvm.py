"""The KVM driver and its QMP client against real qemu processes.

qemu runs under TCG (or KVM where the probe says it works); instances are
started paused, so no guest kernel is needed here. The full boot of the
test guest, NICs and migration are in test/py/cluster/test_kvm_node.py.
"""

import importlib
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from ganeti import constants
from ganeti import errors
from ganeti import objects
from ganeti import pathutils
from ganeti.hypervisor import base
from ganeti.hypervisor import hv_kvm
from ganeti.hypervisor import qmp as qmp_mod

QEMU = shutil.which("qemu-system-x86_64")
pytestmark = pytest.mark.skipif(QEMU is None,
                                reason="qemu-system-x86_64 not installed")


@pytest.fixture
def root():
    # unix socket paths must stay under 108 bytes: keep the root short
    path = tempfile.mkdtemp(prefix="gkvm", dir="/tmp")
    old = os.environ.get("GANETI_ROOTDIR")
    os.environ["GANETI_ROOTDIR"] = path
    importlib.reload(pathutils)
    try:
        yield path
    finally:
        if old is None:
            del os.environ["GANETI_ROOTDIR"]
        else:
            os.environ["GANETI_ROOTDIR"] = old
        importlib.reload(pathutils)
        shutil.rmtree(path, ignore_errors=True)


def _wait_gone(proc_or_pid, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if isinstance(proc_or_pid, subprocess.Popen):
            if proc_or_pid.poll() is not None:
                return True
        elif not base.process_alive(proc_or_pid):
            return True
        time.sleep(0.05)
    return False


def test_probe_firmware_finishes_under_tcg(tmp_path):
    ok, reason = hv_kvm.run_probe(QEMU, "tcg", str(tmp_path), timeout=20)
    assert ok, reason
    assert os.listdir(str(tmp_path)) == []  # the image is removed


def test_accel_decision_is_cached_and_explained(root):
    hv = hv_kvm.KVMHypervisor()
    status = hv.accel_status()
    assert status["accel"] in ("kvm", "tcg")
    if status["accel"] == "tcg":
        assert status["message"].startswith(
            "KVM acceleration unavailable, using TCG (")
    with open(hv.paths.accel_file) as fh:
        cached = json.load(fh)
    kvm_path = hv.kvm_binary(constants.HVC_DEFAULTS["kvm"])
    assert cached[kvm_path]["reason"] == status["reason"]
    # A second decision comes from the cache file.
    cached[kvm_path] = {"usable": False, "reason": "cached answer"}
    with open(hv.paths.accel_file, "w") as fh:
        json.dump(cached, fh)
    assert hv_kvm.KVMHypervisor().accel_status()["reason"] == \
        "cached answer"
    disabled = dict(constants.HVC_DEFAULTS["kvm"], kvm_flag="disabled")
    assert hv.accel_status(disabled)["accel"] == "tcg"
    info = hv.get_node_info()
    assert info["accel"] == "tcg" and info["memory_total"] > 0


def test_kvm_path_fallback():
    found = hv_kvm.resolve_kvm_path("/usr/bin/kvm")
    assert found is not None and os.access(found, os.X_OK)
    assert hv_kvm.resolve_kvm_path("/nonexistent/kvm") is None


def test_qmp_client_against_real_qemu(tmp_path):
    sock = str(tmp_path / "qmp")
    proc = subprocess.Popen([QEMU, "-machine", "none,accel=tcg",
                             "-nodefaults", "-display", "none",
                             "-qmp", "unix:%s,server=on,wait=off" % sock],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while not os.path.exists(sock) and time.time() < deadline:
            time.sleep(0.02)
        with qmp_mod.QmpConnection(sock) as qmp:
            assert qmp.version[0] >= 2
            assert qmp.execute("query-status")["status"] == "running"
            qmp.execute("stop")
            assert qmp.execute("query-status")["status"] == "paused"
            assert qmp.wait_for_event("STOP", 5) is not None
            qmp.execute("cont")
            with pytest.raises(qmp_mod.QmpError,
                               match="CommandNotFound"):
                qmp.execute("no-such-command")
            # the session survives an error
            assert qmp.execute("query-status")["status"] == "running"
        assert qmp_mod.qmp_command(sock, "quit") == {}
        assert _wait_gone(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    with pytest.raises(errors.HypervisorError, match="Can't connect"):
        qmp_mod.QmpConnection(sock, timeout=1).connect()


def _instance(**hvparams):
    hvp = dict(constants.HVC_DEFAULTS[constants.HT_KVM])
    hvp.update(kernel_path="", serial_console=True)
    hvp.update(hvparams)
    inst = objects.Instance(name="i1", hypervisor="kvm",
                            uuid="0c7e4a6c-3d1b-4d6a-9c0e-1f2a3b4c5d6e",
                            hvparams=hvp, nics=[],
                            beparams={"maxmem": 64, "minmem": 64,
                                      "vcpus": 1})
    inst.upgrade_config()
    return inst


def _disk(root):
    path = os.path.join(root, "disk0")
    with open(path, "wb") as fh:
        fh.truncate(8 << 20)
    disk = objects.Disk(dev_type="file", logical_id=["loop", path], size=8,
                        uuid="6b1d0e1c-7a43-4c55-a1e2-9d0f3c2b1a00",
                        mode="rw")
    return [(disk, path, None)]


def test_paused_instance_lifecycle(root):
    hv = hv_kvm.KVMHypervisor()
    inst = _instance()
    hv.start_instance(inst, _disk(root), True)
    _, pid, alive = hv._pid_info("i1")
    try:
        assert alive
        assert hv.list_instances() == ["i1"]
        assert hv.get_instance_info("i1") == \
            ("i1", pid, 64, 1, base.HvInstanceState.RUNNING, 0)
        assert [i[0] for i in hv.get_all_instances_info()] == ["i1"]
        with qmp_mod.QmpConnection(hv.paths.qmp("i1")) as qmp:
            # -S: qemu waits before running the first instruction
            assert qmp.execute("query-status")["status"] == "prelaunch"
            blocks = qmp.execute("query-block")
        assert any(b.get("inserted", {}).get("file", "").endswith("disk0")
                   for b in blocks)
        assert os.path.exists(hv.paths.serial("i1"))
        runtime = hv.migration_info(inst)
        assert json.loads(runtime)[0][:3] == [hv.kvm_binary(inst.hvparams),
                                              "-name", "i1"]
        with pytest.raises(errors.HypervisorError,
                           match="Failed to start instance i1: already"
                           " running"):
            hv.start_instance(inst, _disk(root), True)
        with pytest.raises(errors.HypervisorError,
                           match="Cannot cleanup a live instance"):
            hv.cleanup_instance("i1")
        hv.stop_instance(inst, force=True)
        assert not base.process_alive(pid)
        assert hv.get_instance_info("i1") is None
        hv.cleanup_instance("i1")
        assert os.listdir(hv.paths.ctrl_dir) == []
        assert os.listdir(hv.paths.conf_dir) == []
        assert os.listdir(hv.paths.pid_dir) == []
    finally:
        if base.process_alive(pid):
            os.kill(pid, 9)


def test_failed_start_leaves_nothing_behind(root):
    hv = hv_kvm.KVMHypervisor()
    inst = _instance(kvm_extra="-no-such-qemu-option")
    with pytest.raises(errors.HypervisorError) as err:
        hv.start_instance(inst, _disk(root), True)
    assert str(err.value).startswith("Failed to start instance i1: exited"
                                     " with exit code 1 (")
    assert "no-such-qemu-option" in str(err.value)
    assert hv.list_instances() == []
    assert os.listdir(hv.paths.conf_dir) == []


def test_parameter_checks_of_the_kvm_driver():
    params = dict(constants.HVC_DEFAULTS["kvm"])
    hv_kvm.KVMHypervisor.check_parameter_syntax(params)
    bad = dict(params, boot_order="usb")
    with pytest.raises(errors.HypervisorError) as err:
        hv_kvm.KVMHypervisor.check_parameter_syntax(bad)
    assert str(err.value) == (
        "Parameter 'boot_order' fails syntax check: The value must be one"
        " of: disk, cdrom, floppy, network (current value: 'usb')")
    with pytest.raises(errors.HypervisorError,
                       match="A security domain"):
        hv_kvm.KVMHypervisor.check_parameter_syntax(
            dict(params, security_model="user"))
    with pytest.raises(errors.HypervisorError,
                       match="Parameter 'kernel_path' fails validation:"
                       " not found or not a file"):
        hv_kvm.KVMHypervisor.validate_parameters(
            dict(params, kernel_path="/nonexistent/vmlinuz"))
    hv_kvm.KVMHypervisor.validate_parameters(dict(params, kernel_path=""))


def test_console_descriptions():
    node = objects.Node(name="node1.example.com", primary_ip="198.51.100.11",
                        ndparams={"ssh_port": 2222})
    inst = _instance()
    cons = hv_kvm.KVMHypervisor.get_instance_console(
        inst, node, None, inst.hvparams, inst.beparams)
    assert cons["kind"] == "ssh" and cons["host"] == "node1.example.com"
    assert cons["port"] == 2222 and cons["user"] == "root"
    assert cons["command"][0] == "/usr/bin/socat"
    assert cons["command"][1] == "STDIO,raw,echo=0,escape=0x1d"
    assert cons["command"][2].endswith("/kvm-hypervisor/ctrl/i1.serial")
    hvp = dict(inst.hvparams, serial_console=False,
               vnc_bind_address="0.0.0.0")
    inst.network_port = 5905
    cons = hv_kvm.KVMHypervisor.get_instance_console(inst, node, None, hvp,
                                                     inst.beparams)
    assert cons == {"instance": "i1", "kind": "vnc",
                    "host": "198.51.100.11", "port": 5905, "display": 5}
    hvp["vnc_bind_address"] = ""
    cons = hv_kvm.KVMHypervisor.get_instance_console(inst, node, None, hvp,
                                                     inst.beparams)
    assert cons == {"instance": "i1", "kind": "msg",
                    "message": "No serial shell for instance i1"}
