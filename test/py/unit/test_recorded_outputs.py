"""Parsers pinned against outputs recorded by upstream Ganeti's test suite.

The files come from Debian's ``ganeti-testsuite`` package (upstream's
test/data), fetched at test time with ``apt-get download`` into a
temporary directory and never copied into this tree. Without apt or the
package the tests are skipped, saying why.

Covered: /proc/drbd of DRBD 8.0/8.3/8.4 (with resyncs), ``drbdsetup
show`` of 8.0/8.3/8.4, the "lv" collector's ``lvs`` output, a KVM runtime
file written by Ganeti, ``qemu -machine help``, /proc/meminfo and
/proc/cpuinfo. Plus the DRBD and LVM command lines Ganeti runs.
"""

import glob
import os
import shutil
import subprocess

import pytest

from ganeti import constants
from ganeti import errors
from ganeti.hypervisor import base as hv_base
from ganeti.hypervisor import hv_kvm
from ganeti.hypervisor import kvm_cmdline
from ganeti.storage import drbd
from ganeti.storage import lvm

PACKAGE = "ganeti-testsuite"
DATA_SUBDIR = "usr/share/ganeti/testsuite/test/data"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        pytest.skip("apt-get/dpkg-deb not available to fetch %s" % PACKAGE)
    tmp = str(tmp_path_factory.mktemp("ganeti-testsuite"))
    os.chmod(tmp, 0o755)  # apt-get download drops privileges to _apt
    proc = subprocess.run(["apt-get", "download", "-q", PACKAGE], cwd=tmp,
                          capture_output=True, text=True, timeout=300)
    debs = glob.glob(os.path.join(tmp, PACKAGE + "_*.deb"))
    if proc.returncode != 0 or not debs:
        pytest.skip("cannot download %s: %s" %
                    (PACKAGE, (proc.stderr or proc.stdout).strip()[-300:]))
    subprocess.run(["dpkg-deb", "-x", debs[0], os.path.join(tmp, "x")],
                   check=True, capture_output=True)
    path = os.path.join(tmp, "x", DATA_SUBDIR)
    if not os.path.isdir(path):
        pytest.skip("%s has no %s" % (debs[0], DATA_SUBDIR))
    return path


def _read(data, name):
    with open(os.path.join(data, name)) as fh:
        return fh.read()


# --- /proc/drbd ---

def test_proc_drbd_84(data):
    text = _read(data, "proc_drbd84.txt")
    assert drbd.parse_version(text) == {
        "k_major": 8, "k_minor": 4, "k_point": 2, "api": 1, "proto": 86,
        "proto2": 101}
    status = drbd.parse_proc_drbd(text)
    assert sorted(status) == [0, 1, 2, 4, 6, 8]
    assert drbd.used_minors(text) == [0, 1, 4, 6, 8]
    s0 = status[0]
    assert (s0["cstatus"], s0["lrole"], s0["rrole"], s0["ldisk"],
            s0["rdisk"]) == ("Connected", "Primary", "Secondary", "UpToDate",
                             "UpToDate")
    assert s0["is_connected"] and s0["is_primary"] and \
        s0["is_disk_uptodate"] and not s0["is_in_resync"]
    assert status[1]["is_secondary"] and status[1]["peer_primary"]
    assert status[2]["is_unconfigured"]
    assert status[4]["is_wfconn"] and status[4]["rdisk"] == "DUnknown"
    assert status[6]["is_diskless"]
    assert status[8]["is_standalone"]
    dev = drbd.sync_status(6, status[6])
    assert dev["dev_path"] == "/dev/drbd6" and dev["is_degraded"]
    assert dev["ldisk_status"] == 3  # LDS_FAULTY
    assert drbd.sync_status(0, s0)["is_degraded"] is False


