"""OP_INSTANCE_MULTI_ALLOC and gnt-instance batch-create.

The LU runs against a real ConfigWriter with real allocator scripts
(run by the node-side runner through the RPC double of test_cmdlib) and
through the real opcode processor, whose ResultWithJobs handling turns
the LU's jobs into the ``{"allocatable", "failed", "jobs"}`` result. The
command runs against the scripted LUXI master of test_cli. Real daemons
are exercised by test/py/cluster/test_multi_alloc_cluster.py.
"""

import json
import os
import subprocess
import sys

import pytest

from ganeti import constants
from ganeti import errors
from ganeti import locking
from ganeti import mcpu
from ganeti import opcodes
from ganeti import pathutils
from ganeti.cmdlib import base
from ganeti.cmdlib import instance_multi_alloc as ima

from test_cmdlib import MASTER, NODE2, NODE3, ProcessorCallbacks, run_lu
from test_cmdlib import uuid_of
from test_cmdlib import cfg, root  # noqa: F401 (fixtures)
from test_iallocator import echo_allocator, live_rpc, seen
from test_cli import TOP, run
from test_cli import master, utc  # noqa: F401 (fixtures)

MULTI = "OP_INSTANCE_MULTI_ALLOC"


def create(name, **kwargs):
    """The wire dict of one OP_INSTANCE_CREATE of the batch."""
    op = {"OP_ID": "OP_INSTANCE_CREATE", "instance_name": name,
          "mode": "create", "disks": [], "nics": [{}],
          "disk_template": "diskless", "os_type": "noop",
          "name_check": False, "ip_check": False}
    op.update(kwargs)
    return op


def multi(instances, **kwargs):
    op = {"OP_ID": MULTI, "instances": instances}
    op.update(kwargs)
    return op


def prereq_error(cfg, op, rpc=None):
    with pytest.raises(errors.OpPrereqError) as err:
        run_lu(cfg, rpc or live_rpc(), op)
    return err.value.args


def answer(placed, failed=(), success=True, info=""):
    return {"success": success, "info": info,
            "result": [[[name, nodes] for name, nodes in placed],
                       list(failed)]}


# --- the LU: nodes given ---------------------------------------------------

def test_nodes_given_one_job_per_instance(cfg):
    ops = [create("a.gnt.test", pnode="node2"),
           create("b.gnt.test", pnode=MASTER),
           create("c.gnt.test", pnode="node3", priority=-5)]
    result, messages, lu = run_lu(cfg, live_rpc(), multi(ops, priority=5))
    assert isinstance(result, base.ResultWithJobs)
    assert result.other == {"allocatable": ["a.gnt.test", "b.gnt.test",
                                            "c.gnt.test"], "failed": []}
    assert [len(job) for job in result.jobs] == [1, 1, 1]
    jobs = [job[0] for job in result.jobs]
    assert [op.OP_ID for op in jobs] == ["OP_INSTANCE_CREATE"] * 3
    # names expanded to the nodes' full names, UUIDs alongside
    assert [op.pnode for op in jobs] == [NODE2, MASTER, NODE3]
    assert [op.pnode_uuid for op in jobs] == [uuid_of(cfg, n) for n in
                                              (NODE2, MASTER, NODE3)]
    assert all(op.iallocator is None for op in jobs)
    # the batch's priority, unless an instance has its own
    assert [op.priority for op in jobs] == [5, 5, -5]
    # locks: the named nodes, shared, at node and node-res level
    uuids = [uuid_of(cfg, n) for n in (NODE2, MASTER, NODE3)]
    assert lu.needed_locks == {constants.LOCKS_NODE: uuids,
                               constants.LOCKS_NODE_RES: uuids}
    assert lu.share_locks[constants.LOCKS_NODE] == 1
    assert messages == []
    # no allocator was asked
    assert not os.path.exists(os.path.join(
        pathutils.IALLOCATOR_SEARCH_PATH[0], "seen.json"))


def test_unknown_node(cfg):
    args = prereq_error(cfg, multi([create("a.gnt.test", pnode="node9")]))
    assert args == ("Node 'node9' not known", errors.ECODE_NOENT)


