"""The foundation's gnt-* commands against real daemons."""

import json
import re
import time

import pytest


def node1(cluster, *cmd, **kw):
    return cluster.run("node1", *cmd, **kw)


def submit_delay(cluster, duration="0.01"):
    out = node1(cluster, "gnt-debug", "delay", "--submit", duration)
    match = re.search(r"JobID: (\d+)", out.stdout + out.stderr)
    assert match, out
    return int(match.group(1))


def test_cluster_command_runs_everywhere_master_last(cluster):
    out = node1(cluster, "gnt-cluster", "command", "hostname").stdout
    nodes = re.findall(r"^node: (\S+)$", out, re.M)
    assert sorted(nodes) == [cluster.fqdn(i) for i in (1, 2, 3)]
    assert nodes[-1] == cluster.fqdn(1)
    assert out.count("return code = 0") == 3
    failing = node1(cluster, "gnt-cluster", "command", "-n",
                    cluster.fqdn(2), "exit 3", check=False)
    assert "return code = 3" in failing.stdout


def test_copyfile_reaches_other_nodes(cluster):
    node1(cluster, "sh", "-c", "echo payload-$$ > /tmp/gnt-copyfile-test")
    expected = node1(cluster, "cat", "/tmp/gnt-copyfile-test").stdout
    node1(cluster, "gnt-cluster", "copyfile", "/tmp/gnt-copyfile-test")
    for node in ("node2", "node3"):
        assert cluster.run(node, "cat", "/tmp/gnt-copyfile-test").stdout == \
            expected


def test_job_commands(cluster):
    job_id = submit_delay(cluster, "0.2")
    out = node1(cluster, "gnt-job", "watch", str(job_id)).stdout
    assert out.startswith("Output from job %d follows\n" % job_id)
    node1(cluster, "gnt-job", "wait", str(job_id))
    info = node1(cluster, "gnt-job", "info", str(job_id)).stdout
    assert "- Job ID: %d\n  Status: success\n" % job_id in info
    assert "OP_ID: OP_TEST_DELAY" in info
    listing = node1(cluster, "gnt-job", "list", "--no-headers",
                    "-o", "id,status,summary", str(job_id)).stdout
    assert listing.split() == [str(job_id), "success", "TEST_DELAY(0.2)"]
    missing = node1(cluster, "gnt-job", "info", "999999", check=False)
    assert "Job ID 999999 not found" in missing.stdout + missing.stderr
    node1(cluster, "gnt-job", "archive", str(job_id))
    archived = node1(cluster, "gnt-job", "list", "--archived", "--no-headers",
                     "-o", "id,archived", str(job_id)).stdout
    assert archived.split() == [str(job_id), "Y"]
    cancel = node1(cluster, "gnt-job", "cancel", str(job_id), check=False)
    assert cancel.returncode != 0 or "not found" in cancel.stdout


def test_change_priority_and_autoarchive(cluster):
    node1(cluster, "gnt-cluster", "modify", "--max-running-jobs", "1")
    try:
        blocker = submit_delay(cluster, "2")
        queued = submit_delay(cluster, "0.01")
        out = node1(cluster, "gnt-job", "change-priority", "--priority",
                    "high", str(queued))
        assert "changed" in (out.stdout + out.stderr).lower()
        prio = node1(cluster, "gnt-job", "list", "--no-headers", "-o",
                     "priority", str(queued)).stdout.strip()
        assert prio == "-10"
        node1(cluster, "gnt-job", "wait", str(blocker))
        node1(cluster, "gnt-job", "wait", str(queued))
    finally:
        node1(cluster, "gnt-cluster", "modify", "--max-running-jobs", "20")
    out = node1(cluster, "gnt-job", "autoarchive", "all").stdout
    assert re.match(r"Archived \d+ jobs, \d+ unchecked left", out), out


