"""The foundation end to end: init, add, verify, remove, destroy.

A private 3-node virtual cluster (prefix ``gft``) goes through the life of
a Ganeti cluster with the real daemons and commands: ``gnt-cluster init``
on node1, ``gnt-node add`` of node2 and node3 over real SSH, ``gnt-cluster
verify``, listings, ``gnt-node remove`` and finally ``gnt-cluster
destroy``. The tests run in file order and share the cluster; each one
names the behaviour it pins.
"""

import json
import os
import shutil
import subprocess
import tempfile

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.realpath(__file__)))))
VCLUSTER = os.path.join(TOP, "tools", "vcluster")
PREFIX = "gft"
DOMAIN = "gnt.test"
CLUSTER = "cluster." + DOMAIN
MASTER = "node1." + DOMAIN
INIT = ["gnt-cluster", "init", "--enabled-hypervisors=fake,kvm",
        "--master-netdev=br0", "--nic-parameters=link=br0",
        "--enabled-disk-templates=file,sharedfile,diskless",
        "--no-etc-hosts", CLUSTER]

READ_SSCONF = r"""
import json, os
d = "/var/lib/ganeti"
out = {}
for name in sorted(os.listdir(d)):
    if name.startswith("ssconf_"):
        with open(os.path.join(d, name)) as fh:
            out[name] = fh.read()
print(json.dumps(out))
"""


def _skip_reason():
    if os.geteuid() != 0:
        return "cluster tests need root (network namespaces)"
    for tool in ("ip", "nsenter", "unshare", "ssh-keygen"):
        if shutil.which(tool) is None:
            return "%s is not installed" % tool
    if not os.path.exists("/usr/sbin/sshd"):
        return "openssh-server is not installed"
    return None


pytestmark = pytest.mark.skipif(_skip_reason() is not None,
                                reason=str(_skip_reason()))


