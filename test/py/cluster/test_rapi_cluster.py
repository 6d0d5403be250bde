"""RAPI against the virtual cluster: raw HTTPS requests from another node,
and upstream's own Python client (Debian python3-ganeti-rapi) unchanged.

ganeti-rapi runs on node1 (the master), started by ``gnt-cluster init``
through ``daemon-util start-master``; clients run inside node2 and reach
it on the master's own address and on the cluster IP.
"""

import json
import os
import shutil
import subprocess

import pytest

from ganeti import cmdlib
from ganeti.rapi import auth

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "data", "rapi")
MASTER_IP = "198.51.100.11"
CLUSTER_IP = "198.51.100.100"
PORT = 5080
USERS_FILE = "/var/lib/ganeti/rapi/users"
WRITER = ("rapiadmin", "Adm1n-pw")
READER = ("rapiview", "v1ew")

# Runs inside node2 with the project's python: a list of requests in,
# [status, headers, body text] for each out. A fresh TLS connection per
# request, like curl; certificates are not verified (self-signed rapi.pem).
RAW_CLIENT = r"""
import base64, http.client, json, ssl, sys
reqs = json.loads(sys.argv[1])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
out = []
for r in reqs:
    conn = http.client.HTTPSConnection(r["host"], %(port)d, context=ctx,
                                       timeout=60)
    headers = dict(r.get("headers") or {})
    if r.get("user"):
        headers["Authorization"] = "Basic " + base64.b64encode(
            ("%%s:%%s" %% tuple(r["user"])).encode()).decode()
    body = r.get("raw")
    if body is not None:
        body = body.encode("latin-1")
        headers.setdefault("Content-Type", "application/json")
    conn.request(r["method"], r["path"], body=body, headers=headers)
    resp = conn.getresponse()
    text = resp.read().decode("utf-8", "replace")
    out.append([resp.status, dict(resp.getheaders()), text])
    conn.close()
print(json.dumps(out))
""" % {"port": PORT}

HUGE_BODY = r"""
import base64, http.client, json, socket, ssl, sys
host, auth = sys.argv[1], sys.argv[2]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
out = []
# 1. a client that sends its whole 5 MiB body (the limit is 4 MiB)
conn = http.client.HTTPSConnection(host, %(port)d, context=ctx, timeout=60)
body = b'{"comment": "' + b"x" * (5 * 1024 * 1024) + b'"}'
conn.request("PUT", "/2/modify", body=body,
             headers={"Authorization": "Basic " + auth,
                      "Content-Type": "application/json"})
resp = conn.getresponse()
out.append([resp.status, resp.getheader("Content-Type"),
            resp.read().decode()])
conn.close()
# 2. a client announcing 1 GiB with "Expect: 100-continue" (as curl does
#    for big uploads): refused before it sends anything
sock = ctx.wrap_socket(socket.create_connection((host, %(port)d),
                                                timeout=30))
sock.sendall(b"PUT /2/modify HTTP/1.1\r\nHost: x\r\n"
             b"Authorization: Basic " + auth.encode() + b"\r\n"
             b"Content-Type: application/json\r\n"
             b"Expect: 100-continue\r\n"
             b"Content-Length: 1073741824\r\n\r\n")
reply = b""
while True:
    chunk = sock.recv(65536)
    if not chunk:
        break
    reply += chunk
head, _, rest = reply.decode().partition("\r\n\r\n")
out.append([int(head.split()[1]), "Content-Type: application/json" in head,
            rest])
print(json.dumps(out))
""" % {"port": PORT}

CERT_DIGEST = r"""
import hashlib, socket, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
with ctx.wrap_socket(socket.create_connection((sys.argv[1], %(port)d),
                                              timeout=30)) as sock:
    print(hashlib.sha256(sock.getpeercert(binary_form=True)).hexdigest())
""" % {"port": PORT}


def _basic(user):
    import base64
    return base64.b64encode(("%s:%s" % user).encode()).decode()