@pytest.mark.parametrize("instances,extra,text", [
    ([create("a", pnode=MASTER), create("b")], {},
     "There are instance objects providing pnode/snode while others do"
     " not"),
    # as Ganeti: an empty batch falls in the same check
    ([], {}, "There are instance objects providing pnode/snode while"
     " others do not"),
    ([create("a", iallocator="hail")], {},
     "iallocator are not allowed to be set on instance objects"),
    ([create("a"), create("b")], {},
     "No iallocator or nodes on the instances given and no cluster-wide"
     " default iallocator found; please specify either an iallocator or"
     " nodes on the instances or set a cluster-wide default iallocator"),
    ([create("a"), create("b")], {"iallocator": "."},
     "No iallocator or nodes on the instances given and no cluster-wide"
     " default iallocator found; please specify either an iallocator or"
     " nodes on the instances or set a cluster-wide default iallocator"),
    ([create("a", pnode=MASTER)], {"opportunistic_locking": True},
     "Opportunistic locking is only available in combination with an"
     " instance allocator"),
    ([create("b", pnode=MASTER), create("a", pnode=MASTER),
      create("b", pnode=NODE2), create("a", pnode=NODE3)], {},
     "There are duplicate instance names: a, b"),
])
def test_argument_errors(cfg, instances, extra, text):
    assert prereq_error(cfg, multi(instances, **extra)) == \
        (text, errors.ECODE_INVAL)


def test_instances_must_be_valid_create_opcodes(cfg):
    args = prereq_error(cfg, multi([{"OP_ID": "OP_TEST_DELAY",
                                     "duration": 1}]))
    assert args[0].startswith("Parameter 'OP_INSTANCE_MULTI_ALLOC.instances'"
                              " fails validation: expected a list of"
                              " OP_INSTANCE_CREATE opcodes, got {")
    bad = create("a", pnode=MASTER)
    del bad["mode"]
    assert prereq_error(cfg, multi([bad])) == (
        "Required parameter 'OP_INSTANCE_CREATE.mode' missing",
        errors.ECODE_INVAL)
    assert prereq_error(cfg, multi([create("a", pnode=MASTER,
                                           bogus=1)]))[0] == \
        "Parameter(s) bogus not valid for opcode OP_INSTANCE_CREATE"


def test_bad_inner_opcodes_are_refused_at_submission(tmp_path):
    """The queue validates nested create opcodes when the job is
    submitted (LUXI), with the inner opcode's own message."""
    from ganeti.jqueue import JobQueue
    from ganeti.jqueue.store import QueueStore
    queue = JobQueue(QueueStore(str(tmp_path / "queue")),
                     lambda op, callbacks: None, workers=1)
    queue.open()
    bad = create("a", pnode=MASTER)
    del bad["mode"]
    with pytest.raises(errors.OpPrereqError) as err:
        queue.submit_job([multi([bad])])
    assert err.value.args[0] == \
        "Required parameter 'OP_INSTANCE_CREATE.mode' missing"
    with pytest.raises(errors.OpPrereqError) as err:
        queue.submit_job([multi([{"OP_ID": "OP_TEST_DELAY",
                                  "duration": 1}])])
    assert "expected a list of OP_INSTANCE_CREATE opcodes" in \
        err.value.args[0]
    assert queue.query_jobs(None, ["id"]) == []


# --- the LU: with an allocator ---------------------------------------------

