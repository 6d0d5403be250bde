"""Node groups, node storage, volumes, out-of-band power and powercycle on
the shared 3-node virtual cluster (real daemons, real commands).

Every test puts the cluster back as it found it (groups, node groups of
the nodes, node parameters, files written into nodes), even when it
fails, because the cluster is shared by the whole session.
"""

import json

import pytest

MASTER = "node1.gnt.test"
NODE2 = "node2.gnt.test"
NODE3 = "node3.gnt.test"
FILE_STORAGE_DIR = "/srv/ganeti/file-storage"
OOB_PATH = "/etc/ganeti/oob-test"
OOB_SCRIPT = """#!/bin/sh
case "$1" in
  power-status) echo '{"powered": true}' ;;
  health) echo '[["disk", "OK"], ["psu", "WARNING"]]' ;;
  power-on|power-off|power-cycle) ;;
  *) echo "unknown command $1" >&2; exit 1 ;;
esac
"""


def gnt(cluster, *args, check=True):
    return cluster.run("node1", *args, check=check)


def table(cluster, *args):
    """Rows of a list command run with --no-headers --separator=|."""
    args = list(args)
    out = gnt(cluster, *(args[:2] + ["--no-headers", "--separator=|"] +
                         args[2:]))
    return [line.split("|") for line in out.stdout.splitlines()]


def groups(cluster):
    return dict((row[0], row[1:]) for row in
                table(cluster, "gnt-group", "list", "-o",
                      "name,node_cnt,alloc_policy"))


def node_groups(cluster):
    return dict(table(cluster, "gnt-node", "list", "-o", "name,group"))


def _restore_groups(cluster):
    """Every node back in "default", every other group removed."""
    moved = [name for name, group in node_groups(cluster).items()
             if group != "default"]
    if moved:
        gnt(cluster, "gnt-group", "assign-nodes", "default", *moved,
            check=False)
    for name in groups(cluster):
        if name != "default":
            gnt(cluster, "gnt-group", "remove", name, check=False)


@pytest.fixture
def clean_groups(cluster):
    _restore_groups(cluster)
    yield cluster
    _restore_groups(cluster)
    assert list(groups(cluster)) == ["default"]


def test_group_lifecycle_and_node_filters(clean_groups):
    cluster = clean_groups
    gnt(cluster, "gnt-group", "add", "g2")
    assert groups(cluster)["g2"] == ["0", "preferred"]

    gnt(cluster, "gnt-group", "assign-nodes", "g2", NODE3)
    assert node_groups(cluster) == {MASTER: "default", NODE2: "default",
                                    NODE3: "g2"}
    assert groups(cluster)["g2"] == ["1", "preferred"]
    assert groups(cluster)["default"] == ["2", "preferred"]
    filtered = gnt(cluster, "gnt-node", "list", "--no-headers", "-o",
                   "name", "-F", 'group == "g2"')
    assert filtered.stdout.split() == [NODE3]

    gnt(cluster, "gnt-group", "modify", "--alloc-policy=last_resort", "g2")
    assert groups(cluster)["g2"] == ["1", "last_resort"]

    gnt(cluster, "gnt-group", "rename", "g2", "g3")
    assert node_groups(cluster)[NODE3] == "g3"
    assert "g2" not in groups(cluster)

    refused = gnt(cluster, "gnt-group", "remove", "g3", check=False)
    assert refused.returncode == 1
    assert refused.stderr == (
        "Failure: prerequisites not met for this operation:\n"
        "error type: wrong_state, error details:\n"
        "Group 'g3' not empty, has the following nodes: %s\n" % NODE3)

    gnt(cluster, "gnt-group", "assign-nodes", "default", NODE3)
    gnt(cluster, "gnt-group", "remove", "g3")
    assert list(groups(cluster)) == ["default"]
    assert set(node_groups(cluster).values()) == set(["default"])