class Nodes:
    def __init__(self, state_dir):
        self.dir = state_dir

    def vcluster(self, *args, timeout=120):
        return subprocess.run([VCLUSTER, args[0], "--dir", self.dir,
                               "--prefix", PREFIX] + list(args[1:]),
                              text=True, capture_output=True,
                              timeout=timeout)

    def run(self, node, *cmd, check=True, timeout=180):
        result = subprocess.run([VCLUSTER, "exec", "--dir", self.dir, node] +
                                list(cmd), text=True, capture_output=True,
                                timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError("%s on %s exited %s\nstdout:\n%s\nstderr:\n%s"
                                 % (" ".join(cmd), node, result.returncode,
                                    result.stdout, result.stderr))
        return result

    def ssconf(self, node):
        return json.loads(self.run(node, "python3", "-c",
                                   READ_SSCONF).stdout)


@pytest.fixture(scope="module")
def nodes():
    tmp = tempfile.mkdtemp(prefix="gnt-ft-")
    cluster = Nodes(os.path.join(tmp, "state"))
    up = cluster.vcluster("up", "3", "--force")
    assert up.returncode == 0, up.stderr
    try:
        yield cluster
    finally:
        cluster.vcluster("down", "--force")
        shutil.rmtree(tmp, ignore_errors=True)


def test_init_makes_node1_the_master(nodes):
    nodes.run("node1", *INIT)
    out = nodes.run("node1", "gnt-cluster", "getmaster").stdout
    assert out == MASTER + "\n"
    # the master IP is up on the master's netdev
    addrs = nodes.run("node1", "ip", "-4", "-o", "addr", "show", "br0").stdout
    assert "198.51.100.100/32" in addrs


def test_add_nodes_over_ssh(nodes):
    for index in (2, 3):
        nodes.run("node1", "gnt-node", "add", "node%d.%s" % (index, DOMAIN))
    out = nodes.run("node1", "gnt-node", "list", "--no-headers", "-o",
                    "name,master_candidate,offline").stdout
    assert [line.split() for line in out.splitlines()] == [
        ["node%d.%s" % (i, DOMAIN), "Y", "N"] for i in (1, 2, 3)]


def test_config_and_ssconf_reach_the_new_nodes(nodes):
    master = nodes.ssconf("node1")
    assert master["ssconf_master_node"] == MASTER + "\n"
    assert master["ssconf_node_list"] == "".join(
        "node%d.%s\n" % (i, DOMAIN) for i in (1, 2, 3))
    for node in ("node2", "node3"):
        assert nodes.ssconf(node) == master
    digest = "import hashlib,sys;print(hashlib.sha1(open(sys.argv[1],'rb')" \
        ".read()).hexdigest())"
    sums = [nodes.run(n, "python3", "-c", digest,
                      "/var/lib/ganeti/config.data").stdout
            for n in ("node1", "node2", "node3")]
    assert sums[0] == sums[1] == sums[2]


def test_verify_passes(nodes):
    result = nodes.run("node1", "gnt-cluster", "verify", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Submitted jobs ")
    for heading in ("* Verifying cluster config",
                    "* Verifying group 'default'",
                    "* Gathering data (3 nodes)",
                    "* Verifying node status", "* Hooks Results"):
        assert any(line.endswith(heading) for line in lines), heading
    assert not any(" - ERROR:" in line for line in lines), result.stdout


def test_verify_detects_a_stale_ssconf_file(nodes):
    nodes.run("node3", "sh", "-c", "chmod u+w /var/lib/ganeti/ssconf_"
              "node_list; echo bogus > /var/lib/ganeti/ssconf_node_list")
    result = nodes.run("node1", "gnt-cluster", "verify", check=False)
    assert result.returncode == 1
    assert "ERROR: node node3.%s: ssconf value of 'node_list' differs" % \
        DOMAIN in result.stdout
    nodes.run("node1", "gnt-cluster", "redist-conf")
    result = nodes.run("node1", "gnt-cluster", "verify", check=False)
    assert result.returncode == 0, result.stdout


def test_job_list_shows_the_jobs(nodes):
    out = nodes.run("node1", "gnt-job", "list", "--no-headers", "-o",
                    "status,summary").stdout
    rows = [line.split(None, 1) for line in out.splitlines()]
    summaries = [row[1] for row in rows]
    assert summaries[:3] == ["CLUSTER_POST_INIT",
                             "NODE_ADD(node2.%s)" % DOMAIN,
                             "NODE_ADD(node3.%s)" % DOMAIN]
    assert "CLUSTER_VERIFY" in summaries
    assert any(s.startswith("CLUSTER_VERIFY_GROUP(") for s in summaries)
    assert all(row[0] == "success" for row in rows[:4]), out


def test_offline_and_back_online(nodes):
    out = nodes.run("node1", "gnt-node", "modify", "-O", "yes",
                    "node2.%s" % DOMAIN).stdout
    assert "master_candidate -> False" in out and "offline -> True" in out
    result = nodes.run("node1", "gnt-cluster", "verify", check=False)
    assert result.returncode == 0, result.stdout
    assert "NOTICE: 1 offline node(s) found." in result.stdout
    out = nodes.run("node1", "gnt-node", "modify", "-O", "no",
                    "node2.%s" % DOMAIN).stdout
    assert "offline -> False" in out and "master_candidate -> True" in out
    assert nodes.ssconf("node2") == nodes.ssconf("node1")
    result = nodes.run("node1", "gnt-cluster", "verify", check=False)
    assert result.returncode == 0, result.stdout


def test_master_role_is_refused_to_change(nodes):
    result = nodes.run("node1", "gnt-node", "modify", "-D", "yes", MASTER,
                       check=False)
    assert result.returncode == 1
    assert "The master role can be changed only via master-failover" in \
        result.stderr


def test_readd_node(nodes):
    nodes.run("node1", "gnt-node", "add", "--readd", "node3.%s" % DOMAIN)
    result = nodes.run("node1", "gnt-cluster", "verify", check=False)
    assert result.returncode == 0, result.stdout


def test_masterd_restart_is_confirmed_by_votes(nodes):
    nodes.run("node1", "daemon-util", "stop", "ganeti-masterd")
    nodes.run("node1", "daemon-util", "start", "ganeti-masterd")
    out = nodes.run("node1", "gnt-cluster", "getmaster").stdout
    assert out == MASTER + "\n"


def test_remove_node(nodes):
    nodes.run("node1", "gnt-node", "remove", "node3.%s" % DOMAIN)
    out = nodes.run("node1", "gnt-node", "list", "--no-headers", "-o",
                    "name").stdout
    assert out.split() == [MASTER, "node2.%s" % DOMAIN]
    assert "node3" not in nodes.ssconf("node2")["ssconf_node_list"]
    # the removed node forgot the cluster
    left = nodes.run("node3", "sh", "-c", "ls /var/lib/ganeti").stdout
    assert "config.data" not in left and "ssconf_" not in left


def test_destroy(nodes):
    result = nodes.run("node1", "gnt-cluster", "destroy", "--yes-do-it",
                       check=False)
    assert result.returncode == 1
    assert "There are still 1 node(s) in this cluster." in result.stderr
    nodes.run("node1", "gnt-node", "remove", "node2.%s" % DOMAIN)
    nodes.run("node1", "gnt-cluster", "destroy", "--yes-do-it")
    left = nodes.run("node1", "sh", "-c", "ls /var/lib/ganeti").stdout
    assert "config.data" not in left and "server.pem" not in left
    assert nodes.run("node1", "daemon-util", "check", "ganeti-masterd",
                     check=False).returncode == 1
    addrs = nodes.run("node1", "ip", "-4", "-o", "addr", "show", "br0").stdout
    assert "198.51.100.100" not in addrs


def test_reinit_after_destroy(nodes):
    nodes.run("node1", *INIT)
    assert nodes.run("node1", "gnt-cluster", "getmaster").stdout == \
        MASTER + "\n"
    result = nodes.run("node1", *INIT, check=False)
    assert result.returncode == 1
    assert "Cluster is already initialised" in result.stderr
    nodes.run("node1", "gnt-cluster", "destroy", "--yes-do-it")