def test_allocator_places_the_batch_in_one_request(cfg):
    echo_allocator("multi", answer(
        [("b.gnt.test", [NODE3]), ("a.gnt.test", [NODE2])],
        failed=["c.gnt.test"]))
    ops = [create("a.gnt.test", beparams={"memory": 512, "vcpus": 2},
                  tags=["web"]),
           create("b.gnt.test", disk_template="file",
                  disks=[{"size": "1024"}], nics=[{"mode": "routed",
                                                   "ip": "198.51.100.50"}]),
           create("c.gnt.test", disk_template=None, nics=[])]
    result, messages, lu = run_lu(cfg, live_rpc(),
                                  multi(ops, iallocator="multi"))
    request = seen()["input"]["request"]
    assert request["type"] == "multi-allocate"
    reqs = request["instances"]
    assert [r["name"] for r in reqs] == ["a.gnt.test", "b.gnt.test",
                                         "c.gnt.test"]
    assert (reqs[0]["memory"], reqs[0]["vcpus"], reqs[0]["tags"]) == \
        (512, 2, ["web"])
    assert reqs[0]["nics"] == [{"mac": "auto", "ip": None, "mode": "bridged",
                                "link": "br0", "network": None,
                                "bridge": "br0"}]
    assert reqs[0]["hypervisor"] == "fake"
    assert (reqs[1]["disk_template"], reqs[1]["disks"],
            reqs[1]["disk_space_total"]) == (
        "file", [{"size": 1024, "mode": "rw", "spindles": None}], 1024)
    assert reqs[1]["nics"][0]["mode"] == "routed"
    assert reqs[1]["nics"][0]["ip"] == "198.51.100.50"
    # the cluster's first enabled template when the instance names none
    assert reqs[2]["disk_template"] == "file"
    assert all(r["required_nodes"] == 1 for r in reqs)
    # every node was locked (shared) and offered
    assert lu.needed_locks[constants.LOCKS_NODE] is base.ALL_SET
    # jobs in the allocator's order, nodes filled in, allocator cleared
    assert result.other == {"allocatable": ["b.gnt.test", "a.gnt.test"],
                            "failed": ["c.gnt.test"]}
    jobs = [job[0] for job in result.jobs]
    assert [(op.instance_name, op.pnode, op.pnode_uuid, op.iallocator)
            for op in jobs] == [
        ("b.gnt.test", NODE3, uuid_of(cfg, NODE3), None),
        ("a.gnt.test", NODE2, uuid_of(cfg, NODE2), None)]
    assert messages == [
        " - INFO: Selected nodes for instance b.gnt.test via iallocator"
        " multi: %s" % NODE3,
        " - INFO: Selected nodes for instance a.gnt.test via iallocator"
        " multi: %s" % NODE2,
        " - WARNING: Iallocator multi could not place instance(s)"
        " c.gnt.test"]


def test_cluster_default_allocator(cfg):
    echo_allocator("dflt", answer([("a", [NODE2])]))
    cluster = cfg.get_cluster_info()
    cluster.default_iallocator = "dflt"
    cfg.update(cluster)
    for extra in ({}, {"iallocator": "."}):
        result, _, lu = run_lu(cfg, live_rpc(), multi([create("a")],
                                                      **extra))
        assert lu.op.iallocator == "dflt"
        assert result.jobs[0][0].pnode == NODE2
    # nodes on every instance and no -I: the default is not used
    result, _, lu = run_lu(cfg, live_rpc(),
                           multi([create("a", pnode=NODE3)]))
    assert lu.op.iallocator is None and result.jobs[0][0].pnode == NODE3


def test_allocator_wins_over_given_nodes(cfg):
    """As in Ganeti, an explicit allocator places even instances that
    name their nodes."""
    echo_allocator("multi", answer([("a", [NODE3])]))
    result, _, _ = run_lu(cfg, live_rpc(),
                          multi([create("a", pnode=MASTER)],
                                iallocator="multi"))
    assert result.jobs[0][0].pnode == NODE3


def test_refusal_and_bad_answers(cfg):
    op = multi([create("a"), create("b")], iallocator="multi")
    echo_allocator("multi", answer([], success=False, info="cluster full"))
    assert prereq_error(cfg, op) == (
        "Can't compute nodes using iallocator 'multi': cluster full",
        errors.ECODE_NORES)
    # placing nothing is an answer, not an error
    echo_allocator("multi", answer([], failed=["a", "b"]))
    result, messages, _ = run_lu(cfg, live_rpc(), op)
    assert result.jobs == []
    assert result.other == {"allocatable": [], "failed": ["a", "b"]}
    assert messages == [" - WARNING: Iallocator multi could not place"
                        " instance(s) a, b"]
    for bad, text in [
            (answer([("a", [NODE2])]),
             "Iallocator did return incomplete result: b"),
            (answer([("a", [NODE2]), ("x", [NODE2])], failed=["b"]),
             "Iallocator returned an unknown or repeated instance 'x'"),
            (answer([("a", [NODE2]), ("a", [NODE3])], failed=["b"]),
             "Iallocator returned an unknown or repeated instance 'a'"),
            (answer([("a", []), ("b", [NODE2])]),
             "Iallocator returned 0 node(s) for instance a, 1 needed")]:
        echo_allocator("multi", bad)
        with pytest.raises(errors.OpExecError) as err:
            run_lu(cfg, live_rpc(), op)
        assert err.value.args[0] == text
    echo_allocator("multi", answer([("a", ["node7"])], failed=["b"]))
    assert prereq_error(cfg, op) == ("Node 'node7' not known",
                                     errors.ECODE_NOENT)
    echo_allocator("multi", {"success": True, "info": "",
                             "result": [["a", [NODE2]]]})
    with pytest.raises(errors.ResultValidationError):
        run_lu(cfg, live_rpc(), op)