class Rapi:
    """Requests to the cluster's RAPI, sent from inside node2."""

    def __init__(self, cluster):
        self.cluster = cluster

    def many(self, requests):
        out = self.cluster.python("node2", RAW_CLIENT,
                                  json.dumps(requests), timeout=180).stdout
        return [(status, headers, json.loads(text) if text else None)
                for status, headers, text in json.loads(out)]

    def one(self, method, path, body=None, user=None, host=CLUSTER_IP,
            raw=None, headers=None):
        if body is not None:
            raw = json.dumps(body)
        return self.many([{"method": method, "path": path, "user": user,
                           "host": host, "raw": raw,
                           "headers": headers}])[0]

    def get(self, path, **kwargs):
        status, headers, data = self.one("GET", path, **kwargs)
        assert status == 200, (path, status, data)
        assert headers["Content-Type"] == "application/json"
        return data

    def wait_job(self, job_id):
        for _ in range(600):
            data = self.get("/2/jobs/%s" % job_id)
            if data["status"] in ("success", "error", "canceled"):
                return data
            self.cluster.run("node2", "sleep", "0.1")
        raise AssertionError("job %s did not finish" % job_id)


def _sample(name):
    """A body recorded from Ganeti 3.0.2 (see test/data/rapi/README)."""
    with open(os.path.join(DATA, name + ".json")) as handle:
        return json.load(handle)


def _config_serial(cluster):
    out = cluster.run("node1", "cat", "/var/lib/ganeti/config.data").stdout
    return json.loads(out)["serial_no"]


@pytest.fixture(scope="module")
def rapi(cluster):
    """RAPI users on node1 (a {HA1} writer and a plain-text reader);
    ganeti-rapi must already be running there (started with the master
    role by gnt-cluster init)."""
    check = cluster.run("node1", "daemon-util", "check", "ganeti-rapi",
                        check=False)
    assert check.returncode == 0, \
        "ganeti-rapi is not running on the master after gnt-cluster init"
    users = ("# RAPI users for the cluster tests\n"
             "%s {HA1}%s write\n%s %s read\n" %
             (WRITER[0], auth.ha1_hash(*WRITER), READER[0], READER[1]))
    cluster.run("node1", "mkdir", "-p", "/var/lib/ganeti/rapi")
    cluster.run("node1", "sh", "-c", "cat > %s.tmp && mv %s.tmp %s" %
                (USERS_FILE, USERS_FILE, USERS_FILE), input=users)
    client = Rapi(cluster)
    # the daemon re-reads the file on change (inotify); no restart
    for _ in range(50):
        if client.one("PUT", "/2/tags?tag=probe&dry-run=1",
                      user=WRITER)[0] == 200:
            break
        cluster.run("node2", "sleep", "0.1")
    else:
        raise AssertionError("the new users file was not picked up")
    yield client
    cluster.run("node1", "rm", "-f", USERS_FILE)


def test_rapi_runs_on_master_only(cluster, rapi):
    for node in ("node2", "node3"):
        assert cluster.run(node, "daemon-util", "check", "ganeti-rapi",
                           check=False).returncode == 1
    log = cluster.run("node1", "cat",
                      "/var/log/ganeti/rapi-daemon.log").stdout
    assert "Listening on" in log


