"""The instance allocator protocol: the input message built from a real
ConfigWriter (nodes, groups, instances, each request type), the
validation of allocator answers, the node-side runner executing real
allocator scripts, and the LUs that use it (gnt-debug iallocator, node
evacuate, migrate with -I).

The node data the master would fetch comes from the recording RPC double
of test_cmdlib; real node daemons and Debian's hail are exercised by
test/py/cluster/test_iallocator_cluster.py.
"""

import json
import os
import sys

import pytest

from ganeti import constants
from ganeti import errors
from ganeti import iallocator
from ganeti import objects
from ganeti import pathutils
from ganeti.backend import common as backend_common
from ganeti.backend import iallocator as ial_backend

from test_cmdlib import FakeRpc, MASTER, NODE2, NODE3, run_lu, uuid_of
from test_cmdlib import cfg, root  # noqa: F401 (fixtures)
from test_instance_migration import add_instance, healthy_rpc

FREE = {MASTER: 3000, NODE2: 5000, NODE3: 4000}


def _node_info(name, args):
    storage = [{"type": unit[0], "name": unit[1], "storage_free": 7000,
                "storage_size": 9000} for unit in args[0]]
    hv = [{"memory_free": FREE[name], "memory_total": 8192,
           "memory_dom0": 512, "cpu_total": 4, "cpu_dom0": 1}
          for _ in args[1]]
    return ["boot-" + name, storage, hv]


def live_rpc(running=None, **extra):
    """Nodes answering node_info/all_instances_info; ``running``: {node:
    {instance: info}}; ``iallocator_runner`` runs the real backend."""
    running = running or {}
    handlers = {
        "node_info": _node_info,
        "all_instances_info": lambda name, args: running.get(name, {}),
        "iallocator_runner":
            lambda name, args: ial_backend.iallocator_runner(*args),
    }
    handlers.update(extra)
    return FakeRpc(handlers)


def install(name, text):
    """A real allocator script in the (relocated) search path."""
    directory = pathutils.IALLOCATOR_SEARCH_PATH[0]
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    with open(path, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o755)
    return path


# Answers with a fixed response; keeps what it was called with.
ECHO_ALLOCATOR = """#!%s
import json, os, sys
here = os.path.dirname(os.path.abspath(sys.argv[0]))
with open(sys.argv[-1]) as handle:
    request = json.load(handle)
with open(os.path.join(here, "seen.json"), "w") as handle:
    json.dump({"args": sys.argv[1:-1], "input": request,
               "input_file": sys.argv[-1]}, handle)
sys.stdout.write(%%r)
""" % sys.executable


def echo_allocator(name, response):
    text = response if isinstance(response, str) else json.dumps(response)
    return install(name, ECHO_ALLOCATOR % text)


def seen():
    with open(os.path.join(pathutils.IALLOCATOR_SEARCH_PATH[0],
                           "seen.json")) as handle:
        return json.load(handle)


def alloc_params(**kwargs):
    params = dict(name="new1.gnt.test", memory=512, disk_template="file",
                  disks=[{"size": 1024, "mode": "rw"}], os="noop",
                  tags=["a"], nics=[{"mac": "aa:00:00:00:00:01",
                                     "ip": None, "mode": "bridged",
                                     "link": "br0"}],
                  vcpus=2, hypervisor="fake")
    params.update(kwargs)
    return params


# --- the input message -----------------------------------------------------