# --- through the opcode processor ------------------------------------------

def process(cfg, op_dict):
    ctx = base.MasterContext(cfg, live_rpc(), master_name=MASTER)
    proc = mcpu.Processor(ctx, locking.LockManager())
    callbacks = ProcessorCallbacks()
    return proc.execute_opcode(opcodes.load_opcode(op_dict),
                               callbacks), callbacks


def test_processor_result_and_submitted_jobs(cfg):
    echo_allocator("multi", answer([("a", [NODE2]), ("c", [MASTER])],
                                   failed=["b"]))
    op = multi([create("a"), create("b"), create("c")], iallocator="multi")
    result, callbacks = process(cfg, op)
    # Ganeti's ALLOCATABLE_KEY, FAILED_KEY and JOB_IDS_KEY, in its order
    assert (ima.ALLOCATABLE_KEY, ima.FAILED_KEY) == ("allocatable", "failed")
    assert list(result) == ["allocatable", "failed", "jobs"]
    assert result == {"allocatable": ["a", "c"], "failed": ["b"],
                      "jobs": [[True, 100], [True, 101]]}
    # each job: one create opcode, loadable and valid as submitted
    assert [len(job) for job in callbacks.submitted] == [1, 1]
    loaded = [opcodes.load_opcode(job[0]) for job in callbacks.submitted]
    assert [(op.instance_name, op.pnode, op.iallocator) for op in loaded] \
        == [("a", NODE2, None), ("c", MASTER, None)]
    # the result is plain JSON (it goes into the job file)
    assert json.loads(json.dumps(result)) == result


def test_processor_dry_run_submits_nothing(cfg):
    echo_allocator("multi", answer([("a", [NODE2])], failed=["b"]))
    result, callbacks = process(cfg, multi([create("a"), create("b")],
                                           iallocator="multi",
                                           dry_run=True))
    assert result == {"allocatable": ["a"], "failed": ["b"], "jobs": []}
    assert callbacks.submitted == []
    result, callbacks = process(cfg, multi(
        [create("a", pnode=MASTER), create("b", pnode=NODE2)],
        dry_run=True))
    assert result == {"allocatable": ["a", "b"], "failed": [], "jobs": []}
    assert callbacks.submitted == []


# --- gnt-instance batch-create ---------------------------------------------

SPECS = [
    {"mode": "create", "instance_name": "i1.gnt.test",
     "disk_template": "diskless", "disks": [], "nics": [{}],
     "os_type": "noop", "pnode": "node1.gnt.test"},
    {"mode": "create", "instance_name": "i2.gnt.test",
     "disk_template": "file", "disks": [{"size": "1024"}],
     "nics": [{}], "os_type": "noop", "pnode": "node2.gnt.test",
     "beparams": {"maxmem": 512, "minmem": 256}},
]


def _spec_file(tmp_path, data):
    path = tmp_path / "instances.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def test_batch_create_waits_for_each_job(master, capsys, tmp_path):
    master.next_job_id = 30
    master.add_job(30, [("running", [[1, [1795472868, 0], "message",
                                      "batch checked"]]),
                        ("success", [])],
                   results=[{"allocatable": ["i1.gnt.test", "i2.gnt.test"],
                             "failed": [], "jobs": [[True, 31], [True, 32]]}])
    master.add_job(31, [("success", [[1, [1795472869, 0], "message",
                                      "* creating instance disks..."]])])
    master.add_job(32, [("success", [])])
    path = _spec_file(tmp_path, SPECS)
    assert run("gnt-instance", "batch-create", "--priority", "high",
               path) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "Mon Nov 23 22:27:48 2026 batch checked",
        "Submitted jobs 31, 32",
        "Waiting for job 31 ...",
        "Mon Nov 23 22:27:49 2026 * creating instance disks...",
        "Waiting for job 32 ...",
        "All instances created successfully."]
    assert err == ""
    (ops,), = master.calls_of("SubmitJob")
    assert len(ops) == 1 and ops[0]["OP_ID"] == MULTI
    assert ops[0]["iallocator"] is None
    assert ops[0]["priority"] == constants.OP_PRIO_HIGH
    insts = ops[0]["instances"]
    assert [i["OP_ID"] for i in insts] == ["OP_INSTANCE_CREATE"] * 2
    assert [i["instance_name"] for i in insts] == ["i1.gnt.test",
                                                   "i2.gnt.test"]
    # what the file did not say has the opcode's defaults
    assert insts[1]["beparams"] == {"maxmem": 512, "minmem": 256}
    assert insts[1]["start"] is True and insts[0]["name_check"] is True
    assert insts[0]["iallocator"] is None