def test_read_resources(cluster, rapi):
    assert rapi.get("/version") == 2
    assert rapi.get("/version", host=MASTER_IP) == 2
    info = rapi.get("/2/info")
    assert info["name"] == "cluster.gnt.test"
    assert info["master"] == "node1.gnt.test"
    assert list(info)[:3] == ["software_version", "protocol_version",
                              "config_version"]
    assert rapi.get("/2/features") == [
        "instance-reinstall-reqv1", "node-migrate-reqv1", "node-evac-res1",
        "instance-create-reqv1"]
    nodes = ["node%d.gnt.test" % i for i in (1, 2, 3)]
    assert rapi.get("/2/nodes") == [
        {"id": name, "uri": "/2/nodes/%s" % name} for name in nodes]
    bulk = rapi.get("/2/nodes?bulk=1")
    assert [n["name"] for n in bulk] == nodes
    assert bulk[0]["role"] == "M" and bulk[1]["role"] == "C"
    assert bulk[1]["pip"] == "198.51.100.12"
    # same fields, in the same order, as Ganeti 3.0.2's answers
    assert list(bulk[0]) == list(_sample("rapi-2-nodes-bulk")[0])
    one = rapi.get("/2/nodes/node2.gnt.test")
    assert list(one) == list(_sample("rapi-2-node"))
    assert one["name"] == "node2.gnt.test"
    assert one["secondary_ip"] == one["sip"]
    assert rapi.get("/2/nodes/node2")["name"] == "node2.gnt.test"
    assert rapi.get("/2/nodes/node1.gnt.test/role") == "master"
    assert rapi.get("/2/groups") == _sample("rapi-2-groups")
    assert rapi.get("/2/groups/default")["node_cnt"] == 3
    jobs = rapi.get("/2/jobs")
    assert jobs and jobs == sorted(jobs, key=lambda j: j["id"])
    job = rapi.get("/2/jobs/%d" % jobs[0]["id"])
    assert job["id"] == jobs[0]["id"]
    assert set(job) == set(["id", "ops", "status", "summary", "opstatus",
                            "received_ts", "start_ts", "end_ts", "oplog",
                            "opresult"])
    for item in rapi.get("/2/instances"):
        assert item == {"id": item["id"],
                        "uri": "/2/instances/%s" % item["id"]}
    doc = rapi.get("/2/openapi.json")
    assert "/2/instances/{instance}/reboot" in doc["paths"]


def test_query_resources(cluster, rapi):
    status, headers, _ = rapi.one("GET", "/2/query/node?fields=name,role")
    assert status == 401  # queries need read or write access
    data = rapi.get("/2/query/node?fields=name,role", user=READER)
    assert list(data) == ["fields", "data"]
    assert [f["name"] for f in data["fields"]] == ["name", "role"]
    assert [0, "node1.gnt.test"] in [row[0] for row in data["data"]]
    status, _, data = rapi.one("PUT", "/2/query/node", user=READER,
                               body={"fields": ["name"],
                                     "qfilter": ["=", "role", "M"]})
    assert status == 200
    assert data["data"] == [[[0, "node1.gnt.test"]]]
    fields = rapi.get("/2/query/node/fields?fields=name")
    assert fields["fields"][0]["name"] == "name"


def test_tags_put_then_get(cluster, rapi):
    status, _, job_id = rapi.one("PUT", "/2/tags?tag=rapi-x&tag=rapi-y",
                                 user=WRITER)
    assert status == 200 and isinstance(job_id, int)
    job = rapi.wait_job(job_id)
    assert job["status"] == "success", job
    assert job["ops"][0]["OP_ID"] == "OP_TAGS_SET"
    assert job["ops"][0]["reason"][0][0] == "gnt:library:rlib2:tags"
    assert set(["rapi-x", "rapi-y"]) <= set(rapi.get("/2/tags"))
    out = cluster.run("node1", "gnt-cluster", "list-tags").stdout.split()
    assert "rapi-x" in out
    status, _, job_id = rapi.one("DELETE", "/2/tags?tag=rapi-x&tag=rapi-y",
                                 user=WRITER)
    assert rapi.wait_job(job_id)["status"] == "success"
    assert "rapi-x" not in rapi.get("/2/tags")


