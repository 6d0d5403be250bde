"""Real KVM (TCG) guests driven through noded's instance and blockdev RPCs.

A 2-node virtual cluster of its own (prefix "gkv"): node1 calls the
procedures with RpcRunner exactly as masterd will. The guest is the test
image of tools/build-test-guest (Debian kernel + busybox initramfs); its
serial console is read through the unix socket qemu serves in the node's
/var/run/ganeti (reachable from here through the node's directory tree).

Pinned: a sharedfile disk is created and seen by the guest, the guest
boots to its marker, answers pings from both nodes on br0, powers off on
ACPI (instance_shutdown) with its qemu gone and nothing left behind, and a
running guest live-migrates node1 -> node2 -> node1 keeping its memory
(a token written before is read back after) while qemu moves.
"""

import json
import os
import re
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import VirtualCluster, _missing_prerequisites  # noqa
from guest_helpers import (KVM_DIR, MARKER, SerialConsole,  # noqa
                           guest_paths, node_path, serial_path)

PREFIX = "gkv"
DOMAIN = "gnt.test"
INST = "inst1." + DOMAIN
GUEST_IP = "198.51.100.61"
DISK_PATH = "/srv/ganeti/shared-file-storage/%s/disk0" % INST
BOOT_TIMEOUT = 60
TIMINGS = {}

# Run inside node1: call procedures with RpcRunner and print the results.
RPC_CODE = r"""
import json, sys, time
from ganeti.rpc import client
runner = client.RpcRunner(client.ssconf_resolver())
calls = json.loads(sys.argv[1])
out = []
for proc, node, args in calls:
    res = runner.call_single(proc, node, args)
    out.append([res.fail_msg, res.payload])
    if res.fail_msg:
        break
print(json.dumps(out))
"""

# Run inside node1: one live migration, as the migrate LU sequences it.
MIGRATE_CODE = r"""
import json, sys, time
from ganeti.rpc import client
runner = client.RpcRunner(client.ssconf_resolver())
inst, src, dst, dst_ip = json.loads(sys.argv[1])
def call(proc, node, *args):
    res = runner.call_single(proc, node, list(args))
    if res.fail_msg:
        raise SystemExit("%s on %s: %s" % (proc, node, res.fail_msg))
    return res.payload
t0 = time.time()
call("instance_migratable", src, inst)
info = call("migration_info", src, inst)
call("accept_instance", dst, inst, info, dst_ip)
t1 = time.time()
call("instance_migrate", src, "cluster.gnt.test", inst, dst_ip, True)
polls = 0
while True:
    status = call("instance_get_migration_status", src, inst)
    polls += 1
    if status["status"] not in ("setup", "active", "device",
                                "pre-switchover"):
        break
    time.sleep(0.05)
t2 = time.time()
ok = status["status"] == "completed"
call("instance_finalize_migration_dst", dst, inst, info, ok)
call("instance_finalize_migration_src", src, inst, ok, True)
t3 = time.time()
print(json.dumps({"status": status, "accept": t1 - t0, "migrate": t2 - t1,
                  "finalize": t3 - t2, "total": t3 - t0, "polls": polls}))
"""


@pytest.fixture(scope="module")
def kvm_cluster():
    reason = _missing_prerequisites()
    if reason:
        pytest.skip(reason)
    guest, reason = guest_paths()
    if reason:
        pytest.skip(reason)
    state_dir = tempfile.mkdtemp(prefix="gnt-kvm-")
    os.rmdir(state_dir)
    cluster = VirtualCluster(state_dir, PREFIX)
    start = time.time()
    cluster.vcluster("up", "2", "--force")
    try:
        cluster.run("node1", "gnt-cluster", "init",
                    "--enabled-hypervisors=kvm,fake", "--master-netdev=br0",
                    "--nic-parameters=link=br0",
                    "--enabled-disk-templates=file,sharedfile,diskless",
                    "--no-etc-hosts", "cluster." + DOMAIN, timeout=180)
        cluster.run("node1", "gnt-node", "add", "node2." + DOMAIN,
                    timeout=180)
        TIMINGS["cluster_setup"] = time.time() - start
        cluster.guest = guest
        yield cluster
    finally:
        cluster.vcluster("down", "--force", check=False)
        for key, value in sorted(TIMINGS.items()):
            sys.stderr.write("kvm timing %s: %s\n" % (key, value))


