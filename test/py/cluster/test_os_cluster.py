"""OS definitions on the shared 3-node cluster: gnt-os list/info/diagnose/
modify against real node daemons, and the OS scripts run through noded
(``instance_os_add``, ``instance_run_rename``) on real file disks.

Our own definition (doc/examples/os/ganeti-test-guest) is installed on
the nodes with tools/install-test-os; Debian's ganeti-instance-debootstrap
is fetched and installed unchanged with tools/get-debootstrap-os. What a
test installs or creates is removed again at its end; OS definitions that
were there before (another test module's) are left alone.
"""

import json
import os
import re
import subprocess

import pytest

from conftest import TOP, DOMAIN

OS_NAME = "ganeti-test-guest"
OS_PATH = "/srv/ganeti/os/" + OS_NAME
INSTALL = os.path.join(TOP, "tools", "install-test-os")
GET_DEBOOTSTRAP = os.path.join(TOP, "tools", "get-debootstrap-os")
NODES = ("node1", "node2", "node3")
NODE1 = "node1." + DOMAIN
FILE_DIR = "/srv/ganeti/file-storage"
PARAM_DESC = ("Text written to /ganeti-test-guest on the guest's filesystem"
              " (letters, digits, space and ._:-)")
NODE_OK = ("valid (path: %s) [API versions: 20] [variants: default]"
           " [parameters: marker] [trusted]" % OS_PATH)

# Run inside a node: create a file disk and run an OS procedure on it
# through the node daemon, as the instance LUs do.
RPC_CODE = r"""
import json, sys, time
from ganeti import objects
from ganeti.rpc import client
spec = json.loads(sys.argv[1])
runner = client.RpcRunner(client.ssconf_resolver())
node, name = spec["node"], spec["name"]
path = "/srv/ganeti/file-storage/%s/disk0" % spec.get("disk_of", name)
disk = objects.Disk(dev_type="file", logical_id=["loop", path],
                    uuid="d0-" + name, size=spec["size"], mode="rw",
                    iv_name="disk/0", params={})
inst = objects.Instance(
    name=name, uuid="uuid-" + name, os=spec["os"], hypervisor="kvm",
    primary_node=node, osparams=spec.get("osparams", {}), disks=[disk.uuid],
    nics=[objects.NIC(mac="aa:00:00:12:34:56", uuid="nic-0",
                      nicparams={"mode": "bridged", "link": "br0"})],
    hvparams={"serial_console": True})
data = inst.to_dict()
data["disks_info"] = [disk.to_dict()]
out = []
for proc in spec["calls"]:
    if proc == "blockdev_create":
        args = [disk.to_dict(), spec["size"], name, True, "", False]
    elif proc == "blockdev_remove":
        args = [disk.to_dict()]
    elif proc == "instance_os_add":
        args = [data, spec.get("reinstall", False), 0]
    elif proc == "instance_run_rename":
        args = [data, spec["old_name"], 0]
    start = time.time()
    res = runner.call_single(proc, node, args)
    out.append([proc, res.fail_msg, res.payload, time.time() - start])
print(json.dumps(out))
"""


def _rpc(cluster, **spec):
    proc = cluster.python("node1", RPC_CODE, json.dumps(spec), timeout=600)
    return json.loads(proc.stdout)


def _has_os(cluster, node, path=OS_PATH):
    return cluster.run(node, "test", "-d", path, check=False).returncode == 0


@pytest.fixture(scope="module")
def oscluster(cluster):
    """The shared cluster with ganeti-test-guest on every node; the nodes
    that did not have it lose it again at the end."""
    before = dict((node, _has_os(cluster, node)) for node in NODES)
    for node in NODES:
        cluster.run(node, INSTALL)
    yield cluster
    cluster.run("node1", "gnt-os", "modify", "--hidden=no",
                "--blacklisted=no", OS_NAME, check=False)
    for node in NODES:
        if before[node]:
            cluster.run(node, INSTALL, check=False)
        else:
            cluster.run(node, INSTALL, "--remove", check=False)


def _os_block(text, name):
    """The lines of ``gnt-os diagnose`` about one OS (up to its blank
    line)."""
    lines = text.splitlines()
    start = lines.index(next(line for line in lines
                             if line.startswith("OS: %s " % name)))
    end = lines.index("", start)
    return lines[start:end]


def test_list_shows_the_os_with_its_variant(oscluster):
    out = oscluster.run("node1", "gnt-os", "list").stdout
    lines = out.splitlines()
    assert lines[0] == "Name"
    assert OS_NAME + "+default" in lines[1:]
    assert out.endswith("\n") and "" not in lines
    out = oscluster.run("node1", "gnt-os", "list", "--no-headers").stdout
    assert OS_NAME + "+default" in out.splitlines()
    assert "Name" not in out.splitlines()


