"""Instance lifecycle on the shared virtual cluster (issue 4).

Real daemons: ``gnt-instance add/list/info/stop/start/reboot/remove``
with the fake hypervisor, file disks that are real files, refusals that
leave nothing behind, and one real qemu (TCG) guest on a sharedfile disk
whose boot marker is read from its serial socket.
"""

import re

from conftest import DOMAIN
from guest_helpers import (add_guest_instance, add_noop_instance,
                           instance_fields, instance_names, wait_for_boot)

FILE_DIR = "/srv/ganeti/file-storage"
SHARED_DIR = "/srv/ganeti/shared-file-storage"
INSTANCE_INFO_RE = re.compile(r"""- Instance name: inst1\.gnt\.test
  UUID: [0-9a-f-]{36}
  Serial number: 2
  Creation time: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d
  Modification time: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d
  State: configured to be up, actual state is up
  Nodes: 
    - primary: node1\.gnt\.test
      group: default \(UUID [0-9a-f-]{36}\)
    - secondaries: 
  Operating system: noop
  Operating system parameters: 
  Allocated network port: None
  Hypervisor: fake
  Hypervisor parameters: 
  Back-end parameters: 
    always_failover: default \(False\)
    auto_balance: default \(True\)
    maxmem: default \(128\)
    memory: default \(128\)
    minmem: default \(128\)
    spindle_use: default \(1\)
    vcpus: default \(1\)
  NICs: 
    - nic/0: 
      MAC: aa:00:00:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}
      IP: None
      mode: bridged
      link: br0
      vlan: 
      network: None
      UUID: [0-9a-f-]{36}
      name: None
  Disk template: diskless
  Disks: 
$""")  # noqa: W291 (Ganeti's trailing spaces)

_CTIME = re.compile(r"^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} ")


def _strip_times(text):
    """The job log lines without their time.ctime() prefix."""
    lines = text.splitlines()
    assert all(_CTIME.match(line) for line in lines), text
    return [_CTIME.sub("", line) for line in lines]


def _storage_files(cluster):
    out = cluster.run("node1", "find", FILE_DIR, SHARED_DIR,
                      "-mindepth", "1").stdout
    return sorted(out.split())


def _status(cluster, name):
    return instance_fields(cluster, name, "status,oper_state")


def test_diskless_fake_lifecycle(noop_cluster):
    c = noop_cluster
    out = add_noop_instance(c, "inst1." + DOMAIN, "-t", "diskless")
    assert _strip_times(out.stdout) == [
        "* creating instance disks...",
        "adding instance inst1.gnt.test to cluster config",
        "adding disks to cluster config",
        "* starting instance..."]
    listing = c.run("node1", "gnt-instance", "list").stdout
    assert listing == (
        "Instance       Hypervisor OS   Primary_node   Status  Memory\n"
        "inst1.gnt.test fake       noop node1.gnt.test running   128M\n")
    info = c.run("node1", "gnt-instance", "info", "inst1").stdout
    assert INSTANCE_INFO_RE.match(info), info
    static = c.run("node1", "gnt-instance", "info", "-s", "inst1").stdout
    assert "  State: configured to be up\n" in static

    missing = c.run("node1", "gnt-instance", "info", "nosuch." + DOMAIN,
                    check=False)
    assert missing.returncode == 1
    assert missing.stderr == (
        "Failure: prerequisites not met for this operation:\n"
        "error type: unknown_entity, error details:\n"
        "Instance 'nosuch.gnt.test' not known\n")

    dup = add_noop_instance(c, "inst1." + DOMAIN, "-t", "diskless",
                            check=False)
    assert dup.returncode == 1
    assert dup.stderr == (
        "Failure: prerequisites not met for this operation:\n"
        "error type: already_exists, error details:\n"
        "Instance 'inst1.gnt.test' is already in the cluster\n")

    stop = c.run("node1", "gnt-instance", "shutdown", "inst1")
    assert re.match(r"Waiting for job \d+ for inst1\.gnt\.test \.\.\.\n$",
                    stop.stdout)
    assert _status(c, "inst1." + DOMAIN) == ["ADMIN_down", "N"]
    c.run("node1", "gnt-instance", "startup", "inst1")
    assert _status(c, "inst1." + DOMAIN) == ["running", "Y"]
    c.run("node1", "gnt-instance", "reboot", "-t", "full", "inst1")
    assert _status(c, "inst1." + DOMAIN) == ["running", "Y"]
    # a second instance; --all selects both, --force-multiple skips the
    # question, jobs are reported as JobExecutor does
    add_noop_instance(c, "inst2." + DOMAIN, "-t", "diskless", "--no-start")
    assert _status(c, "inst2." + DOMAIN) == ["ADMIN_down", "N"]
    multi = c.run("node1", "gnt-instance", "startup", "--all",
                  "--force-multiple")
    assert re.match(r"Submitted jobs \d+, \d+\n"
                    r"Waiting for job \d+ for inst1\.gnt\.test \.\.\.\n"
                    r"Waiting for job \d+ for inst2\.gnt\.test \.\.\.\n$",
                    multi.stdout), multi.stdout
    assert _status(c, "inst2." + DOMAIN) == ["running", "Y"]
    c.run("node1", "gnt-instance", "remove", "-f", "inst2." + DOMAIN)
    assert instance_names(c) == ["inst1." + DOMAIN]