def test_message_of_an_allocate_request(cfg):
    add_instance(cfg, "run1.gnt.test", constants.DT_FILE, pnode=NODE2)
    add_instance(cfg, "down1.gnt.test", pnode=NODE2,
                 admin_state=constants.ADMINST_DOWN)
    node3 = cfg.get_node_info_by_name(NODE3)
    node3.offline = True
    node3.master_candidate = False
    cfg.update(node3)
    # run1 (maxmem 128) only uses 100 MiB: free memory drops by 28
    rpc = live_rpc(running={NODE2: {"run1.gnt.test": {"memory": 100}}})
    ial = iallocator.IAllocator(cfg, rpc, iallocator.MODE_ALLOC,
                                **alloc_params())
    data = json.loads(ial.in_text)
    assert data == ial.in_data
    assert sorted(data) == ["cluster_name", "cluster_tags",
                            "enabled_hypervisors", "instances", "ipolicy",
                            "nodegroups", "nodes", "request", "version"]
    assert data["version"] == 2
    assert data["cluster_name"] == "cluster.gnt.test"
    assert data["enabled_hypervisors"] == ["fake"]
    assert data["ipolicy"]["minmax"][0]["min"]["memory-size"] == 128
    group_uuid = cfg.get_node_info_by_name(MASTER).group
    assert data["nodegroups"] == {group_uuid: {
        "name": "default", "alloc_policy": "preferred", "networks": [],
        "ipolicy": data["nodegroups"][group_uuid]["ipolicy"], "tags": []}}
    node2 = data["nodes"][NODE2]
    assert node2["group"] == group_uuid and node2["offline"] is False
    assert node2["ndparams"]["spindle_count"] == 1
    assert (node2["total_memory"], node2["reserved_memory"],
            node2["free_memory"]) == (8192, 512, 5000 - 28)
    assert (node2["total_disk"], node2["free_disk"]) == (9000, 7000)
    assert (node2["total_spindles"], node2["free_spindles"]) == (0, 0)
    assert (node2["total_cpus"], node2["reserved_cpus"]) == (4, 1)
    assert (node2["i_pri_memory"], node2["i_pri_up_memory"]) == (256, 128)
    assert data["nodes"][MASTER]["free_memory"] == 3000
    # offline nodes carry no dynamic figures and are not asked
    assert data["nodes"][NODE3]["offline"] is True
    assert "free_memory" not in data["nodes"][NODE3]
    assert all(NODE3 not in call[1] for call in rpc.calls)
    # node_info asked for the file storage and the request's hypervisor
    args = rpc.called("node_info")[0][2]
    assert args[0][0][0] == "file" and args[1][0][0] == "fake"
    run1 = data["instances"]["run1.gnt.test"]
    assert run1 == {
        "tags": [], "admin_state": "up", "vcpus": 1, "memory": 128,
        "spindle_use": 1, "os": "noop", "nodes": [NODE2], "nics": [],
        "disks": [{"size": 1024, "mode": "rw", "spindles": None,
                   "dev_type": "file"}],
        "disk_space_total": 1024, "disk_template": "file",
        "disks_active": True, "hypervisor": "fake"}
    assert data["instances"]["down1.gnt.test"]["disk_template"] == \
        "diskless"
    assert data["request"] == {
        "type": "allocate", "name": "new1.gnt.test",
        "disk_template": "file", "tags": ["a"], "os": "noop", "vcpus": 2,
        "memory": 512, "spindle_use": 1,
        "disks": [{"size": 1024, "mode": "rw", "spindles": None}],
        "disk_space_total": 1024,
        "nics": [{"mac": "aa:00:00:00:00:01", "ip": None,
                  "mode": "bridged", "link": "br0", "network": None,
                  "bridge": "br0"}],
        "required_nodes": 1, "hypervisor": "fake"}


def test_drained_nodes_keep_figures_locked_ones_restrict_the_choice(cfg):
    node2 = cfg.get_node_info_by_name(NODE2)
    node2.drained = True
    node2.master_candidate = False
    cfg.update(node2)
    ial = iallocator.IAllocator(
        cfg, live_rpc(), iallocator.MODE_ALLOC,
        node_whitelist=[uuid_of(cfg, MASTER), uuid_of(cfg, NODE2)],
        **alloc_params())
    nodes = ial.in_data["nodes"]
    assert nodes[NODE2]["drained"] is True
    assert nodes[NODE2]["free_memory"] == 5000
    # unlocked node3 keeps its figures (cluster capacity is not
    # underestimated); the allocate request names the allowed nodes
    assert nodes[NODE3]["offline"] is False
    assert nodes[NODE3]["free_memory"] == 4000
    assert ial.in_data["request"]["restrict-to-nodes"] == [MASTER, NODE2]