def rpc(cluster, *calls):
    """Run ``(procedure, node, args)`` calls from node1; their payloads.
    Fails on the first failed call, showing its message."""
    proc = cluster.python("node1", RPC_CODE, json.dumps(calls), timeout=300)
    results = json.loads(proc.stdout)
    for (name, node, _), (fail_msg, _) in zip(calls, results):
        assert fail_msg is None, "%s on %s: %s" % (name, node, fail_msg)
    return [payload for _, payload in results]


def rpc_fail(cluster, name, node, args):
    proc = cluster.python("node1", RPC_CODE,
                          json.dumps([[name, node, args]]))
    return json.loads(proc.stdout)[0][0]


def _instance(cluster, **hvparams):
    hvp = {"kernel_path": cluster.guest["kernel"],
           "initrd_path": cluster.guest["initrd"], "root_path": "",
           "kernel_args": "quiet gnt_name=inst1 gnt_ip=%s/24" % GUEST_IP}
    hvp.update(hvparams)
    disk = {"dev_type": "sharedfile", "size": 32, "mode": "rw",
            "iv_name": "disk/0",
            "uuid": "6b1d0e1c-7a43-4c55-a1e2-9d0f3c2b1a00",
            "logical_id": ["loop", DISK_PATH]}
    return {"name": INST, "hypervisor": "kvm", "os": "none",
            "uuid": "0c7e4a6c-3d1b-4d6a-9c0e-1f2a3b4c5d6e",
            "hvparams": hvp, "beparams": {"maxmem": 128, "minmem": 128,
                                          "vcpus": 1},
            "nics": [{"mac": "aa:00:00:5a:41:01", "ip": GUEST_IP,
                      "uuid": "1e2d3c4b-5a69-4788-9aab-bccddeeff001",
                      "nicparams": {"mode": "bridged", "link": "br0"}}],
            "disks": [disk["uuid"]], "disks_info": [disk]}


def _qemu_pid(cluster, node):
    """The pid of the instance's qemu on ``node`` if it runs, else None."""
    pidfile = node_path(cluster, node, KVM_DIR + "/pid/" + INST)
    try:
        with open(pidfile) as fh:
            pid = int(fh.read().strip())
        with open("/proc/%d/cmdline" % pid, "rb") as fh:
            argv = fh.read().split(b"\0")
    except (OSError, ValueError):
        return None
    return pid if INST.encode() in argv else None


def _boot(cluster, inst, node="node1"):
    """Start the instance on ``node``; (console, boot seconds)."""
    start = time.time()
    rpc(cluster, ["instance_start", node + "." + DOMAIN,
                  [inst, False, [["gnt:test", "start", 0]]]])
    console = SerialConsole(serial_path(cluster, node, INST))
    console.wait_for(MARKER + " inst1", BOOT_TIMEOUT)
    return console, time.time() - start


def _ping(cluster, node, count=1):
    return cluster.run(node, "ping", "-c", str(count), "-W", "2", GUEST_IP,
                       check=False)