def test_batch_create_counts_failures(master, capsys, tmp_path):
    master.next_job_id = 40
    master.add_job(40, [("success", [])], results=[{
        "allocatable": ["i1.gnt.test"], "failed": ["i2.gnt.test"],
        "jobs": [[True, 41]]}])
    master.add_job(41, [("error", [])], status="error",
                   results=[["OpPrereqError",
                             ["Instance 'i1.gnt.test' is already in the"
                              " cluster", "already_exists"]]])
    specs = [dict((k, v) for k, v in s.items() if k != "pnode")
             for s in SPECS]
    assert run("gnt-instance", "batch-create", "-I", "hail",
               _spec_file(tmp_path, specs)) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "Submitted jobs 41", "Waiting for job 41 ...",
        "There were 2 errors during the creation."]
    assert err.splitlines() == [
        "Job 41 has failed: Failure: prerequisites not met for this"
        " operation:", "error type: already_exists, error details:",
        "Instance 'i1.gnt.test' is already in the cluster"]
    (ops,), = master.calls_of("SubmitJob")
    assert ops[0]["iallocator"] == "hail"
    assert [i["pnode"] for i in ops[0]["instances"]] == [None, None]


def test_batch_create_submit_only(master, capsys, tmp_path):
    master.next_job_id = 50
    assert run("gnt-instance", "batch-create", "--submit",
               _spec_file(tmp_path, SPECS)) == 0
    out, err = capsys.readouterr()
    assert (out, err) == ("", "JobID: 50\n")
    assert master.calls_of("WaitForJobChange") == []


@pytest.mark.parametrize("content,text", [
    (None, "Can't parse the instance definition file: [Errno 2] No such"
     " file or directory: '%(path)s'\n"),
    ("[{", "Can't parse the instance definition file: Expecting property"
     " name enclosed in double quotes: line 1 column 3 (char 2)\n"),
    ({"i1": {}}, "The instance definition file is not List of"
     " Dictionary\n"),
    ([SPECS[0], "i2"], "The instance definition file is not List of"
     " Dictionary\n"),
    ([SPECS[0], dict(SPECS[1], vg="xenvg", size=3)],
     "Failure: prerequisites not met for this operation:\n"
     "error type: wrong_input, error details:\n"
     "Unknown fields in definition 1: size, vg\n"),
    ([dict(SPECS[0], mode=None)],
     "Failure: prerequisites not met for this operation:\n"
     "error type: wrong_input, error details:\n"
     "Required parameter 'OP_INSTANCE_CREATE.mode' missing\n"),
    ([dict(SPECS[0], start="yes")],
     "Failure: prerequisites not met for this operation:\n"
     "error type: wrong_input, error details:\n"
     "Parameter 'OP_INSTANCE_CREATE.start' fails validation: expected"
     " bool, got 'yes'\n"),
])
def test_batch_create_refuses_bad_files(master, capsys, tmp_path, content,
                                        text):
    if content is None:
        path = str(tmp_path / "missing.json")
    else:
        path = _spec_file(tmp_path, content)
    assert run("gnt-instance", "batch-create", path) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == text % {"path": path}
    assert master.calls == []


def test_batch_create_in_the_man_page():
    """The generated synopsis and options block is current."""
    proc = subprocess.run([sys.executable,
                           os.path.join(TOP, "tools", "gen-man-commands"),
                           "--check",
                           os.path.join(TOP, "man", "gnt-instance.rst")],
                          capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=TOP))
    assert proc.returncode == 0, proc.stderr
    with open(os.path.join(TOP, "man", "gnt-instance.rst")) as handle:
        text = handle.read()
    assert ".. gen-man-commands: batch-create\n" in text