def test_a_node_without_data_fails_the_request(cfg):
    rpc = live_rpc(node_info=lambda name, args: (_ for _ in ()).throw(
        Exception("Error 500: boom")) if name == NODE2 else
        _node_info(name, args))
    with pytest.raises(errors.OpExecError) as err:
        iallocator.IAllocator(cfg, rpc, iallocator.MODE_ALLOC,
                              **alloc_params())
    assert str(err.value) == "Can't get data for node %s: Error 500:" \
        " boom" % NODE2
    rpc = live_rpc(node_info=lambda name, args: [None, [], [{}]])
    with pytest.raises(errors.OpExecError) as err:
        iallocator.IAllocator(cfg, rpc, iallocator.MODE_ALLOC,
                              **alloc_params())
    assert "didn't return attribute 'memory_free'" in str(err.value)


@pytest.mark.parametrize("template,disks,space,nodes", [
    ("diskless", [], 0, 1),
    ("file", [{"size": 1024}, {"size": 2048}], 3072, 1),
    ("sharedfile", [{"size": 100}], 100, 1),
    ("blockdev", [{"size": 100}], 0, 1),
    ("drbd", [{"size": 1024}, {"size": 1024}], 2048 + 2 * 128, 2),
])
def test_allocate_space_and_node_count(cfg, template, disks, space, nodes):
    ial = iallocator.IAllocator(cfg, live_rpc(), iallocator.MODE_ALLOC,
                                **alloc_params(disk_template=template,
                                               disks=disks))
    assert ial.request["disk_space_total"] == space
    assert ial.request["required_nodes"] == nodes


def test_relocate_request(cfg):
    add_instance(cfg, "sf1.gnt.test", constants.DT_SHARED_FILE, pnode=NODE2)
    add_instance(cfg, "f1.gnt.test", constants.DT_FILE)
    ial = iallocator.IAllocator(
        cfg, live_rpc(), iallocator.MODE_RELOC,
        inst_uuid=cfg.get_instance_info_by_name("sf1.gnt.test").uuid,
        relocate_from=[uuid_of(cfg, NODE2)])
    assert ial.in_data["request"] == {
        "type": "relocate", "name": "sf1.gnt.test", "disk_space_total": 1024,
        "required_nodes": 1, "relocate_from": [NODE2]}
    # the default hypervisor's figures, less what the stopped-but-up
    # f1 (maxmem 128, not running) may claim
    assert ial.in_data["nodes"][MASTER]["free_memory"] == 3000 - 128
    with pytest.raises(errors.OpPrereqError) as err:
        iallocator.IAllocator(
            cfg, live_rpc(), iallocator.MODE_RELOC,
            inst_uuid=cfg.get_instance_info_by_name("f1.gnt.test").uuid,
            relocate_from=[uuid_of(cfg, MASTER)])
    assert err.value.args == ("Can't relocate non-mirrored instances",
                              errors.ECODE_INVAL)


def test_evacuate_group_change_multi_alloc_and_secondary_requests(cfg):
    add_instance(cfg, "d1.gnt.test")
    group = cfg.get_node_info_by_name(MASTER).group
    rpc = live_rpc()
    cases = [
        (iallocator.MODE_NODE_EVAC,
         dict(instances=["d1.gnt.test"], evac_mode="primary-only"),
         {"instances": ["d1.gnt.test"], "evac_mode": "primary-only"}),
        (iallocator.MODE_CHG_GROUP,
         dict(instances=["d1.gnt.test"], target_groups=[group]),
         {"instances": ["d1.gnt.test"], "target_groups": [group]}),
        (iallocator.MODE_ALLOC_SECONDARY, dict(name="d1.gnt.test"),
         {"name": "d1.gnt.test"}),
    ]
    for mode, params, request in cases:
        ial = iallocator.IAllocator(cfg, rpc, mode, **params)
        request = dict(request, type=mode)
        assert ial.in_data["request"] == request, mode
    ial = iallocator.IAllocator(
        cfg, rpc, iallocator.MODE_MULTI_ALLOC,
        instances=[alloc_params(name="m0"),
                   alloc_params(name="m1", disk_template="diskless",
                                disks=[])])
    request = ial.in_data["request"]
    assert request["type"] == "multi-allocate"
    assert [(i["name"], i["disk_space_total"], i["required_nodes"])
            for i in request["instances"]] == [("m0", 1024, 1),
                                               ("m1", 0, 1)]
    assert "type" not in request["instances"][0]
    with pytest.raises(errors.OpPrereqError) as err:
        iallocator.IAllocator(cfg, rpc, iallocator.MODE_NODE_EVAC,
                              instances=[], evac_mode="sideways")
    assert err.value.args[0] == "Invalid evacuation mode 'sideways'"


