"""Moving and changing instances on the shared virtual cluster (issue 4).

Real daemons, real nodes: fake-hypervisor instances migrated, failed
over and evacuated between nodes (gnt-instance list follows), modify,
rename, a file disk copied to another node by ``gnt-instance move``
(its content checked there) and grown; and a real qemu (TCG) guest on a
sharedfile disk live-migrated node1 -> node2 -> node1 (the guest keeps
its memory: a file written in the guest before is still there after)
and failed over from node2 after node2's network link was cut.
"""

import time

from conftest import DOMAIN
from guest_helpers import (KVM_DIR, MARKER, NOCHECK, SerialConsole,
                           add_guest_instance, add_noop_instance,
                           instance_fields, instance_names, serial_path,
                           wait_for_boot)

N1, N2, N3 = ("node%d.%s" % (i, DOMAIN) for i in (1, 2, 3))
FILE_DIR = "/srv/ganeti/file-storage"
KVM_PID = KVM_DIR + "/pid/%s"


def _gi(c, *args, check=True, timeout=180):
    return c.run("node1", "gnt-instance", *args, check=check,
                 timeout=timeout)


def _where(c, name):
    """(primary node, status) as gnt-instance list shows them."""
    return tuple(instance_fields(c, name, "pnode,status"))


def test_fake_migrate_failover_evacuate(noop_cluster):
    c = noop_cluster
    name = "mv1." + DOMAIN
    add_noop_instance(c, name, "-t", "diskless", "-H", "fake")
    try:
        assert _where(c, name) == (N1, "running")
        out = _gi(c, "migrate", "-f", "-n", N2, name).stdout
        assert "* migrating instance to %s" % N2 in out
        assert out.rstrip().endswith("* done")
        assert _where(c, name) == (N2, "running")
        _gi(c, "migrate", "-f", "--non-live", "-n", N1, name)
        assert _where(c, name) == (N1, "running")
        out = _gi(c, "failover", "-f", "-n", N3, name).stdout
        assert "* starting the instance on the target node %s" % N3 in out
        assert _where(c, name) == (N3, "running")
        # the hypervisor agrees: running on node3 only
        for node, running in (("node1", 1), ("node2", 1), ("node3", 0)):
            assert c.run(node, "test", "-e", "/var/run/ganeti/"
                         "fake-hypervisor/" + name,
                         check=False).returncode == running
        # refusals keep Ganeti's texts
        res = _gi(c, "migrate", "-f", "-n", N3, name, check=False)
        assert res.returncode == 1
        assert "Cannot migrate instance %s to its primary (%s)" % \
            (name, N3) in res.stderr
        res = _gi(c, "migrate", "-f", name, check=False)
        assert "No iallocator or node given" in res.stderr
        # node-level operations
        out = c.run("node1", "gnt-node", "migrate", "-f", "-n", N2,
                    N3).stdout
        assert "All instances migrated successfully." in out
        assert _where(c, name) == (N2, "running")
        out = c.run("node1", "gnt-node", "failover", "-f", "-n", N1,
                    N2).stdout
        assert "All 1 instance(s) failed over successfully." in out
        assert _where(c, name) == (N1, "running")
        out = c.run("node1", "gnt-node", "evacuate", "-f", "-n", N3,
                    N1).stdout
        assert "All instances evacuated successfully." in out
        assert _where(c, name) == (N3, "running")
        res = c.run("node1", "gnt-node", "migrate", "-f", N1)
        assert "No primary instances on node %s, exiting." % N1 in \
            res.stdout
        # a stopped instance fails over (it stays stopped)
        _gi(c, "shutdown", name)
        _gi(c, "failover", "-f", "-n", N1, name)
        assert _where(c, name) == (N1, "ADMIN_down")
        res = _gi(c, "migrate", "-f", "-n", N2, name, check=False)
        assert res.returncode == 1
        _gi(c, "migrate", "-f", "--allow-failover", "-n", N2, name)
        assert _where(c, name) == (N2, "ADMIN_down")
    finally:
        _gi(c, "remove", "-f", name)


