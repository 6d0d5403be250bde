"""Creating instances in batches on the shared virtual cluster:
``gnt-instance batch-create`` and RAPI ``POST /2/instances-multi-alloc``
(OP_INSTANCE_MULTI_ALLOC), with real daemons.

What runs for real: the command reads a definition file, masterd's LU
checks the batch and submits one OP_INSTANCE_CREATE job per instance,
the command waits for them and fake-hypervisor instances start on their
nodes. Through RAPI (from node2) a batch without nodes is placed by a
small allocator script, asked once with a ``multi-allocate`` request;
allocators that refuse or place nothing leave nothing behind. The
allocators are installed in each node's own mount namespace (a bind
mount over the iallocator directory, as test_iallocator_cluster does).
Every instance made here is removed and the mounts undone at the end.
"""

import json
import os
import re
import shutil
import tempfile

import pytest

from conftest import DOMAIN
from test_iallocator_cluster import FQDNS, REFUSE_SCRIPT
from test_iallocator_cluster import _names, _pnode, _remove
from test_iallocator_cluster import allocators_mounted
from test_rapi_cluster import WRITER, _ensure_upstream_client, _job
from test_rapi_cluster import _upstream
from test_rapi_cluster import rapi  # noqa: F401 (fixture)

PREFIX = "gma-"  # instances of this module

# Places the instances of a multi-allocate request round-robin on the
# usable nodes (sorted by name) and keeps the request it was given.
SPREAD_SCRIPT = r"""#!/usr/bin/python3
import json, os, sys
with open(sys.argv[-1]) as handle:
    data = json.load(handle)
here = os.path.dirname(os.path.abspath(sys.argv[0]))
with open(os.path.join(here, "last-request.json"), "w") as handle:
    json.dump(data, handle)
nodes = sorted(name for name, node in data["nodes"].items()
               if node["vm_capable"] and not node["offline"]
               and not node["drained"])
placed = [[inst["name"], [nodes[idx % len(nodes)]]]
          for idx, inst in enumerate(data["request"]["instances"])]
print(json.dumps({"success": True, "info": "", "result": [placed, []]}))
"""

# Answers, but places none of the instances.
NONE_SCRIPT = r"""#!/usr/bin/python3
import json, sys
with open(sys.argv[-1]) as handle:
    data = json.load(handle)
names = [inst["name"] for inst in data["request"]["instances"]]
print(json.dumps({"success": True, "info": "", "result": [[], names]}))
"""


def _spec(name, **kwargs):
    """OP_INSTANCE_CREATE parameters of one diskless fake instance."""
    spec = {"mode": "create", "instance_name": name,
            "disk_template": "diskless", "disks": [], "nics": [{}],
            "os_type": "noop", "hypervisor": "fake", "name_check": False,
            "ip_check": False}
    spec.update(kwargs)
    return spec


def _status(c, name):
    return c.run("node1", "gnt-instance", "list", "--no-headers", "-o",
                 "status", name).stdout.strip()


@pytest.fixture(scope="module")
def batch(noop_cluster):
    """(cluster, host directory for definition files, allocator dir):
    the no-op OS on every node and three allocators (gma-spread,
    gma-none, gma-refuse) in every node's iallocator directory."""
    c = noop_cluster
    workdir = tempfile.mkdtemp(prefix="gma-")
    os.chmod(workdir, 0o755)
    adir = os.path.join(workdir, "iallocators")
    os.makedirs(adir)
    for name, text in (("gma-spread", SPREAD_SCRIPT),
                       ("gma-none", NONE_SCRIPT),
                       ("gma-refuse", REFUSE_SCRIPT)):
        path = os.path.join(adir, name)
        with open(path, "w") as handle:
            handle.write(text)
        os.chmod(path, 0o755)
    try:
        with allocators_mounted(c, adir):
            try:
                yield c, workdir, adir
            finally:
                _remove(c, [n for n in _names(c) if n.startswith(PREFIX)])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _write(workdir, name, data):
    path = os.path.join(workdir, name)
    with open(path, "w") as handle:
        handle.write(data if isinstance(data, str) else json.dumps(data))
    return path


def _batch_create(c, *args, check=True):
    return c.run("node1", "gnt-instance", "batch-create", *args,
                 check=check, timeout=300)