def test_proc_drbd_resync_progress(data):
    s84 = drbd.parse_proc_drbd(_read(data, "proc_drbd84_sync.txt"))
    assert s84[5]["cstatus"] == "SyncSource" and s84[5]["is_in_resync"]
    assert (s84[5]["sync_percent"], s84[5]["est_time"]) == (68.5, 5)
    assert s84[3]["is_unconfigured"] and s84[0]["is_standalone"]
    s83 = drbd.parse_proc_drbd(_read(data, "proc_drbd83_sync.txt"))
    assert s83[3]["cstatus"] == "SyncTarget"
    assert (s83[3]["sync_percent"], s83[3]["est_time"]) == (34.9, 5)
    assert drbd.sync_status(3, s83[3])["ldisk_status"] == 4  # LDS_SYNC
    # kernel 2.6.39 printed "...)Mfinish:" without a space
    glued = drbd.parse_proc_drbd(_read(data,
                                       "proc_drbd83_sync_krnl2.6.39.txt"))
    assert (glued[3]["sync_percent"], glued[3]["est_time"]) == (2.4, 248)
    want = drbd.parse_proc_drbd(_read(data, "proc_drbd83_sync_want.txt"))
    assert (want[0]["sync_percent"], want[0]["est_time"]) == (44.4, 8)


def test_proc_drbd_80_and_odd_layouts(data):
    text = _read(data, "proc_drbd8.txt")
    assert drbd.parse_version(text)["k_minor"] == 0
    status = drbd.parse_proc_drbd(text)
    assert sorted(status) == [0, 1, 2, 4, 5, 6, 7, 8]
    assert status[0]["lrole"] == "Primary"  # "st:" instead of "ro:"
    assert status[5]["rdisk"] == "Diskless"
    assert drbd.parse_version(_read(data, "proc_drbd80-emptyversion.txt")) \
        is None
    assert drbd.used_minors(_read(data, "proc_drbd80-emptyversion.txt")) == [0]
    first = drbd.parse_proc_drbd(_read(data, "proc_drbd84_emptyfirst.txt"))
    assert sorted(first) == [1, 2, 4, 6, 8]
    with pytest.raises(errors.BlockDeviceError):
        drbd.parse_status(" 0: cs:Garbage")


# --- drbdsetup show ---

def test_drbdsetup_show_84(data):
    show = drbd.parse_show(_read(data, "bdev-drbd-8.4.txt"))
    assert show["local_dev"] == "/dev/xenvg/test.data"
    assert show["meta_dev"] == "/dev/xenvg/test.meta"
    assert show["meta_index"] == 0
    assert show["minor"] == 0
    assert show["local_addr"] == ("ipv4", "192.0.2.1", 11000)
    assert show["remote_addr"] == ("ipv4", "192.0.2.2", 11000)
    assert show["net"]["shared-secret"] == "shared_secret_123"
    assert show["net"]["cram-hmac-alg"] == "md5"
    bare = drbd.parse_show(_read(data, "bdev-drbd-8.4-no-disk-params.txt"))
    assert bare["meta_dev"] == "/dev/xenvg/test.meta"
    assert "meta_index" not in bare


def test_drbdsetup_show_80_83(data):
    show = drbd.parse_show(_read(data, "bdev-drbd-8.3.txt"))
    assert (show["local_dev"], show["meta_dev"], show["meta_index"],
            show["protocol"]) == ("/dev/xenvg/test.data",
                                  "/dev/xenvg/test.meta", 0, "C")
    assert show["local_addr"] == ("ipv4", "192.0.2.1", 11000)
    show = drbd.parse_show(_read(data, "bdev-drbd-8.0.txt"))
    assert show["minor"] == 63 and show["protocol"] == "A"
    assert show["remote_addr"] == ("ipv4", "192.0.2.2", 11000)
    disk = drbd.parse_show(_read(data, "bdev-drbd-disk.txt"))
    assert disk["local_dev"] == "/dev/xenvg/test.data"
    assert "local_addr" not in disk and "remote_addr" not in disk
    net = drbd.parse_show(_read(data, "bdev-drbd-net-ip4.txt"))
    assert "local_dev" not in net
    assert net["local_addr"] == ("ipv4", "192.0.2.1", 11002)
    net6 = drbd.parse_show(_read(data, "bdev-drbd-net-ip6.txt"))
    assert net6["local_addr"] == ("ipv6", "2001:db8:65::1", 11048)
    assert net6["remote_addr"] == ("ipv6", "2001:db8:66::1", 11048)
    with pytest.raises(errors.BlockDeviceError, match="Unbalanced"):
        drbd.parse_show("disk {\n")


# --- LVM ---