def test_request_parameters_are_checked(cfg):
    with pytest.raises(errors.ProgrammerError) as err:
        iallocator.IAllocator(cfg, live_rpc(), iallocator.MODE_ALLOC,
                              name="x")
    assert "missing" in str(err.value) and "'memory'" in str(err.value)
    with pytest.raises(errors.ProgrammerError):
        iallocator.IAllocator(cfg, live_rpc(), iallocator.MODE_NODE_EVAC,
                              instances=[], evac_mode="all", bogus=1)
    with pytest.raises(errors.ProgrammerError):
        iallocator.IAllocator(cfg, live_rpc(), "teleport")


# --- answers ---------------------------------------------------------------

_NODES = iallocator.REQUESTS[iallocator.MODE_ALLOC].result
_EVAC = iallocator.REQUESTS[iallocator.MODE_NODE_EVAC].result
_MULTI = iallocator.REQUESTS[iallocator.MODE_MULTI_ALLOC].result


def test_parse_response():
    ok = json.dumps({"success": True, "info": "fine", "result": ["n1"]})
    assert iallocator.parse_response(ok, _NODES)[:3] == (True, "fine",
                                                         ["n1"])
    # pre-2.1 allocators answer "nodes"
    old = json.dumps({"success": True, "info": "", "nodes": ["n2"]})
    assert iallocator.parse_response(old, _NODES)[2] == ["n2"]
    # a refusal's result is not checked
    no = json.dumps({"success": False, "info": "no room", "result": None})
    assert iallocator.parse_response(no, _NODES)[:2] == (False, "no room")
    for text, message in [
            ("{", "Can't parse iallocator results: "),
            ("[1]", "Can't parse iallocator results: not a dict"),
            ('{"success": true, "result": []}',
             "Can't parse iallocator results: missing key 'info'")]:
        with pytest.raises(errors.OpExecError) as err:
            iallocator.parse_response(text, _NODES)
        assert str(err.value).startswith(message)
    bad = json.dumps({"success": True, "info": "", "result": "n1"})
    with pytest.raises(errors.ResultValidationError) as err:
        iallocator.parse_response(bad, _NODES)
    assert str(err.value) == ("iallocator returned invalid result, expected"
                              " List of NonEmptyString, got n1")


def test_result_checks_of_evacuation_and_multi_allocation():
    job = [{"OP_ID": "OP_INSTANCE_MIGRATE", "instance_name": "i1"}]
    assert _EVAC([[["i1", "g1", ["n2"]]], [], [job]])
    assert _EVAC([[], [["i2", "no room"], ["i3", None]], []])
    assert not _EVAC([[], [], [[{"OP_ID": "OP_INSTANCE_REMOVE"}]]])
    assert not _EVAC([[["i1", "g1"]], [], []])
    assert not _EVAC([[], []])
    assert _MULTI([[["m0", ["n1"]], ["m1", ["n2", "n3"]]], ["m2"]])
    assert not _MULTI([[["m0", "n1"]], []])