def _refused(cluster, name, *args):
    result = add_noop_instance(cluster, name, *args, check=False)
    assert result.returncode == 1, result.stdout
    assert instance_names(cluster) == ["inst1." + DOMAIN] or \
        name not in instance_names(cluster)
    assert name not in instance_names(cluster)
    assert _storage_files(cluster) == []
    return result.stderr


def test_refusals_leave_nothing_behind(noop_cluster):
    c = noop_cluster
    # the node's own diagnosis follows Ganeti's prefix
    err = _refused(c, "bad1." + DOMAIN, "-t", "diskless", "-o", "nosuch")
    assert err.startswith(
        "Failure: prerequisites not met for this operation:\n"
        "error type: wrong_input, error details:\n"
        "OS 'nosuch' not in supported OS list for node node1.gnt.test: ")
    assert err.endswith(" not found in search path\n")
    err = _refused(c, "bad2." + DOMAIN, "-t", "file", "--disk",
                   "0:size=100T", "--ignore-ipolicy")
    assert re.match(
        r"Failure: prerequisites not met for this operation:\n"
        r"error type: insufficient_resources, error details:\n"
        r"Not enough disk space on target node node1\.gnt\.test vg "
        r"/srv/ganeti/file-storage: required 104857600 MiB, available "
        r"\d+ MiB\n$", err), err
    err = _refused(c, "bad3." + DOMAIN, "-t", "file", "--disk",
                   "0:size=100T")
    assert "violates policy: disk-size/0 value 104857600 is not in range" \
        " [1024, 1048576]" in err
    assert _refused(c, "bad4." + DOMAIN, "-t", "diskless", "-H",
                    "fake:nosuch=1") == \
        "Parameter Error: Unknown parameter 'nosuch'\n"
    err = _refused(c, "bad5." + DOMAIN, "-t", "diskless", "-H",
                   "kvm:boot_order=zz")
    assert "Parameter 'boot_order' fails syntax check" in err


def test_file_disk_is_a_real_file(noop_cluster):
    c = noop_cluster
    add_noop_instance(c, "file1." + DOMAIN, "-t", "file", "--disk",
                      "0:size=1G")
    files = _storage_files(c)
    assert len(files) == 2 and files[0] == FILE_DIR + "/file1.gnt.test"
    size = c.run("node1", "stat", "-c", "%s", files[1]).stdout.strip()
    assert int(size) == 1024 * 1024 * 1024
    assert re.match(FILE_DIR + r"/file1\.gnt\.test/[0-9a-f-]{36}"
                    r"\.file\.disk0$", files[1])
    act = c.run("node1", "gnt-instance", "activate-disks", "file1")
    assert act.stdout == "node1.gnt.test:disk/0:%s\n" % files[1]
    refused = c.run("node1", "gnt-instance", "deactivate-disks", "file1",
                    check=False)
    assert refused.returncode == 1
    assert "Instance 'file1.gnt.test' is marked to be up, cannot shutdown" \
        " disks" in refused.stderr
    c.run("node1", "gnt-instance", "remove", "-f", "file1." + DOMAIN)
    assert _storage_files(c) == []
    assert "file1." + DOMAIN not in instance_names(c)


# --- a real guest -------------------------------------------------------

def test_kvm_guest_on_sharedfile(noop_cluster):
    c = noop_cluster
    name = "kvm1." + DOMAIN
    add_guest_instance(c, name)
    try:
        files = _storage_files(c)
        assert files[0] == SHARED_DIR + "/" + name
        wait_for_boot(c, "node1", name)
        assert _status(c, name) == ["running", "Y"]
        show = c.run("node1", "gnt-instance", "console", "--show-cmd",
                     name).stdout
        assert show.rstrip().endswith(
            "-t root@node1.gnt.test '/usr/bin/socat STDIO,raw,echo=0,"
            "escape=0x1d UNIX-CONNECT:/var/run/ganeti/kvm-hypervisor/ctrl/"
            "kvm1.gnt.test.serial'")
        c.run("node1", "gnt-instance", "reboot", "-t", "hard", name)
        wait_for_boot(c, "node1", name)
        c.run("node1", "gnt-instance", "shutdown", "--timeout", "10", name,
              timeout=180)
        assert _status(c, name) == ["ADMIN_down", "N"]
        c.run("node1", "gnt-instance", "startup", name)
        wait_for_boot(c, "node1", name)
        assert _status(c, name) == ["running", "Y"]
    finally:
        c.run("node1", "gnt-instance", "remove", "-f", "--shutdown-timeout",
              "10", name, timeout=180)
    assert name not in instance_names(c)
    assert _storage_files(c) == []