def test_auth_and_bad_input_change_nothing(cluster, rapi):
    serial = _config_serial(cluster)
    results = rapi.many([
        {"method": "PUT", "path": "/2/tags?tag=anon", "host": CLUSTER_IP},
        {"method": "PUT", "path": "/2/tags?tag=ro", "host": CLUSTER_IP,
         "user": READER},
        {"method": "PUT", "path": "/2/tags?tag=bad", "host": CLUSTER_IP,
         "user": [WRITER[0], "wrong"]},
        {"method": "PUT", "path": "/2/modify", "host": CLUSTER_IP,
         "user": WRITER, "raw": '{"candidate_pool_size": '},
        {"method": "PUT", "path": "/2/modify", "host": CLUSTER_IP,
         "user": WRITER, "raw": '{"candidate_pool_size": "many"}'},
        {"method": "PUT", "path": "/2/modify", "host": CLUSTER_IP,
         "user": WRITER, "raw": '{"no_such_param": 1}'},
        {"method": "PUT", "path": "/2/modify", "host": CLUSTER_IP,
         "user": WRITER, "raw": "x=1",
         "headers": {"Content-Type": "text/plain"}},
        {"method": "PUT", "path": "/2/tags?tag=a&bogus=1",
         "host": CLUSTER_IP, "user": WRITER},
        {"method": "GET", "path": "/2/no/such/path", "host": CLUSTER_IP},
        {"method": "DELETE", "path": "/2/info", "host": CLUSTER_IP,
         "user": WRITER},
        {"method": "GET", "path": "/2/nodes/nosuch.gnt.test",
         "host": CLUSTER_IP},
    ])
    codes = [r[0] for r in results]
    assert codes == [401, 403, 401, 400, 400, 400, 415, 400, 404, 405, 404]
    for status, headers, body in results:
        assert headers["Content-Type"] == "application/json"
        assert set(body) == {"code", "message", "explain"}
        assert body["code"] == status
    assert results[0][1]["WWW-Authenticate"] == \
        'Basic realm="Ganeti Remote API"'
    assert results[0][2] == {
        "code": 401, "message": "Unauthorized",
        "explain": "No permission -- see authorization schemes"}
    assert results[9][1]["Allow"] == "GET, HEAD"
    sent, expect = json.loads(cluster.python("node2", HUGE_BODY, CLUSTER_IP,
                                             _basic(WRITER)).stdout)
    assert sent[:2] == [413, "application/json"], sent
    assert json.loads(sent[2])["code"] == 413
    assert expect[:2] == [413, True], expect
    assert json.loads(expect[2])["code"] == 413
    # the daemon keeps serving and nothing changed
    assert rapi.get("/version") == 2
    assert _config_serial(cluster) == serial
    assert "anon" not in rapi.get("/2/tags")


def _needs(*op_ids):
    missing = [op for op in op_ids if op not in cmdlib.LU_TABLE]
    if missing:
        pytest.skip("no logical unit yet for %s" % ", ".join(missing))


def _job(rapi, method, path, body=None, status="success"):
    """Submit through RAPI as the writer; the finished job."""
    code, _, job_id = rapi.one(method, path, body=body, user=WRITER)
    assert code == 200 and isinstance(job_id, int), (path, code, job_id)
    job = rapi.wait_job(job_id)
    assert job["status"] == status, (path, job)
    return job


def test_group_resources(cluster, rapi):
    _needs("OP_GROUP_ADD", "OP_GROUP_SET_PARAMS", "OP_GROUP_RENAME",
           "OP_GROUP_REMOVE", "OP_TAGS_SET")
    _job(rapi, "POST", "/2/groups", {"name": "rapigrp",
                                     "alloc_policy": None})
    try:
        assert rapi.get("/2/groups/rapigrp")["node_cnt"] == 0
        _job(rapi, "PUT", "/2/groups/rapigrp/modify",
             {"alloc_policy": "last_resort"})
        assert rapi.get("/2/groups/rapigrp")["alloc_policy"] == \
            "last_resort"
        _job(rapi, "PUT", "/2/groups/rapigrp/tags?tag=gt1")
        assert rapi.get("/2/groups/rapigrp/tags") == ["gt1"]
        _job(rapi, "PUT", "/2/groups/rapigrp/rename",
             {"new_name": "rapigrp2"})
        assert [g["name"] for g in rapi.get("/2/groups")] == [
            "default", "rapigrp2"]
        _job(rapi, "DELETE", "/2/groups/rapigrp2")
    finally:
        for name in ("rapigrp", "rapigrp2"):
            cluster.run("node1", "gnt-group", "remove", name, check=False)
    assert rapi.get("/2/groups") == _sample("rapi-2-groups")


