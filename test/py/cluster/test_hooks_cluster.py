"""Hooks on a real cluster: scripts in /etc/ganeti/hooks on the nodes, run
by noded through the hooks_runner RPC for jobs of the real masterd.

Pinned: a failing pre hook stops the job with Ganeti's error text and
changes nothing; post hooks see the GANETI_* environment (base keys,
object keys, GANETI_POST_* copies) on the nodes the LU names; scripts with
invalid names or without the executable bit are skipped; the
config-update hooks follow a config change; ``gnt-cluster verify``
reports a failing cluster-verify post hook. Every test removes its
scripts (and nothing else) at the end.
"""

import json
import re
import shlex

import pytest

MASTER = "node1.gnt.test"
NODE3 = "node3.gnt.test"
CLUSTER = "cluster.gnt.test"
HOOKS_DIR = "/etc/ganeti/hooks"
DUMP_DIR = "/var/log/ganeti"   # private to each node


class Hooks:
    """Installs hook scripts on nodes and removes exactly those again."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.installed = []   # (node, path)

    def add(self, node, hpath, phase, name, body, mode="755"):
        hdir = "%s/%s-%s.d" % (HOOKS_DIR, hpath, phase)
        path = "%s/%s" % (hdir, name)
        self.cluster.run(node, "sh", "-c", "mkdir -p %s && cat > %s &&"
                         " chmod %s %s" % (hdir, path, mode, path),
                         input="#!/bin/sh\n" + body)
        self.installed.append((node, path))
        return path

    def env_dump(self, node, hpath, phase, name="50-dump"):
        """A hook writing the environment it was given to a file (read
        from /proc: the shell drops names with dots, GANETI_NODE_TAGS_<n>)."""
        out = "%s/hooktest-%s-%s.env" % (DUMP_DIR, hpath, phase)
        self.add(node, hpath, phase, name,
                 "tr '\\0' '\\n' < /proc/$$/environ | sort > %s\n" % out)
        self.installed.append((node, out))
        return out

    def read_env(self, node, path):
        text = self.cluster.run(node, "cat", path).stdout
        return dict(line.split("=", 1) for line in text.splitlines())

    def exists(self, node, path):
        return self.cluster.run(node, "test", "-e", path,
                                check=False).returncode == 0

    def cleanup(self):
        for node, path in reversed(self.installed):
            self.cluster.run(node, "rm", "-f", path, check=False)
            if path.startswith(HOOKS_DIR + "/"):
                # the directory only if our scripts were all it held
                self.cluster.run(node, "sh", "-c", "rmdir %s 2>/dev/null ||"
                                 " true" % shlex.quote(path.rsplit("/", 1)[0]),
                                 check=False)


@pytest.fixture
def hooks(cluster):
    installed = Hooks(cluster)
    try:
        yield installed
    finally:
        installed.cleanup()


def _untimed(line):
    """A job log line without its ctime prefix."""
    return re.sub(r"^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} ", "",
                  line)


def config_value(cluster, *keys):
    data = json.loads(cluster.run("node1", "cat",
                                  "/var/lib/ganeti/config.data").stdout)
    for key in keys:
        data = data[key]
    return data


def test_failing_pre_hook_stops_the_job(cluster, hooks):
    pool = config_value(cluster, "cluster", "candidate_pool_size")
    hooks.add("node1", "cluster-modify", "pre", "10-refuse",
              "echo refused by policy\nexit 1\n")
    hooks.add("node1", "cluster-modify", "pre", "20-quiet", "exit 3\n")
    post = hooks.env_dump("node1", "cluster-modify", "post")
    serial = config_value(cluster, "serial_no")
    result = cluster.run("node1", "gnt-cluster", "modify",
                         "--candidate-pool-size", str(pool + 3), check=False)
    assert result.returncode == 1, result
    assert result.stderr.endswith(
        "Failure: hooks execution failed:\n"
        "  node: node1.gnt.test, script: cluster-modify-pre.d/10-refuse,"
        " output: refused by policy\n"
        "  node: node1.gnt.test, script: cluster-modify-pre.d/20-quiet"
        " (no output)\n"), result.stderr
    assert config_value(cluster, "serial_no") == serial
    assert config_value(cluster, "cluster", "candidate_pool_size") == pool
    assert not hooks.exists("node1", post)


def test_pre_hook_failing_on_one_target_node(cluster, hooks):
    """node-modify runs its hooks on the master and the node itself; only
    the node that failed is named."""
    hooks.add("node3", "node-modify", "pre", "10-deny",
              "echo \"node $GANETI_OP_TARGET is frozen\"\nexit 1\n")
    hooks.add("node1", "node-modify", "pre", "10-deny", "exit 0\n")
    serial = config_value(cluster, "serial_no")
    result = cluster.run("node1", "gnt-node", "modify", "--vm-capable=yes",
                         NODE3, check=False)
    assert result.returncode == 1, result
    assert result.stderr.endswith(
        "Failure: hooks execution failed:\n"
        "  node: node3.gnt.test, script: node-modify-pre.d/10-deny,"
        " output: node node3.gnt.test is frozen\n"), result.stderr
    assert config_value(cluster, "serial_no") == serial


def test_post_hook_environment(cluster, hooks):
    pool = config_value(cluster, "cluster", "candidate_pool_size")
    pre = hooks.env_dump("node1", "cluster-modify", "pre")
    post = hooks.env_dump("node1", "cluster-modify", "post")
    cfgupd = hooks.env_dump("node1", "config-update", "post")
    marker = "%s/hooktest-bad-name-ran" % DUMP_DIR
    hooks.installed.append(("node1", marker))
    hooks.add("node1", "cluster-modify", "post", "bad.name",
              "touch %s\n" % marker)
    hooks.add("node1", "cluster-modify", "post", "60-noexec",
              "touch %s\n" % marker, mode="644")
    # the same value: a real job and config write, no state change
    cluster.run("node1", "gnt-cluster", "modify", "--candidate-pool-size",
                str(pool))
    common = {
        "GANETI_HOOKS_VERSION": "2",
        "GANETI_OP_CODE": "OP_CLUSTER_SET_PARAMS",
        "GANETI_HOOKS_PATH": "cluster-modify",
        "GANETI_OBJECT_TYPE": "CLUSTER",
        "GANETI_CLUSTER": CLUSTER,
        "GANETI_MASTER": MASTER,
        "GANETI_DATA_DIR": "/var/lib/ganeti",
        "GANETI_OP_TARGET": CLUSTER,
        "GANETI_NEW_VG_NAME": "None",
        "PATH": "/sbin:/bin:/usr/sbin:/usr/bin",
    }
    assert hooks.read_env("node1", pre) == dict(
        common, GANETI_HOOKS_PHASE="pre")
    assert hooks.read_env("node1", post) == dict(
        common, GANETI_HOOKS_PHASE="post", GANETI_POST_OP_TARGET=CLUSTER,
        GANETI_POST_NEW_VG_NAME="None")
    assert not hooks.exists("node1", marker)
    update = hooks.read_env("node1", cfgupd)
    assert update["GANETI_HOOKS_PATH"] == "config-update"
    assert update["GANETI_HOOKS_PHASE"] == "post"
    assert update["GANETI_OP_CODE"] == "OP_CLUSTER_SET_PARAMS"
    assert update["GANETI_OP_TARGET"] == CLUSTER
    assert not [key for key in update if key.startswith("GANETI_POST_")]


def test_post_hooks_run_on_the_nodes_the_lu_names(cluster, hooks):
    dumps = dict((node, hooks.env_dump(node, "node-modify", "post"))
                 for node in ("node1", "node2", "node3"))
    hooks.add("node3", "node-modify", "post", "90-fail",
              "echo post trouble\nexit 1\n")
    result = cluster.run("node1", "gnt-node", "modify", "--vm-capable=yes",
                         NODE3)
    assert ("WARNING: On node3.gnt.test script node-modify-post.d/90-fail"
            " failed, output: post trouble") in result.stdout, result.stdout
    assert not hooks.exists("node2", dumps["node2"])
    for node in ("node1", "node3"):
        env = hooks.read_env(node, dumps[node])
        assert env["GANETI_HOOKS_PHASE"] == "post"
        assert env["GANETI_OBJECT_TYPE"] == "NODE"
        assert env["GANETI_OP_CODE"] == "OP_NODE_SET_PARAMS"
        assert env["GANETI_OP_TARGET"] == NODE3
        assert env["GANETI_POST_OP_TARGET"] == NODE3
        assert env["GANETI_VM_CAPABLE"] == "True"
        assert env["GANETI_POST_VM_CAPABLE"] == "True"
        assert env["GANETI_MASTER_CANDIDATE"] == "None"
        assert env["GANETI_POST_OFFLINE"] == "None"


def test_verify_reports_a_failing_hook(cluster, hooks):
    hooks.add("node2", "cluster-verify", "post", "10-check",
              "echo disk check failed\necho second line\nexit 1\n")
    dump = hooks.env_dump("node3", "cluster-verify", "post")
    result = cluster.run("node1", "gnt-cluster", "verify", check=False,
                         timeout=180)
    assert result.returncode == 1, result
    lines = [_untimed(line) for line in result.stdout.splitlines()]
    assert "* Hooks Results" in lines, result.stdout
    start = lines.index("* Hooks Results")
    assert lines[start + 1:start + 4] == [
        "  - ERROR: node node2.gnt.test: Script"
        " cluster-verify-post.d/10-check failed, output:",
        "      disk check failed",
        "      second line",
    ], result.stdout
    env = hooks.read_env("node3", dump)
    assert env["GANETI_OP_CODE"] == "OP_CLUSTER_VERIFY_GROUP"
    assert env["GANETI_POST_CLUSTER_TAGS"] == ""
    assert env["GANETI_NODE_TAGS_node3.gnt.test"] == ""
    hooks.cleanup()
    hooks.installed = []
    again = cluster.run("node1", "gnt-cluster", "verify", check=False,
                        timeout=180)
    assert "* Hooks Results" in again.stdout
    assert "Script cluster-verify-post.d" not in again.stdout