def test_group_parameters_and_info(clean_groups):
    cluster = clean_groups
    gnt(cluster, "gnt-group", "add", "--node-parameters=spindle_count=3",
        "g2")
    out = gnt(cluster, "gnt-group", "modify", "--node-parameters",
              "ssh_port=2222", "-D", "plain:stripes=2", "g2")
    assert out.stdout.splitlines() == [
        "Modified node group g2",
        " - ndparams -> {'spindle_count': 3, 'ssh_port': 2222}",
        " - diskparams -> {'plain': {'stripes': 2}}"]
    info = gnt(cluster, "gnt-group", "info", "g2").stdout
    assert "- Node group: g2\n" in info
    assert "    spindle_count: 3\n" in info
    assert "    ssh_port: 2222\n" in info
    assert "    cpu_speed: default (1)\n" in info
    params = table(cluster, "gnt-group", "list", "-o",
                   "name,ndp/spindle_count", "g2")
    assert params == [["g2", "3"]]


def test_group_tags(clean_groups):
    cluster = clean_groups
    gnt(cluster, "gnt-group", "add", "g2")
    gnt(cluster, "gnt-group", "add-tags", "g2", "rack:r1", "fast")
    assert gnt(cluster, "gnt-group", "list-tags",
               "g2").stdout.split() == ["fast", "rack:r1"]
    found = gnt(cluster, "gnt-cluster", "search-tags", "^rack:")
    assert found.stdout == "/nodegroup/g2 rack:r1\n"
    gnt(cluster, "gnt-group", "remove-tags", "g2", "fast")
    assert table(cluster, "gnt-group", "list", "-o", "name,tags",
                 "g2") == [["g2", "rack:r1"]]


STATVFS = r"""
import json, os, sys
st = os.statvfs(sys.argv[1])
print(json.dumps([st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize]))
"""


def test_list_storage_file_reports_real_sizes(cluster):
    disk = FILE_STORAGE_DIR + "/grp-test-disk"
    cluster.run("node2", "dd", "if=/dev/zero", "of=" + disk, "bs=1M",
                "count=3")
    try:
        rows = table(cluster, "gnt-node", "list-storage", "-t", "file")
        assert [row[:3] for row in rows] == [
            [name, "file", FILE_STORAGE_DIR]
            for name in (MASTER, NODE2, NODE3)]
        for index, row in enumerate(rows, 1):
            node = "node%d" % index
            total, free = json.loads(cluster.python(
                node, STATVFS, FILE_STORAGE_DIR).stdout)
            size, used, free_mib, allocatable = row[3:]
            assert int(size) == round(total / 1048576.0)
            assert abs(int(free_mib) - free / 1048576.0) < 256
            assert used == ("3" if node == "node2" else "0")
            assert allocatable == "Y"
        human = gnt(cluster, "gnt-node", "list-storage", "-t", "file",
                    NODE2).stdout.splitlines()
        assert human[0].split() == ["Node", "Type", "Name", "Size", "Used",
                                    "Free", "Allocatable"]
        assert human[1].split()[4] == "3M"
    finally:
        cluster.run("node2", "rm", "-f", disk)


def test_list_storage_of_a_disabled_type_is_refused(cluster):
    out = gnt(cluster, "gnt-node", "list-storage", "-t", "lvm-vg",
              check=False)
    assert out.returncode == 1
    assert out.stderr == (
        "Failure: prerequisites not met for this operation:\n"
        "No disk template of storage type 'lvm-vg' is enabled in this"
        " cluster. Enabled disk templates are: file,sharedfile,diskless\n")


def test_volumes_without_lvm_warns_per_node(cluster):
    out = gnt(cluster, "gnt-node", "volumes")
    lines = out.stdout.splitlines()
    # the job's warnings (one per node, as the nodes have no LVM), then
    # an empty table
    assert lines[-1].split() == ["Node", "PhysDev", "VG", "Name", "Size",
                                 "Instance"]
    for line, name in zip(lines[:-1], (MASTER, NODE2, NODE3)):
        assert (" - WARNING: Can't compute volume data on node %s: Failed"
                " to list logical volumes, lvs output:" % name) in line


