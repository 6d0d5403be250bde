"""Real (root-only) tests of tools/vcluster.

One 3-node cluster is built per module in a private state dir with the
namespace prefix ``vct`` so that it can coexist with a cluster someone
else runs under the default prefix in /tmp/gnt-vcluster.  The last test
tears it down and checks that nothing is left behind.
"""

import os
import shutil
import subprocess
import tempfile
import time

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
VCLUSTER = os.path.join(TOP, "tools", "vcluster")
PREFIX = "vct"
NODES = 3

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0,
                       reason="vcluster needs root (network namespaces)"),
    pytest.mark.skipif(
        not all(shutil.which(t) for t in ("ip", "nsenter", "unshare",
                                          "ssh", "ssh-keygen"))
        or not os.path.exists("/usr/sbin/sshd"),
        reason="needs iproute2, util-linux, openssh-client and -server"),
]


def vc(cl, *args, **kwargs):
    """Run a vcluster subcommand against the test cluster."""
    sub, rest = args[0], args[1:]
    argv = [VCLUSTER, sub, "--dir", cl["dir"], "--prefix", PREFIX] + list(rest)
    kwargs.setdefault("timeout", 60)
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    kwargs.setdefault("universal_newlines", True)
    return subprocess.run(argv, **kwargs)


def node_exec(cl, node, *cmd, **kwargs):
    return vc(cl, "exec", node, *cmd, **kwargs)


def netns_names():
    out = subprocess.run(["ip", "netns", "list"], stdout=subprocess.PIPE,
                         universal_newlines=True, check=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def cl():
    tmp = tempfile.mkdtemp(prefix="vct-test-")
    info = {"dir": os.path.join(tmp, "state")}
    start = time.time()
    # --force: clean up namespaces left by an aborted earlier run
    res = vc(info, "up", str(NODES), "--force")
    assert res.returncode == 0, res.stderr
    info["up_seconds"] = time.time() - start
    yield info
    vc(info, "down")
    shutil.rmtree(tmp, ignore_errors=True)


def test_up_is_fast_and_status_alive(cl):
    assert cl["up_seconds"] < 15
    res = vc(cl, "status")
    assert res.returncode == 0, res.stdout + res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) == NODES
    for i, line in enumerate(lines, 1):
        fields = line.split()
        assert fields[:3] == ["node%d.gnt.test" % i, "%s-node%d" % (PREFIX, i),
                              "198.51.100.%d" % (10 + i)]
        assert line.count("alive") == 2


def test_nodes_and_ip(cl):
    assert vc(cl, "nodes").stdout.split() == [
        "node%d.gnt.test" % i for i in range(1, NODES + 1)]
    for name in ("node2", "node2.gnt.test", "2"):
        assert vc(cl, "ip", name).stdout.strip() == "198.51.100.12"
    assert vc(cl, "ip", "node9").returncode == 1


def test_namespaces_exist(cl):
    names = netns_names()
    for ns in ["%s-sw" % PREFIX] + ["%s-node%d" % (PREFIX, i)
                                    for i in range(1, NODES + 1)]:
        assert ns in names


def test_hostname(cl):
    for node in ("node1", "node1.gnt.test", "1"):
        res = node_exec(cl, node, "hostname")
        assert res.returncode == 0, res.stderr
        assert res.stdout.strip() == "node1.gnt.test"
    assert node_exec(cl, "node3", "hostname").stdout.strip() == \
        "node3.gnt.test"


def test_node_network_layout(cl):
    out = node_exec(cl, "node1", "ip", "-o", "-4", "addr", "show",
                    "dev", "br0").stdout
    assert "198.51.100.11/24" in out
    out = node_exec(cl, "node1", "ip", "-o", "link", "show", "eth0").stdout
    assert "master br0" in out
    routes = node_exec(cl, "node1", "ip", "route").stdout
    assert "default" not in routes


@pytest.mark.skipif(not shutil.which("ping"), reason="ping not installed")
def test_ping_between_nodes(cl):
    res = node_exec(cl, "node1", "ping", "-c1", "-W2", "198.51.100.12")
    assert res.returncode == 0, res.stdout + res.stderr


def test_hosts_resolution(cl):
    res = node_exec(cl, "node2", "getent", "hosts", "node3.gnt.test")
    assert res.returncode == 0
    assert res.stdout.split()[0] == "198.51.100.13"
    res = node_exec(cl, "node2", "getent", "hosts", "cluster.gnt.test")
    assert res.stdout.split()[0] == "198.51.100.100"
    res = node_exec(cl, "node1", "getent", "hosts", "node3")
    assert res.stdout.split()[0] == "198.51.100.13"