def test_node_resources(cluster, rapi):
    _needs("OP_TAGS_SET", "OP_TAGS_DEL", "OP_NODE_SET_PARAMS",
           "OP_NODE_QUERY_STORAGE")
    node = "node3.gnt.test"
    _job(rapi, "PUT", "/2/nodes/%s/tags?tag=nt1" % node)
    assert rapi.get("/2/nodes/%s/tags" % node) == ["nt1"]
    _job(rapi, "DELETE", "/2/nodes/%s/tags?tag=nt1" % node)
    assert rapi.get("/2/nodes/%s/tags" % node) == []
    # dry runs: the logical units check everything, change nothing
    serial = _config_serial(cluster)
    job = _job(rapi, "PUT", "/2/nodes/%s/role?dry-run=1" % node, "drained")
    op = job["ops"][0]
    assert (op["OP_ID"], op["drained"], op["dry_run"]) == \
        ("OP_NODE_SET_PARAMS", True, True)
    _job(rapi, "POST", "/2/nodes/%s/modify?dry-run=1" % node,
         {"offline": True, "auto_promote": True})
    assert _config_serial(cluster) == serial
    assert rapi.get("/2/nodes/%s/role" % node) == "master-candidate"
    job = _job(rapi, "GET", "/2/nodes/node1.gnt.test/storage"
               "?storage_type=file&output_fields=name,size")
    assert isinstance(job["opresult"][0], list)


def test_cluster_resources(cluster, rapi):
    _needs("OP_CLUSTER_REDIST_CONF", "OP_CLUSTER_SET_PARAMS")
    _job(rapi, "PUT", "/2/redistribute-config")
    before = rapi.get("/2/info")["max_running_jobs"]
    try:
        _job(rapi, "PUT", "/2/modify", {"max_running_jobs": before + 1})
        assert rapi.get("/2/info")["max_running_jobs"] == before + 1
    finally:
        _job(rapi, "PUT", "/2/modify", {"max_running_jobs": before})


def _unimplemented_specs():
    """(method, path, opcode) of every variable-free resource method whose
    opcode has no logical unit yet, from the RAPI table itself."""
    from ganeti.rapi import resources
    found = []
    for resource in resources.TABLE:
        if resource.vars:
            continue
        for method, spec in sorted(resource.methods.items()):
            for op_id in spec.needed_ops():
                if op_id not in cmdlib.LU_TABLE:
                    found.append((method, resource.path, op_id))
    return found


def test_unimplemented_opcodes_answer_501(cluster, rapi):
    """Whatever is still missing (networks, filters at the time of
    writing) answers 501 with the reason, decided at request time."""
    missing = _unimplemented_specs()
    assert missing, "nothing left to answer 501: drop or rework this test"
    for method, path, op_id in missing:
        status, _, data = rapi.one(method, path, {} if method != "GET"
                                   else None, user=WRITER)
        assert status == 501, (method, path, status, data)
        assert data["explain"] == (
            "%s %s needs opcode %s, which this cluster does not implement"
            " yet" % (method, path, op_id))