def test_modify_and_repair_storage_refuse_file_storage(cluster):
    out = gnt(cluster, "gnt-node", "modify-storage", "--allocatable=no",
              NODE2, "file", FILE_STORAGE_DIR, check=False)
    assert out.returncode == 1
    assert out.stderr.startswith("Failure: prerequisites not met for this"
                                 " operation:\n")
    assert out.stderr.endswith("Storage units of type 'file' can not be"
                               " modified\n")
    out = gnt(cluster, "gnt-node", "repair-storage", NODE2, "file",
              FILE_STORAGE_DIR, check=False)
    assert out.returncode == 1
    assert out.stderr.endswith("Storage units of type 'file' can not be"
                               " repaired\n")


@pytest.fixture
def oob_on_node2(cluster):
    cluster.run("node1", "sh", "-c", "cat > %s && chmod 755 %s" %
                (OOB_PATH, OOB_PATH), input=OOB_SCRIPT)
    gnt(cluster, "gnt-node", "modify", "--node-parameters",
        "oob_program=" + OOB_PATH, NODE2)
    try:
        yield cluster
    finally:
        gnt(cluster, "gnt-node", "modify", "--node-parameters",
            "oob_program=default", NODE2, check=False)
        cluster.run("node1", "rm", "-f", OOB_PATH, check=False)
    assert table(cluster, "gnt-node", "list", "-o",
                 "name,custom_ndparams", NODE2) == [[NODE2, ""]]


def test_power_status_through_oob_helper(oob_on_node2):
    cluster = oob_on_node2
    out = gnt(cluster, "gnt-node", "power", "status", NODE2)
    assert out.stdout == ("Node           Status\n"
                          "node2.gnt.test powered\n")
    everyone = gnt(cluster, "gnt-node", "power", "--separator=|",
                   "--no-headers", "status", check=False)
    assert everyone.returncode == 1   # node1 and node3 have no helper
    assert everyone.stdout.splitlines() == [
        MASTER + "|(unavail)", NODE2 + "|powered", NODE3 + "|(unavail)"]
    health = gnt(cluster, "gnt-node", "health", NODE2)
    assert health.stdout.splitlines()[-3:] == [
        "Node           Status", "node2.gnt.test disk=OK",
        "               psu=WARNING"]
    assert "Item 'psu' on node '%s' has status 'WARNING'" % NODE2 in \
        health.stdout


def test_power_on_records_powered_and_master_is_protected(oob_on_node2):
    cluster = oob_on_node2
    gnt(cluster, "gnt-node", "modify", "--node-powered=no", NODE2)
    assert table(cluster, "gnt-node", "list", "-o", "name,powered",
                 NODE2) == [[NODE2, "N"]]
    out = gnt(cluster, "gnt-node", "power", "on", NODE2)
    assert out.stdout.splitlines()[-1] == "node2.gnt.test invoked"
    assert table(cluster, "gnt-node", "list", "-o", "name,powered",
                 NODE2) == [[NODE2, "Y"]]
    refused = gnt(cluster, "gnt-node", "power", "-f", "--ignore-status",
                  "off", MASTER, check=False)
    assert refused.returncode == 1
    assert ("Operating on the master node %s is not allowed for"
            " power-off" % MASTER) in refused.stderr
    # without -f (and no terminal to ask) nothing happens
    declined = cluster.run("node1", "setsid", "-w", "gnt-node", "power",
                           "off", NODE2, check=False)
    assert declined.returncode == 1
    assert table(cluster, "gnt-node", "list", "-o", "name,offline",
                 NODE2) == [[NODE2, "N"]]


def test_powercycle_asks_and_is_refused_on_vcluster(cluster):
    # no terminal: the confirmation question is answered "no"
    declined = cluster.run("node1", "setsid", "-w", "gnt-node",
                           "powercycle", NODE2, check=False)
    assert declined.returncode == 2
    refused = gnt(cluster, "gnt-node", "powercycle", "--yes", NODE2,
                  check=False)
    assert refused.returncode == 1
    assert refused.stderr == (
        "Failure: command execution error:\nFailed to schedule the reboot:"
        " Powercycling is disabled on this node (the node daemon must run"
        " with GANETI_ALLOW_POWERCYCLE=yes to allow it)\n")
    master = gnt(cluster, "gnt-node", "powercycle", "--yes", MASTER,
                 check=False)
    assert master.stderr.endswith("The node is the master and the force"
                                  " parameter was not set\n")