def test_bind_mounts_are_private(cl):
    name = "vct-probe-%d" % os.getpid()
    path = "/var/lib/ganeti/" + name
    res = node_exec(cl, "node1", "sh", "-c", "echo hello > " + path)
    assert res.returncode == 0, res.stderr
    assert node_exec(cl, "node1", "cat", path).stdout == "hello\n"
    assert node_exec(cl, "node2", "test", "-e", path).returncode == 1
    assert not os.path.exists(path)
    with open(os.path.join(cl["dir"], "node1", "root", "var", "lib",
                           "ganeti", name)) as f:
        assert f.read() == "hello\n"
    # each node's /root/.ssh is its own too
    assert node_exec(cl, "node2", "test", "-f",
                     "/root/.ssh/id_rsa").returncode == 0


def test_shared_storage_is_shared(cl):
    """/srv/ganeti/shared-file-storage is one directory for all nodes,
    like the NFS export sharedfile disks live on."""
    path = "/srv/ganeti/shared-file-storage/vct-shared-%d" % os.getpid()
    res = node_exec(cl, "node1", "sh", "-c", "echo shared > " + path)
    assert res.returncode == 0, res.stderr
    assert node_exec(cl, "node2", "cat", path).stdout == "shared\n"
    # while the rest of /srv/ganeti stays private
    assert node_exec(cl, "node1", "touch", "/srv/ganeti/private-x"
                     ).returncode == 0
    assert node_exec(cl, "node2", "test", "-e", "/srv/ganeti/private-x"
                     ).returncode == 1


def test_ssh_between_nodes(cl):
    res = node_exec(cl, "node1", "ssh", "-o", "BatchMode=yes",
                    "-o", "StrictHostKeyChecking=yes",
                    "-o", "ConnectTimeout=10",
                    "root@node2.gnt.test", "hostname")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "node2.gnt.test"
    # short name and address are in known_hosts as well
    for target in ("node3", "198.51.100.13"):
        res = node_exec(cl, "node1", "ssh", "-o", "BatchMode=yes",
                        "-o", "StrictHostKeyChecking=yes", target,
                        "hostname")
        assert res.returncode == 0, res.stderr
        assert res.stdout.strip() == "node3.gnt.test"


def test_ssh_session_environment(cl):
    res = node_exec(cl, "node2", "ssh", "-o", "BatchMode=yes",
                    "-o", "StrictHostKeyChecking=yes", "node1",
                    'echo "$PATH"; echo "$PYTHONPATH"')
    assert res.returncode == 0, res.stderr
    path, pythonpath = res.stdout.splitlines()[:2]
    assert os.path.join(TOP, "scripts") in path.split(":")
    assert pythonpath == TOP


def test_exec_environment(cl):
    res = node_exec(cl, "node1", "sh", "-c",
                    'echo "$PATH|$PYTHONPATH|$HOME"')
    path, pythonpath, home = res.stdout.strip().split("|")
    assert path.split(":")[:4] == [os.path.join(TOP, d) for d in (
        ".venv/bin", "scripts", "daemons", "tools")]
    assert pythonpath == TOP
    assert home == "/root"


def test_host_has_no_test_network(cl):
    addrs = subprocess.run(["ip", "-4", "addr"], stdout=subprocess.PIPE,
                           universal_newlines=True, check=True).stdout
    assert "198.51.100." not in addrs
    routes = subprocess.run(["ip", "route"], stdout=subprocess.PIPE,
                            universal_newlines=True, check=True).stdout
    assert "198.51.100" not in routes
    links = subprocess.run(["ip", "-o", "link"], stdout=subprocess.PIPE,
                           universal_newlines=True, check=True).stdout
    assert "br-%s" % PREFIX not in links


def test_exit_status_passes_through(cl):
    assert node_exec(cl, "node1", "sh", "-c", "exit 7").returncode == 7
    assert node_exec(cl, "node1", "true").returncode == 0


def test_stdin_passes_through(cl):
    res = node_exec(cl, "node2", "cat", input="line one\nline two\n")
    assert res.returncode == 0
    assert res.stdout == "line one\nline two\n"


def test_up_refuses_when_already_up(cl):
    res = vc(cl, "up", "2")
    assert res.returncode == 1
    assert "already up" in res.stderr
    assert vc(cl, "status").returncode == 0


def test_down_cleans_everything(cl):
    # a process started later inside a node must be killed by 'down'
    bg = subprocess.Popen([VCLUSTER, "exec", "--dir", cl["dir"], "node2",
                           "sleep", "1000"], stdin=subprocess.DEVNULL,
                          start_new_session=True)
    time.sleep(0.5)
    assert bg.poll() is None
    res = vc(cl, "down")
    assert res.returncode == 0, res.stderr
    assert bg.wait(timeout=10) != 0
    assert not [n for n in netns_names() if n.startswith(PREFIX + "-")]
    assert not os.path.exists(cl["dir"])
    assert not any(os.path.exists("/etc/netns/%s-node%d" % (PREFIX, i))
                   for i in range(1, NODES + 1))
    assert vc(cl, "status").returncode == 1
    assert vc(cl, "down").returncode == 0