def test_guest_boots_answers_and_powers_off_on_acpi(kvm_cluster):
    cluster = kvm_cluster
    node1 = "node1." + DOMAIN
    inst = _instance(cluster)
    disk = inst["disks_info"][0]
    rpc(cluster,
        ["file_storage_dir_create", node1, [os.path.dirname(DISK_PATH)]],
        ["blockdev_create", node1, [disk, 32, INST, True, "", False]])
    disk_host = os.path.join(cluster.dir, "shared-storage", INST, "disk0")
    assert os.path.getsize(disk_host) == 32 << 20
    dev_path, link, uri = rpc(cluster, ["blockdev_assemble", node1,
                                        [disk, inst, True, 0]])[0]
    assert (dev_path, uri) == (DISK_PATH, None)
    assert link == "/var/run/ganeti/instance-disks/%s:0" % INST

    # a NIC on a bridge the node lacks: a clean failure, nothing left
    bad = _instance(cluster)
    bad["nics"][0]["nicparams"]["link"] = "nobr0"
    msg = rpc_fail(cluster, "instance_start", node1, [bad, False, None])
    assert re.match(r"Hypervisor error: Failed to configure interface"
                    r" tap0: exited with exit code \d+; network"
                    r" configuration script output: ip link set tap0"
                    r" master nobr0 up: .*nobr0", msg), msg
    assert _qemu_pid(cluster, "node1") is None
    kvm_dir = node_path(cluster, "node1", KVM_DIR)
    for sub in ("ctrl", "pid", "conf", "nic"):
        assert os.listdir(os.path.join(kvm_dir, sub)) == [], sub
    assert not os.path.lexists(node_path(cluster, "node1", link))

    console, boot = _boot(cluster, inst)
    TIMINGS["boot_to_marker_s"] = round(boot, 2)
    console.wait_for("GANETI-TEST-GUEST-DISKS vda", 10)
    pid = _qemu_pid(cluster, "node1")
    assert pid is not None
    info = rpc(cluster, ["all_instances_info", node1, [["kvm", "fake"], {}]],
               ["instance_list", node1, [["kvm"], {}]],
               ["instance_info", node1, [INST, "kvm", {}]])
    assert info[0] == {INST: {"memory": 128, "vcpus": 1, "state": 0,
                              "time": 0}}
    assert info[1] == [INST]
    assert info[2]["memory"] == 128
    assert _ping(cluster, "node1", 2).returncode == 0
    assert _ping(cluster, "node2").returncode == 0
    taps = cluster.run("node1", "ip", "-o", "link", "show", "type", "tun",
                       "master", "br0").stdout
    assert len(taps.strip().splitlines()) == 1, taps
    # the guest's disk is the file we created: write through it
    console.run("echo hello > /dev/vda; sync; echo DONE-$((40+2))",
                "DONE-42")
    with open(disk_host, "rb") as fh:
        assert fh.read(5) == b"hello"
    # a second start does nothing
    rpc(cluster, ["instance_start", node1, [inst, False, None]])
    assert _qemu_pid(cluster, "node1") == pid

    # a restarted noded knows its guests from the runtime files
    cluster.run("node1", "daemon-util", "stop", "ganeti-noded")
    cluster.run("node1", "daemon-util", "start", "ganeti-noded")
    assert rpc(cluster, ["instance_list", node1, [["kvm"], {}]])[0] == [INST]

    # soft reboot: ACPI power-off, then the same machine starts again
    start = time.time()
    rpc(cluster, ["instance_reboot", node1, [inst, "soft", 30, None]])
    console.wait_for("GANETI-TEST-GUEST-POWEROFF inst1", 5)
    console.close()
    console = SerialConsole(serial_path(cluster, "node1", INST))
    console.wait_for(MARKER + " inst1", BOOT_TIMEOUT)
    TIMINGS["soft_reboot_to_marker_s"] = round(time.time() - start, 2)
    new_pid = _qemu_pid(cluster, "node1")
    assert new_pid is not None and new_pid != pid
    pid = new_pid
    console.run("head -c 5 /dev/vda; echo", "hello")

    start = time.time()
    rpc(cluster, ["instance_shutdown", node1, [inst, 60, None]])
    TIMINGS["acpi_shutdown_s"] = round(time.time() - start, 2)
    console.wait_for("GANETI-TEST-GUEST-POWEROFF inst1", 5)
    assert not os.path.exists("/proc/%d" % pid) or \
        _qemu_pid(cluster, "node1") is None
    assert rpc(cluster, ["instance_list", node1, [["kvm"], {}]])[0] == []
    ctrl = node_path(cluster, "node1", KVM_DIR)
    for sub in ("ctrl", "pid", "conf", "nic"):
        assert os.listdir(os.path.join(ctrl, sub)) == [], sub
    assert not os.path.lexists(node_path(cluster, "node1", link))
    assert cluster.run("node1", "ip", "-o", "link", "show", "type", "tun",
                       check=False).stdout.strip() == ""
    console.close()
    # stopping a stopped instance succeeds; rebooting it does not
    rpc(cluster, ["instance_shutdown", node1, [inst, 60, None]])
    assert rpc_fail(cluster, "instance_reboot", node1,
                    [inst, "soft", 60, None]) == (
        "Cannot reboot instance %s that is not running" % INST)