def test_relocation_must_stay_in_the_group(cfg):
    add_instance(cfg, "sf1.gnt.test", constants.DT_SHARED_FILE)
    group = objects.NodeGroup(name="other", uuid="uuid-g2", ndparams={},
                              diskparams={}, ipolicy={}, networks={},
                              alloc_policy="preferred", tags=[])
    cfg.add_node_group(group)
    node3 = cfg.get_node_info_by_name(NODE3)
    node3.group = "uuid-g2"
    cfg.update(node3)
    inst_uuid = cfg.get_instance_info_by_name("sf1.gnt.test").uuid
    for answer, good in ((NODE2, True), (NODE3, False)):
        echo_allocator("fixed", {"success": True, "info": "",
                                 "result": [answer]})
        ial = iallocator.IAllocator(cfg, live_rpc(), iallocator.MODE_RELOC,
                                    inst_uuid=inst_uuid,
                                    relocate_from=[uuid_of(cfg, MASTER)])
        if good:
            ial.run("fixed")
            assert ial.result == [NODE2]
            continue
        with pytest.raises(errors.ResultValidationError) as err:
            ial.run("fixed")
        assert str(err.value) == ("Groups of nodes returned by iallocator"
                                  " (default, other) differ from original"
                                  " groups (default)")


# --- running (real scripts through the node-side runner) -------------------

def test_runner_passes_parameters_and_removes_its_input(cfg):
    path = echo_allocator("echo", {"success": True, "info": "ok",
                                   "result": [NODE2]})
    cluster = cfg.get_cluster_info()
    cluster.default_iallocator_params = {"verbose": "2"}
    cfg.update(cluster)
    add_instance(cfg, "d1.gnt.test")
    rpc = live_rpc()
    ial = iallocator.IAllocator(cfg, rpc, iallocator.MODE_NODE_EVAC,
                                instances=["d1.gnt.test"], evac_mode="all",
                                ignore_soft_errors=True)
    ial.run("echo", validate=False)
    assert json.loads(ial.out_text)["result"] == [NODE2]
    got = seen()
    assert got["args"] == ["--ignore-soft-errors", "--verbose=2"]
    assert got["input"] == ial.in_data
    assert os.path.basename(got["input_file"]).startswith(
        "ganeti-iallocator.")
    assert not os.path.exists(got["input_file"])
    call = rpc.called("iallocator_runner")[0]
    assert call[1] == [MASTER] and call[2][0] == "echo"
    assert os.path.exists(path)


def test_runner_failures():
    with pytest.raises(backend_common.RPCFail) as err:
        ial_backend.iallocator_runner("nosuch", "{}", {})
    assert str(err.value) == ("iallocator module 'nosuch' not found in the"
                              " search path")
    for name in ("../bin/sh", ".", ""):
        assert ial_backend.find_allocator(name) is None
    install("broken", "#!/bin/sh\necho 'cannot read the cluster' >&2\n"
            "exit 1\n")
    with pytest.raises(backend_common.RPCFail) as err:
        ial_backend.iallocator_runner("broken", "{}", {})
    assert str(err.value) == ("iallocator module 'broken' failed: exited"
                              " with exit code 1, output 'cannot read the"
                              " cluster\n'")
    assert ial_backend.allocator_args({"b": "1", "a": None}) == \
        ["--a", "--b=1"]


def test_search_path_follows_the_root_directory(root):
    assert pathutils.IALLOCATOR_SEARCH_PATH[0].startswith(str(root))
    assert [p[len(str(root)):] for p in pathutils.IALLOCATOR_SEARCH_PATH] \
        == ["/usr/lib/ganeti/iallocators",
            "/usr/local/lib/ganeti/iallocators"]


# --- the LUs ---------------------------------------------------------------

def _test_allocator_op(**kwargs):
    op = {"OP_ID": "OP_TEST_ALLOCATOR", "direction": "in",
          "mode": "allocate", "name": "new1.gnt.test",
          "disks": [{"size": 1024, "mode": "rw"}], "disk_template": "file",
          "nics": [{"mac": "00:11:22:33:44:55", "ip": None,
                    "bridge": None}],
          "memory": 128, "vcpus": 1, "os": "noop", "tags": []}
    op.update(kwargs)
    return op


