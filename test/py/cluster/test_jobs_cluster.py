"""Job queue behaviour with real daemons: parallel jobs, cancel, crash."""

import json
import time

import pytest

SUBMIT_MANY = r"""
import sys, time
from ganeti import luxi
n, duration = int(sys.argv[1]), float(sys.argv[2])
cl = luxi.Client()
res = cl.submit_many_jobs([[{"OP_ID": "OP_TEST_DELAY",
                             "duration": duration}]] * n)
print(" ".join(str(r[1]) for r in res if r[0]))
"""

WAIT_ALL = r"""
import sys, time
from ganeti import luxi
ids = [int(x) for x in sys.argv[1].split()]
cl = luxi.Client()
deadline = time.time() + float(sys.argv[2])
while time.time() < deadline:
    rows = cl.query_jobs(ids, ["id", "status"])
    if all(r[1] in ("success", "error", "canceled") for r in rows):
        break
    time.sleep(0.05)
for r in cl.query_jobs(ids, ["id", "status", "opresult"]):
    print(r[0], r[1], r[2][0] if r[2] else None)
"""


def job_statuses(cluster, ids, timeout=60):
    out = cluster.python("node1", WAIT_ALL, " ".join(map(str, ids)),
                         str(timeout), timeout=timeout + 30).stdout
    rows = {}
    for line in out.splitlines():
        job_id, status, result = line.split(" ", 2)
        rows[int(job_id)] = (status, result)
    return rows


def submit(cluster, count, duration):
    out = cluster.python("node1", SUBMIT_MANY, str(count),
                         str(duration)).stdout
    return [int(x) for x in out.split()]


def test_hundred_parallel_jobs(cluster):
    ids = submit(cluster, 100, 0.01)
    assert len(ids) == 100
    statuses = job_statuses(cluster, ids)
    assert {s for s, _ in statuses.values()} == {"success"}, statuses


def test_cancel_queued_job(cluster):
    cluster.run("node1", "gnt-cluster", "modify", "--max-running-jobs", "1")
    try:
        blocker = submit(cluster, 1, 3)[0]
        queued = submit(cluster, 1, 0.01)[0]
        out = cluster.run("node1", "gnt-job", "cancel", str(queued))
        assert "Job %d canceled" % queued in out.stdout + out.stderr
        statuses = job_statuses(cluster, [blocker, queued])
        assert statuses[queued][0] == "canceled"
        assert statuses[blocker][0] == "success"
    finally:
        cluster.run("node1", "gnt-cluster", "modify", "--max-running-jobs",
                    "20")


def test_masterd_killed_while_jobs_run(cluster):
    cluster.run("node1", "gnt-cluster", "modify", "--max-running-jobs", "2")
    try:
        ids = submit(cluster, 6, 4)
        time.sleep(1.5)  # two are running, four queued
        pid = cluster.run("node1", "cat",
                          "/var/run/ganeti/ganeti-masterd.pid").stdout.strip()
        cluster.run("node1", "kill", "-9", pid)
        time.sleep(0.5)
        cluster.run("node1", "daemon-util", "start", "ganeti-masterd")
        statuses = job_statuses(cluster, ids, timeout=60)
    finally:
        cluster.run("node1", "gnt-cluster", "modify", "--max-running-jobs",
                    "20")
    assert sorted(statuses) == sorted(ids), "a job was lost"
    errors = [i for i, (s, _) in statuses.items() if s == "error"]
    assert len(errors) == 2, statuses
    for job_id in errors:
        assert "Unclean master daemon shutdown" in statuses[job_id][1]
    assert sum(1 for s, _ in statuses.values() if s == "success") == 4
    # the configuration still loads
    data = json.loads(cluster.run("node1", "cat",
                                  "/var/lib/ganeti/config.data").stdout)
    assert data["version"] == 3000000
    cluster.run("node1", "gnt-cluster", "info")


def test_noded_refuses_clients_without_certificate(cluster):
    probe = r"""
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
if len(sys.argv) > 1:
    ctx.load_cert_chain(sys.argv[1])
try:
    with socket.create_connection(("198.51.100.12", 1811), 5) as raw:
        with ctx.wrap_socket(raw) as tls:
            tls.sendall(b"POST /version HTTP/1.1\r\nHost: x\r\n"
                        b"Content-Length: 2\r\n\r\n[]")
            print(tls.recv(4096).decode(errors="replace").split("\r\n")[0])
except (ssl.SSLError, OSError) as err:
    print("refused", type(err).__name__)
"""
    without = cluster.python("node1", probe).stdout
    assert without.startswith("refused"), without
    with_cert = cluster.python("node1", probe,
                               "/var/lib/ganeti/server.pem").stdout
    assert "200" in with_cert, with_cert


def test_bad_luxi_input_keeps_masterd_running(cluster):
    garbage = r"""
import socket
for payload in (b"not json\x03", b'{"method": "SubmitJob"}\x03',
                b'{"method": "Nope", "args": []}\x03', b"\xff\xfe\x03"):
    s = socket.socket(socket.AF_UNIX)
    s.connect("/var/run/ganeti/socket/ganeti-master")
    s.sendall(payload)
    s.settimeout(5)
    print(s.recv(65536))
    s.close()
"""
    out = cluster.python("node1", garbage).stdout
    assert out.count("false") == 4, out
    cluster.run("node1", "gnt-cluster", "master-ping")
    cluster.run("node1", "gnt-job", "list")