def test_batch_create_with_nodes(batch):
    c, workdir, _ = batch
    names = ["%sb%d.%s" % (PREFIX, i, DOMAIN) for i in range(3)]
    path = _write(workdir, "three.json",
                  [_spec(name, pnode=node)
                   for name, node in zip(names, FQDNS)])
    try:
        # a dry run checks the batch and creates nothing
        res = _batch_create(c, "--dry-run", path)
        assert res.stdout == "All instances created successfully.\n"
        assert not set(names) & set(_names(c))
        res = _batch_create(c, path)
        lines = res.stdout.splitlines()
        match = re.match(r"Submitted jobs (\d+), (\d+), (\d+)$", lines[0])
        assert match, res.stdout
        job_ids = set(match.groups())
        waits = [line for line in lines
                 if line.startswith("Waiting for job ")]
        assert set(waits) == set("Waiting for job %s ..." % jid
                                 for jid in job_ids), res.stdout
        assert lines[-1] == "All instances created successfully."
        assert "* starting instance..." in res.stdout
        assert "Failure" not in res.stderr, res.stderr
        for name, node in zip(names, FQDNS):
            assert _pnode(c, name) == node
            assert _status(c, name) == "running"
        # the same batch again: each creation job fails on its own
        res = _batch_create(c, path, check=False)
        assert res.returncode == 1
        assert res.stdout.splitlines()[-1] == \
            "There were 3 errors during the creation."
        for name in names:
            assert "Instance '%s' is already in the cluster" % name in \
                res.stderr, res.stderr
        assert sorted(n for n in _names(c) if n.startswith(PREFIX)) == \
            sorted(names)
    finally:
        _remove(c, names)
    assert not set(names) & set(_names(c))


def test_batch_create_refuses_bad_input(batch):
    c, workdir, _ = batch
    name = "%sbad.%s" % (PREFIX, DOMAIN)
    other = "%sbad2.%s" % (PREFIX, DOMAIN)
    missing = os.path.join(workdir, "missing.json")
    cases = [
        (missing, "Can't parse the instance definition file: [Errno 2] No"
         " such file or directory: '%s'\n" % missing),
        (_write(workdir, "syntax.json", "[{"),
         "Can't parse the instance definition file: Expecting property"
         " name enclosed in double quotes: line 1 column 3 (char 2)\n"),
        (_write(workdir, "dict.json", {name: _spec(name)}),
         "The instance definition file is not List of Dictionary\n"),
        (_write(workdir, "unknown.json",
                [_spec(name, pnode=FQDNS[0], memory=128)]),
         "Failure: prerequisites not met for this operation:\n"
         "error type: wrong_input, error details:\n"
         "Unknown fields in definition 0: memory\n"),
        (_write(workdir, "mixed.json",
                [_spec(name, pnode=FQDNS[0]), _spec(other)]),
         "Failure: prerequisites not met for this operation:\n"
         "error type: wrong_input, error details:\n"
         "There are instance objects providing pnode/snode while others"
         " do not\n"),
        (_write(workdir, "own-allocator.json",
                [_spec(name, iallocator="gma-spread")]),
         "Failure: prerequisites not met for this operation:\n"
         "error type: wrong_input, error details:\n"
         "iallocator are not allowed to be set on instance objects\n"),
        (_write(workdir, "no-allocator.json", [_spec(name)]),
         "Failure: prerequisites not met for this operation:\n"
         "error type: wrong_input, error details:\n"
         "No iallocator or nodes on the instances given and no"
         " cluster-wide default iallocator found; please specify either an"
         " iallocator or nodes on the instances or set a cluster-wide"
         " default iallocator\n"),
    ]
    for path, text in cases:
        res = _batch_create(c, path, check=False)
        assert (res.returncode, res.stderr) == (1, text), (path, res)
        assert res.stdout == ""
    assert not {name, other} & set(_names(c))


def _wait_children(rapi, job):
    """The creation jobs a finished multi-alloc job submitted."""
    result = job["opresult"][0]
    children = []
    for ok, job_id in result["jobs"]:
        assert ok is True, result
        children.append(rapi.wait_job(job_id))
    return result, children


def test_rapi_multi_alloc_with_allocator(batch, rapi):
    c, _, adir = batch
    names = ["%sr%d.%s" % (PREFIX, i, DOMAIN) for i in range(2)]
    body = {
        "instances": [
            # RAPI's aliases "name" and "os" work here too
            {"name": names[0], "os": "noop", "mode": "create",
             "disk_template": "diskless",
             "disks": [], "nics": [{}], "hypervisor": "fake",
             "name_check": False, "ip_check": False},
            {"instance_name": names[1], "os_type": "noop", "mode": "create",
             "disk_template": "diskless", "disks": [],
             "nics": [{"link": "br0"}],
             "hypervisor": "fake", "name_check": False, "ip_check": False,
             "beparams": {"maxmem": 256, "minmem": 128}},
        ],
        "iallocator": "gma-spread",
    }
    try:
        job = _job(rapi, "POST", "/2/instances-multi-alloc", body)
        op = job["ops"][0]
        assert op["OP_ID"] == "OP_INSTANCE_MULTI_ALLOC"
        assert [i["OP_ID"] for i in op["instances"]] == \
            ["OP_INSTANCE_CREATE"] * 2
        result, children = _wait_children(rapi, job)
        assert list(result) == ["allocatable", "failed", "jobs"]
        assert result["allocatable"] == names and result["failed"] == []
        assert [child["status"] for child in children] == \
            ["success", "success"], [child["opresult"] for child in children]
        # one request placed both: round-robin over the sorted nodes
        with open(os.path.join(adir, "last-request.json")) as handle:
            request = json.load(handle)["request"]
        assert request["type"] == "multi-allocate"
        assert [(i["name"], i["memory"], i["required_nodes"])
                for i in request["instances"]] == [
            (names[0], 128, 1), (names[1], 256, 1)]
        assert [_pnode(c, name) for name in names] == FQDNS[:2]
        assert job["oplog"][0][0][3] == (
            " - INFO: Selected nodes for instance %s via iallocator"
            " gma-spread: %s" % (names[0], FQDNS[0]))
        # what the allocator chose went into the creation jobs
        created = children[0]["ops"][0]
        assert (created["OP_ID"], created["instance_name"],
                created["pnode"], created["iallocator"]) == \
            ("OP_INSTANCE_CREATE", names[0], FQDNS[0], None)
    finally:
        _remove(c, names)
    assert not set(names) & set(_names(c))