def test_test_allocator_shows_input_and_output(cfg):
    add_instance(cfg, "sf1.gnt.test", constants.DT_SHARED_FILE)
    result, _, _ = run_lu(cfg, live_rpc(), _test_allocator_op())
    data = json.loads(result)
    assert data["request"]["type"] == "allocate"
    assert data["request"]["nics"] == [{
        "mac": "00:11:22:33:44:55", "ip": None, "mode": None, "link": None,
        "network": None, "bridge": None}]
    assert "sf1.gnt.test" in data["instances"]
    # relocate: an externally mirrored instance moves off its primary
    result, _, _ = run_lu(cfg, live_rpc(), _test_allocator_op(
        mode="relocate", name="sf1"))
    assert json.loads(result)["request"]["relocate_from"] == [MASTER]
    # out: the allocator's answer, unvalidated
    echo_allocator("raw", "not json at all")
    result, _, _ = run_lu(cfg, live_rpc(), _test_allocator_op(
        direction="out", iallocator="raw"))
    assert result == "not json at all"
    for op, text in [
            (_test_allocator_op(direction="out"), "Missing allocator name"),
            (_test_allocator_op(name="sf1.gnt.test"),
             "Instance 'sf1.gnt.test' already in the cluster"),
            (_test_allocator_op(disks=[{"size": "big"}]),
             "Invalid contents of the 'disks' parameter"),
            (_test_allocator_op(mode="node-evacuate", instances=[]),
             "Missing instances"),
            (_test_allocator_op(mode="sideways"),
             "Invalid test allocator mode 'sideways'")]:
        with pytest.raises(errors.OpPrereqError) as err:
            run_lu(cfg, live_rpc(), op)
        assert err.value.args[0] == text


def test_migrate_with_an_allocator(cfg):
    add_instance(cfg, "d1.gnt.test")
    echo_allocator("to-node3", {"success": True, "info": "",
                                "result": [NODE3]})
    rpc = healthy_rpc(**dict(live_rpc().handlers, node_info=_node_info))
    result, messages, lu = run_lu(cfg, rpc, {
        "OP_ID": "OP_INSTANCE_MIGRATE", "instance_name": "d1.gnt.test",
        "iallocator": "to-node3"})
    assert "Selected nodes for instance d1.gnt.test via iallocator" \
        " to-node3: %s" % NODE3 in messages
    inst = cfg.get_instance_info_by_name("d1.gnt.test")
    assert inst.primary_node == uuid_of(cfg, NODE3)
    assert lu.needed_locks[constants.LOCKS_NODE] == constants.LOCKS_ALL
    request = seen()["input"]["request"]
    assert request["type"] == "relocate"
    assert request["relocate_from"] == [MASTER]
    # a refusal keeps the instance where it is
    echo_allocator("none", {"success": False, "info": "no node fits",
                            "result": []})
    with pytest.raises(errors.OpPrereqError) as err:
        run_lu(cfg, rpc, {"OP_ID": "OP_INSTANCE_FAILOVER",
                          "instance_name": "d1.gnt.test",
                          "iallocator": "none"})
    assert err.value.args == ("Can't compute nodes using iallocator 'none':"
                              " no node fits", errors.ECODE_NORES)
    assert cfg.get_instance_info_by_name("d1.gnt.test").primary_node == \
        uuid_of(cfg, NODE3)


def test_node_evacuate_submits_the_allocators_jobs(cfg):
    add_instance(cfg, "d1.gnt.test", pnode=NODE2)
    add_instance(cfg, "d2.gnt.test", pnode=NODE2)
    jobs = [[{"OP_ID": "OP_INSTANCE_MIGRATE", "instance_name": name,
              "target_node": MASTER, "allow_failover": True}]
            for name in ("d1.gnt.test", "d2.gnt.test")]
    moved = [[name, "default", [MASTER]]
             for name in ("d1.gnt.test", "d2.gnt.test")]
    echo_allocator("evac", {"success": True, "info": "",
                            "result": [moved, [], jobs]})
    op = {"OP_ID": "OP_NODE_EVACUATE", "node_name": NODE2,
          "mode": "primary-only", "iallocator": "evac"}
    result, messages, lu = run_lu(cfg, live_rpc(), op)
    assert [[o.OP_ID for o in job] for job in result.jobs] == \
        [["OP_INSTANCE_MIGRATE"], ["OP_INSTANCE_MIGRATE"]]
    assert [job[0].instance_name for job in result.jobs] == \
        ["d1.gnt.test", "d2.gnt.test"]
    assert " - INFO: Instances to be moved: d1.gnt.test (to %s)," \
        " d2.gnt.test (to %s)" % (MASTER, MASTER) in messages
    assert lu.needed_locks[constants.LOCKS_NODE] == constants.LOCKS_ALL
    request = seen()["input"]["request"]
    assert request == {"type": "node-evacuate", "evac_mode": "primary-only",
                       "instances": ["d1.gnt.test", "d2.gnt.test"]}
    # instances the allocator cannot place fail the evacuation
    echo_allocator("evac", {"success": True, "info": "", "result": [
        [], [["d1.gnt.test", "no room"]], []]})
    with pytest.raises(errors.OpExecError) as err:
        run_lu(cfg, live_rpc(), op)
    assert str(err.value) == "Unable to evacuate instances d1.gnt.test" \
        " (no room)"
    echo_allocator("evac", {"success": False, "info": "cluster full",
                            "result": []})
    with pytest.raises(errors.OpPrereqError) as err:
        run_lu(cfg, live_rpc(), op)
    assert err.value.args[0] == ("Can't compute node evacuation using"
                                 " iallocator 'evac': cluster full")


