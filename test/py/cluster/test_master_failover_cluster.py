"""The master role with real daemons: candidate pool upkeep, replication
of config and job queue to candidates, master failover with and without
voting, the master IP (built-in and external script), and an old master
that comes back after being cut off.

Failover changes too much to share the session cluster, so this module
builds its own 3-node cluster (prefix ``gmf``). The tests run in order
and each leaves the cluster as it found it: node1 master with the master
IP, every link up, all three nodes master candidates.
"""

import os
import re
import shutil
import tempfile
import time

import pytest

from conftest import INIT_ARGS, VirtualCluster, _missing_prerequisites
from ganeti import master_failover as mf

PREFIX = "gmf"
MASTER_IP = "198.51.100.100"
N1, N2, N3 = ("node%d.gnt.test" % i for i in (1, 2, 3))
NODES = {"node1": N1, "node2": N2, "node3": N3}
MIP_LOG = "/var/log/ganeti/mip-script.log"
MIP_SCRIPT = """#!/bin/sh
# Test stand-in for a site's master IP script: log, then do the work.
echo "$1 $MASTER_IP $MASTER_NETMASK $MASTER_NETDEV $CLUSTER_IP_VERSION" \\
    >> %s
case "$1" in
start) ip address add "$MASTER_IP/$MASTER_NETMASK" dev "$MASTER_NETDEV" \\
         label "$MASTER_NETDEV:0" 2>/dev/null || true ;;
stop) ip address del "$MASTER_IP/$MASTER_NETMASK" dev "$MASTER_NETDEV" \\
         2>/dev/null || true ;;
esac
""" % MIP_LOG


@pytest.fixture(scope="module")
def gmf():
    reason = _missing_prerequisites()
    if reason:
        pytest.skip(reason)
    top = tempfile.mkdtemp(prefix="gnt-gmf-")
    cluster = VirtualCluster(os.path.join(top, "state"), PREFIX)
    cluster.vcluster("up", "3", "--force")
    try:
        cluster.run("node1", *INIT_ARGS, timeout=180)
        for index in (2, 3):
            cluster.run("node1", "gnt-node", "add", cluster.fqdn(index),
                        timeout=180)
        yield cluster
    finally:
        cluster.vcluster("down", "--force", check=False)
        shutil.rmtree(top, ignore_errors=True)


# --- helpers -----------------------------------------------------------