# Runs in node2 with Debian's /usr/bin/python3 (-I): upstream's own RAPI
# client builds the request (InstanceAllocation + InstancesMultiAlloc).
UPSTREAM_MULTI_ALLOC = r"""
import json, sys
from ganeti.rapi import client
host, user, password = sys.argv[1:4]
names = sys.argv[4:]
c = client.GanetiRapiClient(host, username=user, password=password)
allocs = [c.InstanceAllocation("create", name, "diskless", [], [{}],
                               os="noop", hypervisor="fake",
                               name_check=False, ip_check=False)
          for name in names]
job = c.InstancesMultiAlloc(allocs, iallocator="gma-spread")
out = {"done": c.WaitForJobCompletion(job, period=0.2, retries=600)}
out["result"] = c.GetJobStatus(job)["opresult"][0]
out["children"] = [c.WaitForJobCompletion(jid, period=0.2, retries=600)
                   for ok, jid in out["result"]["jobs"]]
print(json.dumps(out))
"""


def test_upstream_client_multi_alloc(batch, rapi):
    reason = _ensure_upstream_client()
    if reason:
        pytest.skip(reason)
    c, _, _ = batch
    names = ["%su%d.%s" % (PREFIX, i, DOMAIN) for i in range(2)]
    try:
        out = _upstream(c, UPSTREAM_MULTI_ALLOC, WRITER[0], WRITER[1],
                        *names)
        assert out["done"] is True, out
        assert out["result"]["allocatable"] == names
        assert out["result"]["failed"] == []
        assert out["children"] == [True, True], out
        assert [_pnode(c, name) for name in names] == FQDNS[:2]
    finally:
        _remove(c, names)
    assert not set(names) & set(_names(c))


def test_refused_allocation_leaves_nothing(batch, rapi):
    c, workdir, _ = batch
    names = ["%sno%d.%s" % (PREFIX, i, DOMAIN) for i in range(2)]
    specs = [_spec(name) for name in names]
    jobs_before = set(c.run("node1", "gnt-job", "list", "--no-headers",
                            "-o", "id").stdout.split())
    # the allocator refuses: the multi-alloc job fails, no job follows
    job = _job(rapi, "POST", "/2/instances-multi-alloc",
               {"instances": specs, "iallocator": "gma-refuse"},
               status="error")
    assert job["opresult"][0] == [
        "OpPrereqError", ["Can't compute nodes using iallocator"
                          " 'gma-refuse': no node has room",
                          "insufficient_resources"]]
    # it answers but places nobody: success, every instance "failed"
    job = _job(rapi, "POST", "/2/instances-multi-alloc",
               {"instances": specs, "iallocator": "gma-none"})
    assert job["opresult"][0] == {"allocatable": [], "failed": names,
                                  "jobs": []}
    # the same through batch-create: the log names them, they count as
    # errors
    res = _batch_create(c, "-I", "gma-none",
                        _write(workdir, "none.json", specs), check=False)
    assert res.returncode == 1, res
    lines = res.stdout.splitlines()
    assert lines[-1] == "There were 2 errors during the creation."
    assert lines[0].endswith(" - WARNING: Iallocator gma-none could not"
                             " place instance(s) %s" % ", ".join(names))
    assert len(lines) == 2
    # and --submit only submits the first job
    res = _batch_create(c, "--submit", "-I", "gma-refuse",
                        os.path.join(workdir, "none.json"))
    match = re.match(r"JobID: (\d+)$", res.stderr.strip())
    assert match and res.stdout == "", res
    wait = c.run("node1", "gnt-job", "wait", match.group(1), check=False)
    assert wait.returncode == 1
    assert not set(names) & set(_names(c))
    jobs_after = set(c.run("node1", "gnt-job", "list", "--no-headers",
                           "-o", "id").stdout.split())
    new_ops = c.run("node1", "gnt-job", "list", "--no-headers", "-o",
                    "summary", *sorted(jobs_after - jobs_before)).stdout
    # only the four multi-alloc jobs ran: no creation was ever submitted
    assert new_ops.split() == ["INSTANCE_MULTI_ALLOC"] * 4, new_ops