def test_default_allocator_and_shortcut(cfg):
    op = {"OP_ID": "OP_NODE_EVACUATE", "node_name": NODE2, "mode": "all"}
    with pytest.raises(errors.OpPrereqError) as err:
        run_lu(cfg, live_rpc(), op)
    assert err.value.args[0].startswith("No iallocator or node given and"
                                        " no cluster-wide default")
    cluster = cfg.get_cluster_info()
    cluster.default_iallocator = "evac"
    cfg.update(cluster)
    for extra in ({}, {"iallocator": "."}):
        result, messages, lu = run_lu(cfg, live_rpc(), dict(op, **extra))
        assert lu.op.iallocator == "evac"
        assert messages == ["No instances to evacuate on node %s" % NODE2]
    with pytest.raises(errors.OpPrereqError) as err:
        run_lu(cfg, live_rpc(), dict(op, iallocator="evac",
                                     remote_node=MASTER))
    assert err.value.args[0] == "Do not specify both, iallocator and node"


def test_disk_figures_come_from_the_requests_storage(cfg):
    """Like upstream, free/total disk describe the storage of the template
    being allocated or moved, not the first enabled one."""
    cluster = cfg.get_cluster_info()
    cluster.enabled_disk_templates = ["file", "sharedfile", "diskless"]
    cluster.shared_file_storage_dir = "/srv/ganeti/shared-file-storage"
    cfg.update(cluster)
    add_instance(cfg, "sf2.gnt.test", constants.DT_SHARED_FILE, pnode=NODE2)

    def first_units(mode, **params):
        rpc = live_rpc()
        iallocator.IAllocator(cfg, rpc, mode, **params)
        return set(call[2][0][0][0] for call in rpc.called("node_info"))

    assert first_units(iallocator.MODE_ALLOC,
                       **alloc_params(disk_template="sharedfile")) == \
        set(["sharedfile"])
    assert first_units(iallocator.MODE_ALLOC, **alloc_params()) == \
        set(["file"])
    assert first_units(
        iallocator.MODE_RELOC,
        inst_uuid=cfg.get_instance_info_by_name("sf2.gnt.test").uuid,
        relocate_from=[uuid_of(cfg, NODE2)]) == set(["sharedfile"])


def test_cluster_default_allocator_must_exist(cfg):
    """gnt-cluster modify -I checks the allocator on the master."""
    op = {"OP_ID": "OP_CLUSTER_SET_PARAMS", "default_iallocator": "nosuch"}
    with pytest.raises(errors.OpPrereqError) as err:
        run_lu(cfg, live_rpc(), op)
    assert err.value.args == ("Invalid default iallocator script 'nosuch'"
                              " specified", errors.ECODE_INVAL)
    assert cfg.get_cluster_info().default_iallocator != "nosuch"
    install("present", "#!/bin/sh\nexit 0\n")
    run_lu(cfg, live_rpc(), dict(op, default_iallocator="present"))
    assert cfg.get_cluster_info().default_iallocator == "present"