def test_submit_job_file(cluster):
    ops = [{"OP_ID": "OP_TEST_DELAY", "duration": 0.01},
           {"OP_ID": "OP_TEST_DELAY", "duration": 0.02}]
    cluster.run("node1", "sh", "-c", "cat > /tmp/gnt-ops.json",
                input=json.dumps(ops))
    out = node1(cluster, "gnt-debug", "submit-job", "--job-repeat", "2",
                "/tmp/gnt-ops.json")
    assert out.returncode == 0


def test_queue_drain_and_watcher_pause(cluster):
    node1(cluster, "gnt-cluster", "queue", "drain")
    try:
        assert node1(cluster, "gnt-cluster", "queue", "info").stdout == \
            "The drain flag is set\n"
        refused = node1(cluster, "gnt-debug", "delay", "0.01", check=False)
        assert refused.returncode == 1
        assert "the job queue is marked for drain" in refused.stderr
    finally:
        node1(cluster, "gnt-cluster", "queue", "undrain")
    assert node1(cluster, "gnt-cluster", "queue", "info").stdout == \
        "The drain flag is unset\n"
    node1(cluster, "gnt-cluster", "watcher", "pause", "1h")
    try:
        info = node1(cluster, "gnt-cluster", "watcher", "info").stdout
        assert info.startswith("The watcher is paused until ")
        # every node got the pause file
        for node in ("node2", "node3"):
            assert cluster.run(node, "cat", "/var/lib/ganeti/watcher.pause"
                               ).stdout.strip().isdigit()
    finally:
        node1(cluster, "gnt-cluster", "watcher", "continue")
    assert node1(cluster, "gnt-cluster", "watcher", "info").stdout == \
        "The watcher is not paused.\n"


def test_cluster_tags(cluster):
    node1(cluster, "gnt-cluster", "add-tags", "ct-one", "ct-two")
    try:
        tags = node1(cluster, "gnt-cluster", "list-tags").stdout.split()
        assert {"ct-one", "ct-two"} <= set(tags)
        found = node1(cluster, "gnt-cluster", "search-tags", "^ct-").stdout
        assert "/cluster ct-one" in found
        bad = node1(cluster, "gnt-cluster", "add-tags", "bad tag!",
                    check=False)
        assert bad.returncode == 1
        assert "Failure: invalid tag(s) given:" in bad.stderr
    finally:
        node1(cluster, "gnt-cluster", "remove-tags", "ct-one", "ct-two")
    ssconf = cluster.run("node2", "cat",
                         "/var/lib/ganeti/ssconf_cluster_tags").stdout
    assert "ct-one" not in ssconf


def test_job_files_replicated_to_candidates(cluster):
    job_id = submit_delay(cluster)
    node1(cluster, "gnt-job", "wait", str(job_id))
    master = node1(cluster, "cat", "/var/lib/ganeti/queue/job-%d" %
                   job_id).stdout
    deadline = time.time() + 15
    while True:
        copy = cluster.run("node2", "cat", "/var/lib/ganeti/queue/job-%d" %
                           job_id, check=False)
        if copy.stdout == master or time.time() > deadline:
            break
        time.sleep(0.2)
    assert copy.stdout == master
    # jobs from before node2 joined were copied too
    found = cluster.run("node2", "sh", "-c",
                        "ls /var/lib/ganeti/queue/job-1 "
                        "/var/lib/ganeti/queue/archive/0/job-1",
                        check=False).stdout
    assert "job-1" in found
    serial = node1(cluster, "cat", "/var/lib/ganeti/queue/serial").stdout
    assert cluster.run("node3", "cat",
                       "/var/lib/ganeti/queue/serial").stdout == serial


def test_not_master_and_no_cluster_messages(cluster, vcluster3):
    out = cluster.run("node2", "gnt-job", "list", check=False)
    assert out.returncode == 1
    assert ("This is not the master node, please connect to node '%s' and"
            " rerun the command" % cluster.fqdn(1)) in out.stderr
    assert cluster.run("node2", "gnt-cluster", "getmaster").stdout == \
        cluster.fqdn(1) + "\n"