def test_info(oscluster):
    out = oscluster.run("node1", "gnt-os", "info", OS_NAME).stdout
    assert out == (
        "%s:\n"
        "  - valid: True\n"
        "  - hidden: False\n"
        "  - blacklisted: False\n"
        "  - API versions:\n"
        "    - 20\n"
        "  - variants:\n"
        "    - default\n"
        "  - parameters:\n"
        "    - marker: %s\n"
        "  - trusted: True\n"
        "\n" % (OS_NAME, PARAM_DESC))
    # "show" is an alias; an unknown name prints an empty entry
    out = oscluster.run("node1", "gnt-os", "show", "nosuch-os").stdout
    assert out == "nosuch-os: \n\n"


def test_diagnose_valid_and_missing_on_one_node(oscluster):
    out = oscluster.run("node1", "gnt-os", "diagnose", check=False)
    assert _os_block(out.stdout, OS_NAME) == [
        "OS: %s [global status: valid]" % OS_NAME,
        "  Variants: [default]",
        "  Node: node1.%s, status: %s" % (DOMAIN, NODE_OK),
        "  Node: node2.%s, status: %s" % (DOMAIN, NODE_OK),
        "  Node: node3.%s, status: %s" % (DOMAIN, NODE_OK),
    ]
    oscluster.run("node3", INSTALL, "--remove")
    try:
        out = oscluster.run("node1", "gnt-os", "diagnose", check=False)
        assert out.returncode == 1
        assert _os_block(out.stdout, OS_NAME) == [
            "OS: %s [global status: partial valid]" % OS_NAME,
            "  Node: node1.%s, status: %s" % (DOMAIN, NODE_OK),
            "  Node: node2.%s, status: %s" % (DOMAIN, NODE_OK),
            "  Node: node3.%s, status: OS not found" % DOMAIN,
        ]
        # an OS that is not valid everywhere is not offered
        listed = oscluster.run("node1", "gnt-os", "list", check=False)
        assert OS_NAME + "+default" not in listed.stdout
        info = oscluster.run("node1", "gnt-os", "info", OS_NAME).stdout
        assert info == ("%s:\n  - valid: False\n  - hidden: False\n"
                        "  - blacklisted: False\n\n" % OS_NAME)
    finally:
        oscluster.run("node3", INSTALL)


def test_diagnose_reports_broken_definition(oscluster):
    broken = "/srv/ganeti/os/zz-broken-os"
    oscluster.run("node2", "sh", "-c", "mkdir -p %s && echo 20 >"
                  " %s/ganeti_api_version" % (broken, broken))
    try:
        out = oscluster.run("node1", "gnt-os", "diagnose", check=False)
        assert out.returncode == 1
        assert _os_block(out.stdout, "zz-broken-os") == [
            "OS: zz-broken-os [global status: invalid]",
            "  Node: node1.%s, status: OS not found" % DOMAIN,
            "  Node: node2.%s, status: invalid - File 'export' under path"
            " '%s' is missing (ENOENT) (path: %s) [no API versions"
            " declared] [trusted]" % (DOMAIN, broken, broken),
            "  Node: node3.%s, status: OS not found" % DOMAIN,
        ]
    finally:
        oscluster.run("node2", "rm", "-rf", broken)


def test_modify_hidden_and_blacklisted(oscluster):
    run = oscluster.run
    run("node1", "gnt-os", "modify", "--hidden=yes", OS_NAME)
    try:
        listed = run("node1", "gnt-os", "list", check=False).stdout
        assert OS_NAME + "+default" not in listed
        diag = run("node1", "gnt-os", "diagnose", check=False).stdout
        assert _os_block(diag, OS_NAME)[0] == \
            "OS: %s [global status: valid] [hidden]" % OS_NAME
        info = run("node1", "gnt-os", "info", OS_NAME).stdout
        assert "  - hidden: True\n" in info
        # the flag is kept in the cluster configuration
        assert "Hidden OSes: %s" % OS_NAME in \
            run("node1", "gnt-cluster", "info").stdout
    finally:
        run("node1", "gnt-os", "modify", "--hidden=no", OS_NAME)
    assert OS_NAME + "+default" in run("node1", "gnt-os", "list").stdout
    run("node1", "gnt-os", "modify", "--blacklisted=yes", OS_NAME)
    try:
        assert OS_NAME + "+default" not in \
            run("node1", "gnt-os", "list", check=False).stdout
        diag = run("node1", "gnt-os", "diagnose", check=False).stdout
        assert _os_block(diag, OS_NAME)[0] == \
            "OS: %s [global status: valid] [blacklisted]" % OS_NAME
    finally:
        run("node1", "gnt-os", "modify", "--blacklisted=no", OS_NAME)
    out = run("node1", "gnt-os", "modify", "--blacklisted=no", OS_NAME)
    assert out.stdout.rstrip().endswith(
        "OS %s not found in blacklisted OS list, ignoring" % OS_NAME)