def test_lvs_collector_output(data):
    rows = lvm.parse_collector_lvs(_read(data, "lvs_lv.txt"))
    assert [r["lv_name"] for r in rows] == [
        "df9ff3f6-a833-48ff-8bd5-bff2eaeab759.disk0_data",
        "df9ff3f6-a833-48ff-8bd5-bff2eaeab759.disk0_meta"]
    assert [r["lv_size"] for r in rows] == [1073741824, 134217728]
    assert rows[0]["vg_name"] == "xenvg" and rows[0]["segtype"] == "linear"
    assert rows[0]["lv_tags"] == "originstname+instance1.example.com"
    assert (rows[1]["lv_kernel_major"], rows[1]["lv_kernel_minor"]) == \
        (253, 1)
    assert rows[1]["devices"] == ["/dev/sda5"]
    assert lvm.lv_attr_flags(rows[0]["lv_attr"])["active"]
    assert lvm.lv_attr_flags(rows[0]["lv_attr"])["open"]


# --- KVM and host facts ---

def test_kvm_runtime_written_by_ganeti_loads_and_runs(data):
    runtime = kvm_cmdline.load_runtime(_read(data, "kvm_runtime.json"))
    assert runtime.cmd[:3] == ["/usr/bin/kvm", "-name", "xen-test-inst2"]
    assert runtime.nics[0].mac == "aa:00:00:bf:2f:16"
    assert runtime.nics[0].hvinfo["driver"] == "virtio-net-pci"
    hvp = dict(constants.HVC_DEFAULTS["kvm"])
    hvp.update(runtime.hvparams)
    argv = kvm_cmdline.execute_args(runtime._replace(hvparams=hvp),
                                    kvm_cmdline.KvmPaths("/r"),
                                    "xen-test-inst2", [[9]])
    assert argv[:6] == ["/usr/bin/kvm", "-name", "xen-test-inst2", "-m",
                        "1024", "-smp"]  # Ganeti stored -m as a number
    assert "tap,id=%s,fd=9" % runtime.nics[0].hvinfo["id"] in argv


def test_default_machine_from_qemu_machine_help(data):
    assert hv_kvm.parse_default_machine(
        _read(data, "kvm_6.0.0_machine.txt")) == "pc-i440fx-impish"
    assert hv_kvm.parse_default_machine("Supported machines are:\n") is None