def wait_until(what, check, timeout=30.0, interval=0.2):
    """Poll ``check()`` until it returns a true value; fail with ``what``."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %.0f s waiting for %s (last: %r)"
                         % (timeout, what, last))


def getmaster(cluster, node):
    return cluster.run(node, "gnt-cluster", "getmaster").stdout.strip()


def ip_holders(cluster, nodes=NODES):
    """Nodes that have the master IP on br0 (as a br0:0 label)."""
    holders = []
    for node in nodes:
        out = cluster.run(node, "ip", "-o", "-4", "addr", "show", "dev",
                          "br0").stdout
        for line in out.splitlines():
            if " %s/32 " % MASTER_IP in line:
                assert "br0:0" in line, line
                holders.append(node)
    return holders


def link(cluster, node, up):
    """Cut ``node`` off the switch (its eth0 is br0's only port)."""
    cluster.run(node, "ip", "link", "set", "eth0", "up" if up else "down")


def crash(cluster, node):
    """What a node that lost power leaves: no daemons, no master IP."""
    cluster.run(node, "daemon-util", "stop-all")
    cluster.run(node, "ip", "addr", "del", "%s/32" % MASTER_IP, "dev", "br0",
                check=False)


def masterd_running(cluster, node):
    return cluster.run(node, "daemon-util", "check", "ganeti-masterd",
                       check=False).returncode == 0


def job_ids(cluster, node):
    out = cluster.run(node, "gnt-job", "list", "--no-headers", "-o",
                      "id").stdout
    return [int(x) for x in out.split()]


def queue_files(cluster, node):
    out = cluster.run(node, "ls", "/var/lib/ganeti/queue").stdout
    return set(out.split())


def replicated(cluster, master, nodes):
    """Wait until ``nodes`` hold every job file of ``master``'s queue
    (replication is asynchronous: a master that dies loses the lag)."""
    ids = job_ids(cluster, master)
    wanted = set("job-%d" % job for job in ids)
    for node in nodes:
        wait_until("the job queue on %s" % node,
                   lambda node=node: wanted <= queue_files(cluster, node))
    return ids


def run_delay_job(cluster, node):
    """Submit a short job on ``node``'s masterd; returns its id."""
    result = cluster.run(node, "gnt-debug", "delay", "--submit", "0.01")
    out = result.stdout + result.stderr
    match = re.search(r"JobID: (\d+)", out)
    assert match, out
    job = int(match.group(1))
    cluster.run(node, "gnt-job", "wait", str(job))
    return job


def config_serial(cluster, node):
    code = ("from ganeti.config import store\n"
            "d = store.load_config_file('/var/lib/ganeti/config.data')\n"
            "print(d.serial_no, d.nodes[d.cluster.master_node].name)\n")
    serial, master = cluster.python(node, code).stdout.split()
    return int(serial), master


def roles(cluster):
    out = cluster.run("node1", "gnt-node", "list", "--no-headers",
                      "--separator=|", "-o", "name,role").stdout
    return dict(line.split("|") for line in out.splitlines())


def failover(cluster, node, *args, check=True):
    start = time.monotonic()
    result = cluster.run(node, "gnt-cluster", "master-failover", *args,
                         check=check, timeout=240)
    return result, time.monotonic() - start


def assert_master_everywhere(cluster, master, nodes=NODES):
    for node in nodes:
        assert getmaster(cluster, node) == NODES[master], node
    assert ip_holders(cluster, nodes) == [master]
    assert masterd_running(cluster, master)


# --- tests -------------------------------------------------------------

def test_config_and_jobs_are_replicated_to_candidates(gmf):
    assert roles(gmf) == {N1: "M", N2: "C", N3: "C"}
    job = run_delay_job(gmf, "node1")
    for node in ("node2", "node3"):
        wait_until("job-%d on %s" % (job, node),
                   lambda node=node: "job-%d" % job in queue_files(gmf, node))
        assert config_serial(gmf, node) == config_serial(gmf, "node1")


def test_candidate_pool_is_kept(gmf):
    run = gmf.run
    try:
        # Lowering the pool size demotes nobody (as Ganeti).
        run("node1", "gnt-cluster", "modify", "-C", "2")
        assert roles(gmf) == {N1: "M", N2: "C", N3: "C"}
        # An offline node leaves the pool; back online, the pool (2) is
        # full, so it stays a regular node.
        run("node1", "gnt-node", "modify", "-O", "yes", N3)
        assert roles(gmf)[N3] == "O"
        run("node1", "gnt-node", "modify", "-O", "no", N3)
        assert roles(gmf)[N3] == "R"
        ss_mc = run("node2", "cat", "/var/lib/ganeti/ssconf_master_candidates")
        assert ss_mc.stdout.split() == [N1, N2]
        # Only candidates may take the master role.
        result, _ = failover(gmf, "node3", check=False)
        assert result.returncode == 1
        assert ("This node is not among the nodes marked as master"
                " candidates. Only these nodes can become masters. Current"
                " list of master candidates is:\n%s" % N2) in result.stderr
        assert getmaster(gmf, "node3") == N1
        # Raising the pool size promotes; the new candidate gets the
        # configuration and the whole job queue.
        job = run_delay_job(gmf, "node1")
        run("node1", "gnt-cluster", "modify", "-C", "3")
        assert roles(gmf)[N3] == "C"
        assert config_serial(gmf, "node3") == config_serial(gmf, "node1")
        assert job in replicated(gmf, "node1", ["node3"])
        # A drained candidate is demoted (its config.data removed), and
        # promoted again when undrained.
        run("node1", "gnt-node", "modify", "-D", "yes", N2)
        assert roles(gmf)[N2] == "D"
        assert run("node2", "test", "-e", "/var/lib/ganeti/config.data",
                   check=False).returncode == 1
        run("node1", "gnt-node", "modify", "-D", "no", N2)
        assert roles(gmf)[N2] == "C"
        assert config_serial(gmf, "node2") == config_serial(gmf, "node1")
        # Removing a candidate promotes nobody here (no eligible node is
        # left); adding a node back fills the pool again.
        run("node1", "gnt-node", "remove", N3, timeout=180)
        assert roles(gmf) == {N1: "M", N2: "C"}
        run("node1", "gnt-node", "add", N3, timeout=180)
        assert roles(gmf) == {N1: "M", N2: "C", N3: "C"}
        replicated(gmf, "node1", ["node3"])
    finally:
        run("node1", "gnt-cluster", "modify", "-C", "10", check=False)
    assert roles(gmf) == {N1: "M", N2: "C", N3: "C"}


def test_master_ip_commands(gmf):
    assert ip_holders(gmf) == ["node1"]
    gmf.run("node1", "gnt-cluster", "deactivate-master-ip", "--yes")
    assert ip_holders(gmf) == []
    gmf.run("node1", "gnt-cluster", "activate-master-ip")
    assert ip_holders(gmf) == ["node1"]


def test_failover_and_back(gmf, record_property):
    result, _ = failover(gmf, "node1", check=False)
    assert result.returncode == 1
    assert ("This commands must be run on the node where you want the new"
            " master to be. %s is already the master" % N1) in result.stderr
    before = replicated(gmf, "node1", ["node2"])
    result, seconds = failover(gmf, "node2")
    record_property("failover_seconds", round(seconds, 2))
    print("master-failover node1 -> node2: %.2f s" % seconds)
    assert result.stderr == ""
    assert_master_everywhere(gmf, "node2")
    assert not masterd_running(gmf, "node1")
    assert config_serial(gmf, "node3")[1] == N2
    # The new master's masterd loaded the replicated queue.
    assert set(before) <= set(job_ids(gmf, "node2"))
    job = run_delay_job(gmf, "node2")
    assert job > max(before)
    wait_until("job-%d on node1" % job,
               lambda: "job-%d" % job in queue_files(gmf, "node1"))
    # On the old master the CLI points to the new one.
    other = gmf.run("node1", "gnt-job", "list", check=False)
    assert other.returncode != 0
    assert "please connect to node '%s'" % N2 in other.stderr
    result, seconds = failover(gmf, "node1")
    print("master-failover node2 -> node1: %.2f s" % seconds)
    assert_master_everywhere(gmf, "node1")
    assert job in job_ids(gmf, "node1")


def test_failover_with_external_mip_script(gmf):
    for node in NODES:
        gmf.run(node, "sh", "-c", "mkdir -p /etc/ganeti/scripts && cat >"
                " /etc/ganeti/scripts/master-ip-setup && chmod 755"
                " /etc/ganeti/scripts/master-ip-setup && rm -f %s" % MIP_LOG,
                input=MIP_SCRIPT)
    gmf.run("node1", "gnt-cluster", "modify", "--use-external-mip-script",
            "yes")
    try:
        failover(gmf, "node2")
        assert_master_everywhere(gmf, "node2")
        line = "%s 32 br0 4" % MASTER_IP
        assert gmf.run("node1", "cat", MIP_LOG).stdout.splitlines() == \
            ["stop " + line]
        assert gmf.run("node2", "cat", MIP_LOG).stdout.splitlines() == \
            ["start " + line]
        failover(gmf, "node1")
        assert_master_everywhere(gmf, "node1")
        assert gmf.run("node1", "cat", MIP_LOG).stdout.splitlines() == \
            ["stop " + line, "start " + line]
    finally:
        gmf.run("node1", "gnt-cluster", "modify",
                "--use-external-mip-script", "no", check=False)
        for node in NODES:
            gmf.run(node, "rm", "-f", "/etc/ganeti/scripts/master-ip-setup",
                    check=False)


def test_old_master_cut_off_comes_back(gmf, record_property):
    before = replicated(gmf, "node1", ["node2", "node3"])
    link(gmf, "node1", False)
    try:
        # node2 and node3 are a majority: voting works without node1.
        result, seconds = failover(gmf, "node2")
        record_property("partitioned_failover_seconds", round(seconds, 2))
        print("master-failover with the old master cut off: %.2f s" % seconds)
        assert "Could not disable the master role on the old master %s" \
            % N1 in result.stderr
        assert_master_everywhere(gmf, "node2", nodes=("node2", "node3"))
        assert set(before) <= set(job_ids(gmf, "node2"))
        during = [run_delay_job(gmf, "node2") for _ in range(2)]
        gmf.run("node2", "gnt-cluster", "add-tags", "while-node1-away")
        # Cut off, the old master still believes it is the master.
        assert getmaster(gmf, "node1") == N1
        assert masterd_running(gmf, "node1")
        assert ip_holders(gmf, ["node1"]) == ["node1"]
    finally:
        link(gmf, "node1", True)
    # Back on the network, it hears the others name node2: its masterd
    # drops the master IP and stops.
    start = time.monotonic()
    wait_until("node1's masterd to step down",
               lambda: not masterd_running(gmf, "node1"), timeout=60)
    print("old master stepped down %.1f s after coming back" %
          (time.monotonic() - start))
    assert ip_holders(gmf) == ["node2"]
    # Restarted (as after a reboot), masterd refuses: the vote says node2.
    result = gmf.run("node1", "daemon-util", "start-all", check=False)
    assert result.returncode != 0
    assert ("It seems we are not the master (top-voted node is %s with 2"
            " out of 2 votes)" % N2) in result.stderr
    assert not masterd_running(gmf, "node1")
    # redist-conf on the new master brings it up to date.
    gmf.run("node2", "gnt-cluster", "redist-conf")
    assert getmaster(gmf, "node1") == N2
    assert config_serial(gmf, "node1") == config_serial(gmf, "node2")
    assert gmf.run("node1", "daemon-util", "start-all").returncode == 0
    assert not masterd_running(gmf, "node1")
    wait_until("the jobs run while node1 was away on node1", lambda: set(
        "job-%d" % j for j in during) <= queue_files(gmf, "node1"),
        timeout=60)
    # And it can take the role back, with the whole history.
    failover(gmf, "node1")
    assert_master_everywhere(gmf, "node1")
    assert set(during) <= set(job_ids(gmf, "node1"))
    tags = gmf.run("node1", "gnt-cluster", "list-tags").stdout.split()
    assert "while-node1-away" in tags
    gmf.run("node1", "gnt-cluster", "remove-tags", "while-node1-away")


def test_no_voting_when_the_majority_is_gone(gmf):
    link(gmf, "node1", False)
    link(gmf, "node3", False)
    try:
        result, _ = failover(gmf, "node2", check=False)
        assert result.returncode == 1
        assert result.stderr.strip() == (
            "Master-failover with voting is only possible if the majority of"
            " nodes are still healthy; use the --no-voting option after"
            " ensuring by other means that you won't end up in a"
            " dual-master scenario. Unhealthy nodes: ['%s', '%s']" % (N1, N3))
        assert getmaster(gmf, "node2") == N1
        # The admin makes sure the old master is really down...
        crash(gmf, "node1")
        result, seconds = failover(gmf, "node2", "--no-voting",
                                   "--yes-do-it")
        print("master-failover --no-voting: %.2f s" % seconds)
        assert result.returncode == 0, result.stderr
        assert "Could not update the configuration of node %s" % N3 in \
            result.stderr
        assert getmaster(gmf, "node2") == N2
        assert masterd_running(gmf, "node2")
        assert MASTER_IP in gmf.run("node2", "ip", "-o", "addr", "show",
                                    "br0").stdout
        run_delay_job(gmf, "node2")
    finally:
        link(gmf, "node1", True)
        link(gmf, "node3", True)
    # node3 missed the change and still names node1, as does node1 once
    # its node daemon is back: a majority for node1. A masterd started
    # with --no-voting overruled that on purpose and keeps the role.
    gmf.run("node1", "daemon-util", "start", "ganeti-noded")
    assert getmaster(gmf, "node3") == N1
    time.sleep(mf.ROLE_CHECK_INTERVAL + 5)
    assert masterd_running(gmf, "node2")
    # The admin's next step: redist-conf tells everybody.
    gmf.run("node2", "gnt-cluster", "redist-conf")
    gmf.run("node1", "daemon-util", "start-all")
    assert_master_everywhere(gmf, "node2")
    failover(gmf, "node1")
    assert_master_everywhere(gmf, "node1")
    assert roles(gmf) == {N1: "M", N2: "C", N3: "C"}