def test_modify_os_parameters(oscluster):
    run = oscluster.run
    variant = OS_NAME + "+default"
    run("node1", "gnt-os", "modify", "-O", "marker=Hello 42", variant)
    try:
        out = run("node1", "gnt-os", "info", variant).stdout
        assert out.endswith("%s: \n  OS-specific hypervisor parameters: \n"
                            "  OS parameters: \n    marker: Hello 42\n\n" %
                            variant)
    finally:
        run("node1", "gnt-os", "modify", "-O", "marker=default", variant)
    assert run("node1", "gnt-os", "info", variant).stdout == \
        "%s: \n\n" % variant
    # the OS's verify script refuses the value
    bad = run("node1", "gnt-os", "modify", "-O", "marker=a;b", variant,
              check=False)
    assert bad.returncode == 1
    assert bad.stderr == (
        "Failure: command execution error:\n"
        "OS Parameters validation failed on node %s: OS validation script"
        " failed (exited with exit code 1), output: verify: Invalid value"
        " 'a;b' for parameter marker (letters, digits, space and ._:- only,"
        " at most 80)\n" % NODE1)
    bad = run("node1", "gnt-os", "modify", "-O", "colour=red", variant,
              check=False)
    assert "The following parameters are not supported by the OS %s:" \
        " colour" % OS_NAME in bad.stderr
    bad = run("node1", "gnt-os", "modify", "-H", "kvm:nosuch=1", OS_NAME,
              check=False)
    assert bad.returncode == 1
    assert "Invalid parameters for hypervisor kvm: nosuch" in bad.stderr
    none = run("node1", "gnt-os", "modify", OS_NAME, check=False)
    assert (none.returncode, none.stderr) == (
        1, "At least one of OS parameters or hypervisor parameters must be"
           " passed\n")


def _cleanup_disk(cluster, name):
    cluster.run("node1", "sh", "-c", "rm -rf %s/%s /var/log/ganeti/os/*-%s-*"
                % (FILE_DIR, name, name), check=False)


def _debugfs_cat(cluster, image, path):
    return cluster.run("node1", "debugfs", "-R", "cat %s" % path,
                       image).stdout


def test_instance_os_add_and_rename_through_noded(oscluster):
    name, new_name = "osadd1." + DOMAIN, "osadd2." + DOMAIN
    disk = "%s/%s/disk0" % (FILE_DIR, name)
    try:
        result = _rpc(oscluster, node=NODE1, name=name,
                      os=OS_NAME + "+default", size=64,
                      osparams={"marker": "RPC-TEST"},
                      calls=["blockdev_create", "instance_os_add"])
        assert [r[1] for r in result] == [None, None], result
        logs = oscluster.run("node1", "ls", "/var/log/ganeti/os").stdout
        (log,) = [n for n in logs.split() if name in n]
        assert re.match(r"add-%s\+default-%s-\d{4}-\d\d-\d\d_\d\d_\d\d_\d\d"
                        r"\.log$" % (OS_NAME, re.escape(name)), log), log
        text = oscluster.run("node1", "cat",
                             "/var/log/ganeti/os/" + log).stdout
        assert text.startswith("Installing %s (%s+default) on %s\n" %
                               (name, OS_NAME, disk))
        assert _debugfs_cat(oscluster, disk, "/ganeti-test-guest") == \
            "RPC-TEST %s\n" % name
        env = dict(line.split("=", 1) for line in _debugfs_cat(
            oscluster, disk, "/ganeti/create.env").splitlines())
        expected = {
            "OS_API_VERSION": "20", "OS_NAME": OS_NAME,
            "OS_VARIANT": "default", "INSTANCE_NAME": name,
            "INSTANCE_OS": OS_NAME + "+default", "HYPERVISOR": "kvm",
            "DISK_COUNT": "1", "DISK_0_PATH": disk, "DISK_0_ACCESS": "rw",
            "DISK_0_BACKEND_TYPE": "file:loop",
            "DISK_0_FRONTEND_TYPE": "paravirtual", "DISK_0_SIZE": "64",
            "NIC_COUNT": "1", "NIC_0_MAC": "aa:00:00:12:34:56",
            "NIC_0_MODE": "bridged", "NIC_0_LINK": "br0",
            "NIC_0_BRIDGE": "br0", "OSP_MARKER": "RPC-TEST",
            "INSTANCE_HV_serial_console": "True", "DEBUG_LEVEL": "0",
            "PATH": "/sbin:/bin:/usr/sbin:/usr/bin",
        }
        assert dict((k, env.get(k)) for k in expected) == expected
        # noded's own environment does not reach the script
        assert not set(env) & {"HOME", "PYTHONPATH", "GANETI_ROOTDIR"}
        result = _rpc(oscluster, node=NODE1, name=new_name, disk_of=name,
                      old_name=name, os=OS_NAME + "+default", size=64,
                      calls=["instance_run_rename"])
        assert result[0][1] is None, result
        logs = oscluster.run("node1", "ls", "/var/log/ganeti/os").stdout
        assert any(n.startswith("rename-%s+default-%s-%s-" %
                                (OS_NAME, name, new_name))
                   for n in logs.split()), logs
        assert _debugfs_cat(oscluster, disk, "/etc/hostname") == \
            new_name + "\n"
    finally:
        _cleanup_disk(oscluster, name)


