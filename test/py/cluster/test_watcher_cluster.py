"""ganeti-watcher with real daemons: pause, daemon restarts, archiving."""

import re
import time


def pid_of(cluster, node, daemon):
    result = cluster.run(node, "cat", "/var/run/ganeti/%s.pid" % daemon,
                         check=False)
    return result.stdout.strip()


def test_watcher_respects_pause(cluster):
    cluster.run("node1", "gnt-cluster", "watcher", "pause", "10m")
    try:
        old = pid_of(cluster, "node2", "ganeti-noded")
        cluster.run("node2", "daemon-util", "stop", "ganeti-noded")
        cluster.run("node2", "ganeti-watcher")
        assert cluster.run("node2", "daemon-util", "check", "ganeti-noded",
                           check=False).returncode != 0
        log = cluster.run("node2", "cat", "/var/log/ganeti/watcher.log").stdout
        assert "paused until" in log
        # --ignore-pause repairs anyway
        cluster.run("node2", "ganeti-watcher", "--ignore-pause")
        assert pid_of(cluster, "node2", "ganeti-noded") not in ("", old)
    finally:
        cluster.run("node1", "gnt-cluster", "watcher", "continue")
        cluster.run("node2", "daemon-util", "start", "ganeti-noded")


def test_watcher_restarts_dead_daemons(cluster):
    cluster.run("node3", "daemon-util", "stop", "ganeti-noded")
    cluster.run("node3", "ganeti-watcher")
    cluster.run("node3", "daemon-util", "check", "ganeti-noded")
    old = pid_of(cluster, "node1", "ganeti-masterd")
    cluster.run("node1", "kill", "-9", old)
    time.sleep(0.3)
    cluster.run("node1", "ganeti-watcher")
    new = pid_of(cluster, "node1", "ganeti-masterd")
    assert new and new != old
    cluster.run("node1", "gnt-cluster", "master-ping")
    # the non-master never starts masterd
    assert cluster.run("node2", "daemon-util", "check", "ganeti-masterd",
                       check=False).returncode != 0


def test_watcher_archives_old_jobs_and_runs_hooks(cluster):
    out = cluster.run("node1", "gnt-debug", "delay", "--submit", "0.01")
    job_id = int(re.search(r"JobID: (\d+)", out.stdout + out.stderr).group(1))
    cluster.run("node1", "gnt-job", "wait", str(job_id))
    cluster.run("node1", "sh", "-c",
                "mkdir -p /etc/ganeti/hooks/watcher && printf '#!/bin/sh\\n"
                "date > /tmp/watcher-hook-ran\\n' > "
                "/etc/ganeti/hooks/watcher/mark && chmod +x "
                "/etc/ganeti/hooks/watcher/mark && rm -f /tmp/watcher-hook-ran")
    try:
        cluster.run("node1", "ganeti-watcher", "--job-age", "0")
        cluster.run("node1", "test", "-f", "/tmp/watcher-hook-ran")
    finally:
        cluster.run("node1", "rm", "-rf", "/etc/ganeti/hooks/watcher")
    archived = cluster.run("node1", "gnt-job", "list", "--archived",
                           "--no-headers", "-o", "archived",
                           str(job_id)).stdout.strip()
    assert archived == "Y"
    status = cluster.run("node1", "cat", "/var/run/ganeti/instance-status",
                         check=False)
    assert status.returncode == 0