def _ensure_upstream_client():
    """Debian's python3-ganeti-rapi, installed with apt if missing."""
    probe = ["/usr/bin/python3", "-I", "-c", "import ganeti.rapi.client"]
    if subprocess.run(probe, capture_output=True).returncode == 0:
        return None
    if shutil.which("apt-get") is None:
        return "apt-get not available to install python3-ganeti-rapi"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    result = subprocess.run(["apt-get", "install", "-y", "-q",
                             "--no-install-recommends",
                             "python3-ganeti-rapi"], env=env,
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        return "apt-get install python3-ganeti-rapi failed: %s" % (
            result.stderr.strip()[-300:])
    if subprocess.run(probe, capture_output=True).returncode != 0:
        return "python3-ganeti-rapi installed but not importable"
    return None


# Runs in node2 with Debian's /usr/bin/python3 in isolated mode (-I), so
# ``ganeti`` is upstream's package, not this project.
UPSTREAM_CLIENT = r"""
import json, sys
from ganeti.rapi import client
assert client.__file__.startswith("/usr/lib/python3/dist-packages/"), \
    client.__file__
host, user, password, rouser, ropw = sys.argv[1:6]
c = client.GanetiRapiClient(host, username=user, password=password)
out = {}
out["version"] = c.GetVersion()
out["features"] = c.GetFeatures()
out["info_name"] = c.GetInfo()["name"]
out["nodes"] = c.GetNodes()
out["nodes_bulk"] = [n["name"] for n in c.GetNodes(bulk=True)]
out["node_role"] = c.GetNodeRole("node2.gnt.test")
out["groups"] = c.GetGroups()
job = c.AddClusterTags(["upstream-client"])
out["add_job_type"] = type(job).__name__
out["add_done"] = c.WaitForJobCompletion(job, period=0.2, retries=300)
out["job_status"] = c.GetJobStatus(job)["status"]
out["tags_after_add"] = c.GetClusterTags()
change = c.WaitForJobChange(job, ["status"], None, None)
out["wait_change"] = change["job_info"]
job = c.DeleteClusterTags(["upstream-client"])
out["del_done"] = c.WaitForJobCompletion(job, period=0.2, retries=300)
out["tags_after_del"] = c.GetClusterTags()
out["jobs"] = c.GetJobs()[-1] == job
out["query"] = c.Query("node", ["name"], ["=", "name", "node1.gnt.test"])
ro = client.GanetiRapiClient(host, username=rouser, password=ropw)
try:
    ro.AddClusterTags(["nope"])
except client.GanetiApiError as err:
    out["ro_error"] = err.code
print(json.dumps(out))
"""

UPSTREAM_INSTANCES = r"""
import json, sys
from ganeti.rapi import client
host, user, password, name = sys.argv[1:5]
c = client.GanetiRapiClient(host, username=user, password=password)
out = {}
job = c.CreateInstance("create", name, "diskless", [], [{}],
                       os="%s", pnode="node1.gnt.test",
                       hypervisor="fake", name_check=False, ip_check=False,
                       beparams={"memory": 128})
out["create"] = c.WaitForJobCompletion(job, period=0.5, retries=600)
out["create_status"] = c.GetJobStatus(job)
if not out["create"]:
    sys.exit("create failed: " + json.dumps(out["create_status"]))
out["list"] = c.GetInstances()
out["bulk"] = c.GetInstances(bulk=True)
out["one"] = c.GetInstance(name)
job = c.RebootInstance(name, reboot_type="soft")
out["reboot"] = c.WaitForJobCompletion(job, period=0.5, retries=600)
job = c.AddInstanceTags(name, ["rapi-inst"])
out["tag"] = c.WaitForJobCompletion(job, period=0.5, retries=600)
out["tags"] = c.GetInstanceTags(name)
job = c.DeleteInstance(name)
out["delete"] = c.WaitForJobCompletion(job, period=0.5, retries=600)
out["after"] = c.GetInstances()
print(json.dumps(out))
""" % "rapitest"


def _upstream(cluster, code, *args, timeout=300):
    return json.loads(cluster.run(
        "node2", "/usr/bin/python3", "-I", "-c", code, CLUSTER_IP,
        *args, timeout=timeout).stdout)


def test_upstream_python_client(cluster, rapi):
    reason = _ensure_upstream_client()
    if reason:
        pytest.skip(reason)
    out = _upstream(cluster, UPSTREAM_CLIENT, WRITER[0], WRITER[1],
                    READER[0], READER[1])
    nodes = ["node%d.gnt.test" % i for i in (1, 2, 3)]
    assert out["version"] == 2
    assert "instance-create-reqv1" in out["features"]
    assert out["info_name"] == "cluster.gnt.test"
    assert out["nodes"] == nodes and out["nodes_bulk"] == nodes
    assert out["node_role"] == "master-candidate"
    assert out["groups"] == ["default"]
    assert out["add_job_type"] == "int"
    assert out["add_done"] is True and out["job_status"] == "success"
    assert "upstream-client" in out["tags_after_add"]
    assert out["wait_change"] == ["success"]
    assert out["del_done"] is True
    assert "upstream-client" not in out["tags_after_del"]
    assert out["jobs"] is True
    assert out["query"]["data"] == [[[0, "node1.gnt.test"]]]
    assert out["ro_error"] == 403


OS_NAME = "rapitest"
OS_DIR = "/srv/ganeti/os/" + OS_NAME
# A do-nothing OS definition (API 20) for diskless instances.
OS_SETUP = ("mkdir -p {d} && echo 20 > {d}/ganeti_api_version && "
            "for s in create export import rename verify; do "
            "printf '#!/bin/sh\\nexit 0\\n' > {d}/$s; chmod 755 {d}/$s; "
            "done && touch {d}/parameters.list").format(d=OS_DIR)


def test_upstream_client_instance_lifecycle(cluster, rapi):
    missing = [op for op in ("OP_INSTANCE_CREATE", "OP_INSTANCE_REBOOT",
                             "OP_INSTANCE_REMOVE", "OP_TAGS_SET")
               if op not in cmdlib.LU_TABLE]
    if missing:
        pytest.skip("no logical unit yet for %s (RAPI answers 501 for"
                    " them)" % ", ".join(missing))
    reason = _ensure_upstream_client()
    if reason:
        pytest.skip(reason)
    for node in ("node1", "node2", "node3"):
        cluster.run(node, "sh", "-c", OS_SETUP)
    name = "rapi-inst1.gnt.test"
    try:
        out = _upstream(cluster, UPSTREAM_INSTANCES, WRITER[0], WRITER[1],
                        name, timeout=900)
    finally:
        cluster.run("node1", "gnt-instance", "remove", "-f", name,
                    check=False)
        for node in ("node1", "node2", "node3"):
            cluster.run(node, "rm", "-rf", OS_DIR)
    assert out["create"] is True, out["create_status"]
    assert name in out["list"]
    bulk = [i for i in out["bulk"] if i["name"] == name][0]
    assert bulk["beparams"]["memory"] == bulk["beparams"]["maxmem"]
    assert out["one"]["name"] == name
    assert out["reboot"] is True
    assert out["tag"] is True and out["tags"] == ["rapi-inst"]
    assert out["delete"] is True
    assert name not in out["after"]


def test_renew_rapi_certificate(cluster, rapi):
    def served():
        return cluster.python("node2", CERT_DIGEST, CLUSTER_IP).stdout.strip()

    def file_digest(node):
        return cluster.run(node, "sha256sum",
                           "/var/lib/ganeti/rapi.pem").stdout.split()[0]

    before = served()
    result = cluster.run("node1", "gnt-cluster", "renew-crypto",
                         "--new-rapi-certificate", "-f", timeout=180)
    assert "All requested certificates and keys have been replaced" in \
        result.stdout
    after = served()
    assert after != before
    digests = set(file_digest(node) for node in ("node1", "node2", "node3"))
    assert len(digests) == 1, "rapi.pem differs between nodes"
    assert rapi.get("/version") == 2
    assert cluster.run("node1", "daemon-util", "check",
                       "ganeti-rapi").returncode == 0