def test_instance_os_add_failure_shows_log_tail(oscluster):
    name = "osfail." + DOMAIN
    try:
        result = _rpc(oscluster, node=NODE1, name=name,
                      os=OS_NAME + "+default", size=1,
                      calls=["blockdev_create", "instance_os_add"])
        assert result[0][1] is None
        assert result[1][1] == (
            "OS create script failed (exited with exit code 1), last lines"
            " in the log file:\ncreate: Disk 0 is too small (1048576 bytes,"
            " need 4 MiB)")
        result = _rpc(oscluster, node=NODE1, name=name, os="nosuch-os",
                      size=1, calls=["instance_os_add"])
        assert result[0][1] == \
            "Directory for OS nosuch-os not found in search path"
    finally:
        _cleanup_disk(oscluster, name)


@pytest.fixture(scope="module")
def debootstrap_os(cluster):
    """Debian's ganeti-instance-debootstrap on node1 with a seeded cache
    (fetching it and running debootstrap once needs the Debian mirror)."""
    had = _has_os(cluster, "node1", "/srv/ganeti/os/debootstrap")
    for step in (["fetch"], ["seed-cache", "--install-deps"]):
        proc = subprocess.run([GET_DEBOOTSTRAP] + step, capture_output=True,
                              text=True, timeout=900)
        if proc.returncode != 0:
            pytest.skip("cannot prepare ganeti-instance-debootstrap: %s" %
                        proc.stderr.strip())
    # the nodes share the host's /usr: the tools installed above are theirs
    cluster.run("node1", GET_DEBOOTSTRAP, "install", timeout=300)
    yield cluster
    if not had:
        cluster.run("node1", GET_DEBOOTSTRAP, "uninstall", check=False)


def test_debootstrap_create_on_file_disk(debootstrap_os):
    cluster = debootstrap_os
    name = "deb1." + DOMAIN
    disk = "%s/%s/disk0" % (FILE_DIR, name)
    try:
        diag = cluster.run("node1", "gnt-os", "diagnose", check=False).stdout
        assert "  Node: node1.%s, status: valid (path: /srv/ganeti/os/" \
            "debootstrap) [API versions: 20, 15, 10, 5] [variants: default]" \
            " [parameters: filesystem] [trusted]" % DOMAIN in diag
        result = _rpc(cluster, node=NODE1, name=name,
                      os="debootstrap+default", size=1024,
                      osparams={"filesystem": "ext4"},
                      calls=["blockdev_create", "instance_os_add"])
        assert [r[1] for r in result] == [None, None], result
        assert result[1][3] < 120, result   # from the cache: seconds
        assert _debugfs_cat(cluster, disk, "/etc/hostname") == name + "\n"
        fstab = _debugfs_cat(cluster, disk, "/etc/fstab")
        assert re.search(r"^UUID=[0-9a-f-]{36}\s+/\s+ext4", fstab, re.M)
        assert "VERSION_CODENAME=bookworm" in _debugfs_cat(
            cluster, disk, "/usr/lib/os-release")
        # its create script sets up and releases a loop device itself
        assert cluster.run("node1", "losetup", "-j", disk).stdout == ""
    finally:
        _cleanup_disk(cluster, name)