def test_modify_and_rename(noop_cluster):
    c = noop_cluster
    name, new = "mv2." + DOMAIN, "mv2new." + DOMAIN
    add_noop_instance(c, name, "-t", "diskless", "-H", "fake")
    try:
        out = _gi(c, "modify", "-B", "memory=256", name).stdout
        assert "Modified instance %s\n - be/maxmem -> 256\n" \
            " - be/minmem -> 256\n" % name in out
        assert "take effect only at the next (re)start" in out
        res = c.run("node1", "gnt-instance", "list", "--no-headers", "-o",
                    "be/maxmem,be/minmem,nic.count", "--units", "m", name)
        assert res.stdout.split() == ["256", "256", "1"]
        out = _gi(c, "modify", "--net", "add:link=br0", name).stdout
        assert ",ip=None,mode=bridged,link=br0,network=None" in out
        assert " - nic.1 -> add:mac=aa:00:00:" in out
        _gi(c, "modify", "--net", "1:modify,ip=198.51.100.77", name)
        res = c.run("node1", "gnt-instance", "list", "--no-headers", "-o",
                    "nic.ips", name)
        assert res.stdout.split() == ["None,198.51.100.77"]
        out = _gi(c, "modify", "--net", "1:remove", name).stdout
        assert " - nic.1 -> remove" in out
        res = _gi(c, "modify", name, check=False)
        assert res.returncode == 1
        assert "Please give at least one of the parameters." in res.stderr
        res = _gi(c, "modify", "-H", "migration_mode=non-live", name,
                  check=False)
        assert "global and cannot be customized" in res.stderr
        # offline/online needs a stopped instance
        res = _gi(c, "modify", "--offline", name, check=False)
        assert "Instance '%s' is marked to be up, can't change to" \
            " offline" % name in res.stderr
        _gi(c, "shutdown", name)
        _gi(c, "modify", "--offline", name)
        assert _where(c, name) == (N1, "ADMIN_offline")
        _gi(c, "modify", "--online", name)
        assert _where(c, name) == (N1, "ADMIN_down")
        out = _gi(c, "rename", "-f", *NOCHECK + [name, new]).stdout
        assert "Instance '%s' renamed to '%s'" % (name, new) in out
        assert new in instance_names(c) and name not in instance_names(c)
        name = new
    finally:
        _gi(c, "remove", "-f", name)


def test_move_file_instance_and_grow(noop_cluster):
    c = noop_cluster
    name = "mv3." + DOMAIN
    add_noop_instance(c, name, "-t", "file", "--disk", "0:size=64M",
                      "--ignore-ipolicy", "-H", "fake")
    try:
        path = c.run("node1", "find", FILE_DIR + "/" + name,
                     "-type", "f").stdout.strip()
        assert path.endswith(".file.disk0")
        c.run("node1", "sh", "-c", "printf MOVE-MARKER-42 | dd of=%s bs=1"
              " seek=3000000 conv=notrunc status=none" % path)
        res = _gi(c, "migrate", "-f", "-n", N2, name, check=False)
        assert "Instance's disk layout 'file' does not allow migrations" \
            in res.stderr
        started = time.time()
        out = _gi(c, "move", "-f", "-n", N2, name).stdout
        took = time.time() - started
        assert "Copying disk/0 (64 MiB) from %s to %s" % (N1, N2) in out
        assert took < 60
        assert _where(c, name) == (N2, "running")
        data = c.run("node2", "dd", "if=" + path, "bs=1", "skip=3000000",
                     "count=14", "status=none").stdout
        assert data == "MOVE-MARKER-42"
        assert c.run("node2", "stat", "-c", "%s", path).stdout.strip() == \
            str(64 * 1024 * 1024)
        assert c.run("node1", "test", "-e", path, check=False).returncode
        # grow: relative, absolute, and the refusals
        out = _gi(c, "grow-disk", name, "0", "64M").stdout
        assert "Growing disk 0 of instance '%s' by 64M to 128M" % name in out
        assert c.run("node2", "stat", "-c", "%s", path).stdout.strip() == \
            str(128 * 1024 * 1024)
        res = _gi(c, "grow-disk", "--absolute", name, "0", "100M",
                  check=False)
        assert "Requested size (100M) is smaller than current disk size" \
            " (128M)" in res.stderr
        res = _gi(c, "grow-disk", name, "3", "1G", check=False)
        assert "Invalid disk index: 3 (instace has disks 0..0)" in res.stderr
        res = c.run("node1", "gnt-instance", "list", "--no-headers", "-o",
                    "disk.size/0", "--units", "m", name)
        assert res.stdout.strip() == "128"
    finally:
        _gi(c, "remove", "-f", name)