def test_linux_node_info_from_recorded_proc_files(data):
    info = hv_base.linux_node_info(os.path.join(data, "proc_meminfo.txt"),
                                   os.path.join(data, "proc_cpuinfo.txt"))
    assert info["memory_total"] == 7870584 // 1024
    assert info["memory_free"] == (1549012 // 1024 + 227328 // 1024 +
                                   4647780 // 1024)
    assert info["memory_dom0"] == info["memory_total"] - info["memory_free"]
    assert (info["cpu_total"], info["cpu_sockets"]) == (4, 1)


# --- command lines (no recorded data needed) ---

def test_drbd84_command_lines():
    params = dict(constants.DISK_DT_DEFAULTS["drbd"], **{
        "disk-barriers": "bf", "meta-barriers": True,
        "disk-custom": "--al-extents 3389"})
    assert drbd.local_init_cmds(3, "/dev/xenvg/d", "/dev/xenvg/m", 1024,
                                params) == [
        ["drbdsetup", "new-resource", "resource3"],
        ["drbdsetup", "new-minor", "resource3", "3", "0"],
        ["drbdmeta", "/dev/drbd3", "v08", "/dev/xenvg/m", "flex-external",
         "apply-al"],
        ["drbdsetup", "attach", "3", "/dev/xenvg/d", "/dev/xenvg/m",
         "flexible", "--on-io-error=detach", "--size", "1024m",
         "--md-flushes=no", "--disk-flushes=no", "--disk-barrier=no",
         "--al-extents", "3389"]]
    assert drbd.init_meta_cmd(3, "/dev/xenvg/m") == [
        "drbdmeta", "--force", "/dev/drbd3", "v08", "/dev/xenvg/m",
        "flex-external", "create-md"]
    assert drbd.net_init_cmd(3, "ipv4", "198.51.100.11", 11000,
                             "198.51.100.12", 11000, "C", True, "md5",
                             "s3cret", params) == [
        "drbdsetup", "connect", "resource3", "ipv4:198.51.100.11:11000",
        "ipv4:198.51.100.12:11000", "--protocol", "C",
        "--after-sb-0pri", "discard-zero-changes", "--after-sb-1pri",
        "consensus", "--allow-two-primaries", "--cram-hmac-alg", "md5",
        "--shared-secret", "s3cret"]
    assert drbd.net_init_cmd(1, "ipv6", "2001:db8::1", 11001, "2001:db8::2",
                             11001, "C", False, None, None, params)[3:5] == \
        ["ipv6:[2001:db8::1]:11001", "ipv6:[2001:db8::2]:11001"]
    assert drbd.sync_params_cmd(3, params) == [
        "drbdsetup", "disk-options", "3", "--resync-rate", "61440"]
    dyn = dict(params, **{"dynamic-resync": True})
    assert drbd.sync_params_cmd(3, dyn)[3:] == [
        "--c-plan-ahead", "20", "--c-fill-target", "0", "--c-delay-target",
        "1", "--c-max-rate", "61440", "--c-min-rate", "4096"]
    with pytest.raises(errors.BlockDeviceError, match="c-plan-ahead"):
        drbd.sync_params_cmd(3, dict(dyn, **{"c-plan-ahead": 0}))
    assert drbd.primary_cmd(3, force=True) == ["drbdsetup", "primary", "3",
                                               "--force"]
    assert drbd.down_cmd(3) == ["drbdsetup", "down", "resource3"]
    assert drbd.resize_cmd(3, 2048) == ["drbdsetup", "resize", "3", "--size",
                                        "2048m"]
    assert drbd.disconnect_cmd("ipv4", "a", 1, "b", 2) == [
        "drbdsetup", "disconnect", "ipv4:a:1", "ipv4:b:2"]
    with pytest.raises(errors.BlockDeviceError,
                       match="is not a valid option set"):
        drbd.barrier_args("nb", False)
    assert drbd.barrier_args("n", False) == []


def test_lvm_command_lines():
    assert lvm.lvcreate_cmds("xenvg", "u.disk0", 1024, 2,
                             ["/dev/sda5", "/dev/sdb1"]) == [
        ["lvcreate", "-L1024m", "-nu.disk0", "-i2", "xenvg", "/dev/sda5",
         "/dev/sdb1"],
        ["lvcreate", "-L1024m", "-nu.disk0", "-i1", "xenvg", "/dev/sda5",
         "/dev/sdb1"]]
    with pytest.raises(errors.BlockDeviceError, match="Invalid LVM name"):
        lvm.lvcreate_cmds("xenvg", "snapshot", 1, 1, [])
    with pytest.raises(errors.BlockDeviceError, match="invalid character"):
        lvm.lvcreate_cmds("xenvg", "lv", 1, 1, ["/dev/a:b"])
    assert lvm.lvremove_cmd("xenvg", "lv") == ["lvremove", "-f", "xenvg/lv"]
    assert lvm.lvrename_cmd("xenvg", "a", "b") == ["lvrename", "xenvg", "a",
                                                   "b"]
    assert lvm.volume_info_cmd("vgs", ["vg_name", "vg_free"]) == [
        "vgs", "--noheadings", "--nosuffix", "--units=m", "--unbuffered",
        "--separator=|", "-ovg_name,vg_free"]
    # 100 MiB on 2 stripes of 4 MiB extents: rounded to 8 MiB multiples
    assert lvm.grow_cmds("/dev/xenvg/lv", 100, 4096, 2, True)[0] == [
        "lvextend", "-L", "+106496k", "--test", "--alloc", "contiguous",
        "/dev/xenvg/lv"]
    assert [c[-2] for c in lvm.grow_cmds("/dev/v/l", 4, 4096, 1, False)] == \
        ["contiguous", "cling", "normal"]
    assert lvm.addtag_cmd("/dev/v/l", "originstname+inst1.example.com") == [
        "lvchange", "--addtag", "originstname+inst1.example.com", "/dev/v/l"]
    assert lvm.sanitize_tag("-a b/c") == "_a_b_c"
    assert lvm.parse_lv_info(
        "  -wi-ao|253|1|4096.00|1|/dev/sda5(0)\n"
        "  -wi-ao|253|1|4096.00|1|/dev/sdb1(0)\n") == \
        ("-wi-ao", 253, 1, 4096, 1, ["/dev/sda5", "/dev/sdb1"])
    with pytest.raises(errors.BlockDeviceError, match="Can't parse"):
        lvm.parse_lv_info_line("-wi-ao|253")