def test_live_migration_there_and_back(kvm_cluster):
    cluster = kvm_cluster
    node1, node2 = "node1." + DOMAIN, "node2." + DOMAIN
    inst = _instance(cluster)
    disk = inst["disks_info"][0]
    if not os.path.exists(os.path.join(cluster.dir, "shared-storage", INST,
                                       "disk0")):
        rpc(cluster, ["blockdev_create", node1,
                      [disk, 32, INST, True, "", False]])
    rpc(cluster, ["blockdev_assemble", node1, [disk, inst, True, 0]])
    console, _ = _boot(cluster, inst)
    console.run("echo token-$((1000+337)) > /tmp/token; cat /tmp/token",
                "token-1337")
    src_pid = _qemu_pid(cluster, "node1")
    try:
        # there at the default bandwidth (32 MiB/s), back at 1000 MiB/s
        fast = _instance(cluster, migration_bandwidth=1000)
        for src, dst, dst_ip, label, migrating in (
                ("node1", "node2", "198.51.100.12", "to_node2", inst),
                ("node2", "node1", "198.51.100.11", "back_to_node1", fast)):
            proc = cluster.python("node1", MIGRATE_CODE, json.dumps(
                [migrating, src + "." + DOMAIN, dst + "." + DOMAIN, dst_ip]),
                timeout=180)
            result = json.loads(proc.stdout)
            assert result["status"]["status"] == "completed", result
            TIMINGS["migration_%s" % label] = {
                k: round(result[k], 2) for k in ("accept", "migrate",
                                                  "finalize", "total")}
            TIMINGS["migration_%s_ram_kib" % label] = \
                result["status"]["transferred_ram"]
            TIMINGS["migration_%s_downtime_ms" % label] = \
                result["status"].get("downtime_ms")
            # qemu moved: gone on the source, running on the target
            assert _qemu_pid(cluster, src) is None
            dst_pid = _qemu_pid(cluster, dst)
            assert dst_pid is not None and dst_pid != src_pid
            src_pid = dst_pid
            lists = rpc(cluster, ["instance_list", node1, [["kvm"], {}]],
                        ["instance_list", node2, [["kvm"], {}]])
            assert lists == ([[], [INST]] if dst == "node2" else
                             [[INST], []])
            # the same guest goes on: its memory and its console
            console.close()
            console = SerialConsole(serial_path(cluster, dst, INST))
            console.run("cat /tmp/token; uptime", "token-1337")
            assert _ping(cluster, src).returncode == 0
            assert _ping(cluster, dst).returncode == 0
            src_ctrl = node_path(cluster, src, KVM_DIR + "/conf")
            assert os.listdir(src_ctrl) == []
    finally:
        console.close()
        for node in (node1, node2):
            rpc(cluster, ["instance_shutdown", node, [inst, 30, None]])
    assert _qemu_pid(cluster, "node1") is None
    assert _qemu_pid(cluster, "node2") is None
    rpc(cluster, ["blockdev_remove", node1, [disk]],
        ["file_storage_dir_remove", node1, [os.path.dirname(DISK_PATH)]])
    assert not os.path.exists(os.path.join(cluster.dir, "shared-storage",
                                           INST))