# --- a real guest -----------------------------------------------------------

def _qemu_pid(c, node, name):
    """The pid of the instance's qemu on ``node`` if it is alive there."""
    res = c.run(node, "sh", "-c", "p=$(cat %s) && kill -0 $p && echo $p" %
                (KVM_PID % name), check=False)
    return res.stdout.strip() or None


def _bring_back_online(c, node_name, timeout=90):
    """Undo the cut: the node online again and a master candidate, as the
    shared cluster fixture had it (later tests rely on that)."""
    deadline = time.time() + timeout
    while True:
        res = c.run("node1", "gnt-node", "modify", "-O", "no", node_name,
                    check=False, timeout=180)
        if res.returncode == 0 or time.time() > deadline:
            break
        time.sleep(2)
    role = c.run("node1", "gnt-node", "list", "--no-headers", "-o", "role",
                 node_name, check=False).stdout.strip()
    if role != "C":
        c.run("node1", "gnt-node", "modify", "-C", "yes", node_name,
              check=False, timeout=180)
    c.run("node1", "gnt-cluster", "redist-conf", check=False, timeout=180)


def test_kvm_live_migration_and_failover_of_cut_node(noop_cluster):
    c = noop_cluster
    name = "mvkvm." + DOMAIN
    add_guest_instance(c, name)
    link_cut = False
    try:
        con = SerialConsole(serial_path(c, "node1", name))
        con.wait_for(MARKER + " mvkvm", 90)
        con.run("echo kept-$((6*7)) > /tmp/state", "#")
        con.close()
        pid1 = _qemu_pid(c, "node1", name)
        assert pid1
        times = []
        for src, dst, dst_name in (("node1", "node2", N2),
                                   ("node2", "node1", N1)):
            started = time.time()
            out = _gi(c, "migrate", "-f", "-n", dst_name, name).stdout
            times.append(time.time() - started)
            assert "* memory transfer complete" in out
            assert _where(c, name) == (dst_name, "running")
            assert _qemu_pid(c, src, name) is None
            assert _qemu_pid(c, dst, name)
            # same guest, same memory: no new boot, the file is there
            con = SerialConsole(serial_path(c, dst, name))
            con.run("cat /tmp/state", "kept-42")
            assert MARKER not in con.text
            con.close()
        print("live migration times: %s" %
              ", ".join("%.2f s" % t for t in times))
        assert max(times) < 60
        # to node2, then node2 dies (its link is cut); the dead node is
        # marked offline first, as Ganeti's procedure says, and the
        # instance is failed over to node3 from the master
        _gi(c, "migrate", "-f", "-n", N2, name)
        old_pid = _qemu_pid(c, "node2", name)
        assert old_pid
        c.run("node1", "gnt-node", "modify", "-O", "yes", N2)
        c.run("node2", "ip", "link", "set", "eth0", "down")
        link_cut = True
        # A cut node may still run the guest; Ganeti asks the admin to
        # make sure it is down. Here the namespaces share one kernel, so
        # the old qemu's lock on the shared image would even stop the new
        # one: the "dead" node's qemu is stopped as a fence would.
        c.run("node2", "kill", "-9", old_pid)
        started = time.time()
        out = _gi(c, "failover", "-f", "--ignore-consistency", "-n", N3,
                  name).stdout
        took = time.time() - started
        print("failover of a cut-off node: %.2f s" % took)
        assert "* starting the instance on the target node %s" % N3 in out
        assert _where(c, name) == (N3, "running")
        wait_for_boot(c, "node3", name)
        assert _qemu_pid(c, "node3", name)
    finally:
        if link_cut:
            c.run("node2", "ip", "link", "set", "eth0", "up", check=False)
            # the old qemu on node2 is what the watcher would stop
            pid = _qemu_pid(c, "node2", name)
            if pid:
                c.run("node2", "kill", "-9", pid, check=False)
            _bring_back_online(c, N2)
        _gi(c, "remove", "-f", "--shutdown-timeout", "10", name,
            check=False)
    assert name not in instance_names(c)
    assert _qemu_pid(c, "node2", name) is None
