"""Shared virtual cluster for the cluster tests (real daemons in namespaces).

One 3-node cluster is built per test session: ``tools/vcluster up 3``,
``gnt-cluster init`` on node1, ``gnt-node add`` of node2 and node3. Tests
run commands inside nodes with ``cluster.run("node1", ...)``. Modules that
make instances take ``noop_cluster`` (the same cluster with a no-op OS);
guest_helpers.py has what they share beyond fixtures.
"""

import os
import shutil
import subprocess
import tempfile

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.realpath(__file__)))))
VCLUSTER = os.path.join(TOP, "tools", "vcluster")
PREFIX = os.environ.get("GNT_TEST_PREFIX", "gct")
DOMAIN = "gnt.test"
INIT_ARGS = ["gnt-cluster", "init", "--enabled-hypervisors=fake,kvm",
             "--master-netdev=br0", "--nic-parameters=link=br0",
             "--enabled-disk-templates=file,sharedfile,diskless",
             "--no-etc-hosts", "cluster.%s" % DOMAIN]
NOOP_OS = "/srv/ganeti/os/noop"
# An OS whose scripts all succeed doing nothing (API version 20).
NOOP_SETUP = """
set -e
mkdir -p {os}
cd {os}
echo 20 > ganeti_api_version
: > parameters.list
for s in create import export rename verify; do
  printf '#!/bin/sh\\nexit 0\\n' > $s; chmod 755 $s
done
""".format(os=NOOP_OS)


def _missing_prerequisites():
    if os.geteuid() != 0:
        return "cluster tests need root (network namespaces)"
    for tool in ("ip", "nsenter", "unshare", "ssh-keygen"):
        if shutil.which(tool) is None:
            return "%s is not installed" % tool
    if not os.path.exists("/usr/sbin/sshd"):
        return "openssh-server is not installed"
    return None


class VirtualCluster:
    """A vcluster state dir plus helpers to run commands in its nodes."""

    def __init__(self, state_dir, prefix):
        self.dir = state_dir
        self.prefix = prefix

    def vcluster(self, *args, check=True, timeout=120):
        return subprocess.run([VCLUSTER, "--dir", self.dir, "--prefix",
                               self.prefix] + list(args), check=check,
                              text=True, capture_output=True,
                              timeout=timeout)

    def run(self, node, *cmd, check=True, input=None, timeout=120):
        """Run ``cmd`` inside ``node``; on failure show its output."""
        result = subprocess.run(
            [VCLUSTER, "--dir", self.dir, "exec", node] + list(cmd),
            text=True, capture_output=True, input=input, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(
                "%s on %s exited %s\nstdout:\n%s\nstderr:\n%s" %
                (" ".join(cmd), node, result.returncode, result.stdout,
                 result.stderr))
        return result

    def python(self, node, code, *args, check=True, timeout=120):
        return self.run(node, "python3", "-c", code, *args, check=check,
                        timeout=timeout)

    @staticmethod
    def fqdn(index):
        return "node%d.%s" % (index, DOMAIN)


@pytest.fixture(scope="session")
def vcluster3():
    reason = _missing_prerequisites()
    if reason:
        pytest.skip(reason)
    state_dir = tempfile.mkdtemp(prefix="gnt-ct-")
    os.rmdir(state_dir)
    cluster = VirtualCluster(state_dir, PREFIX)
    cluster.vcluster("up", "3", "--force")
    yield cluster
    cluster.vcluster("down", "--force", check=False)


@pytest.fixture(scope="session")
def cluster(vcluster3):
    """An initialised 3-node cluster: node1 master, node2/3 added."""
    vcluster3.run("node1", *INIT_ARGS, timeout=180)
    for index in (2, 3):
        vcluster3.run("node1", "gnt-node", "add", vcluster3.fqdn(index),
                      timeout=180)
    return vcluster3


@pytest.fixture(scope="module")
def noop_cluster(cluster):
    """The shared cluster with the no-op OS on every node; the instances
    a module leaves are removed at its end, and the OS with them."""
    for index in (1, 2, 3):
        cluster.run("node%d" % index, "sh", "-c", NOOP_SETUP)
    yield cluster
    names = cluster.run("node1", "gnt-instance", "list", "--no-headers",
                        "-o", "name").stdout.split()
    for name in names:
        cluster.run("node1", "gnt-instance", "remove", "-f",
                    "--shutdown-timeout", "5", name, check=False,
                    timeout=180)
    for index in (1, 2, 3):
        cluster.run("node%d" % index, "rm", "-rf", NOOP_OS, check=False)
