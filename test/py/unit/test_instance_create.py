"""Instance LUs against a real ConfigWriter: argument and parameter
checks of OP_INSTANCE_CREATE, the undo of a failed creation, and the
start/stop/remove/query LUs' bookkeeping.

The node side answers through the recording RPC double of
test_cmdlib (the real node daemons are exercised by
test/py/cluster/test_instances_cluster.py).
"""

import json
import os
import sys

import pytest

from ganeti import constants
from ganeti import errors
from ganeti.cmdlib import instance_create
from ganeti.cmdlib import instance_utils

from test_cmdlib import FakeRpc, MASTER, NODE2, run_lu  # noqa: F401
from test_cmdlib import cfg, root  # noqa: F401  (fixtures)
from test_iallocator import install as install_allocator

FREE_MEM = 4096
FREE_DISK = 10240


def _node_info(name, args, free_mem=FREE_MEM):
    storage = [{"type": u[0], "name": u[1], "storage_free": FREE_DISK,
                "storage_size": FREE_DISK * 2} for u in args[0]]
    hv = [{"memory_free": free_mem, "memory_total": 8192,
           "memory_dom0": 8192 - free_mem, "cpu_total": 4, "cpu_dom0": 0}
          for _ in args[1]]
    return ["boot-id", storage, hv]


class Nodes:
    """Node-side state the fake handlers keep: running instances and
    files created."""

    def __init__(self):
        self.running = {}
        self.devices = set()
        self.dirs = set()
        self.fail_start = False

    def handlers(self):
        return {
            "node_info": _node_info,
            "os_validate": self._os_validate,
            "blockdev_create": self._create,
            "blockdev_remove": self._remove,
            "blockdev_assemble": lambda n, a: ["/dev/x", "/link", None],
            "blockdev_shutdown": lambda n, a: None,
            "file_storage_dir_create": lambda n, a: self.dirs.add(a[0]),
            "file_storage_dir_remove": lambda n, a: self.dirs.discard(a[0]),
            "instance_start": self._start,
            "instance_shutdown": self._stop,
            "instance_info": lambda n, a: (
                {"memory": 128, "vcpus": 1, "state": "running", "time": 1}
                if a[0] in self.running else {}),
            "all_instances_info": lambda n, a: dict(
                (k, {"memory": 128, "vcpus": 1, "state": "running",
                     "time": 1}) for k in self.running),
            "instance_os_add": lambda n, a: None,
        }

    @staticmethod
    def _os_validate(name, args):
        if args[1] != "noop":
            raise Exception("Directory for OS %s not found in search path"
                            % args[1])
        return True

    def _create(self, name, args):
        self.devices.add(args[0]["logical_id"][1])
        return args[0]["logical_id"]

    def _remove(self, name, args):
        self.devices.discard(args[0]["logical_id"][1])

    def _start(self, name, args):
        if self.fail_start:
            raise Exception("Hypervisor error: boom")
        self.running[args[0]["name"]] = args[0]

    def _stop(self, name, args):
        self.running.pop(args[0]["name"], None)


@pytest.fixture
def nodes():
    return Nodes()


def _create(cfg, nodes, **kwargs):
    op = {"OP_ID": "OP_INSTANCE_CREATE", "instance_name": "inst1.gnt.test",
          "mode": "create", "disks": [], "nics": [{}],
          "disk_template": "diskless", "os_type": "noop",
          "pnode": MASTER, "name_check": False, "ip_check": False,
          "hypervisor": "fake"}
    op.update(kwargs)
    return run_lu(cfg, FakeRpc(nodes.handlers()), op)


def test_create_diskless_and_start(cfg, nodes):
    result, messages, _ = _create(cfg, nodes)
    assert result == [MASTER]
    assert messages == ["* creating instance disks...",
                        "adding instance inst1.gnt.test to cluster config",
                        "adding disks to cluster config",
                        "* starting instance..."]
    inst = cfg.get_instance_info_by_name("inst1.gnt.test")
    assert inst.admin_state == constants.ADMINST_UP
    assert inst.serial_no == 2
    assert inst.nics[0].mac.startswith("aa:00:00:")
    # the node received filled parameters
    sent = nodes.running["inst1.gnt.test"]
    assert sent["beparams"]["maxmem"] == 128
    assert sent["nics"][0]["nicparams"] == {"mode": "bridged",
                                            "link": "br0", "vlan": ""} or \
        sent["nics"][0]["nicparams"]["link"] == "br0"
    assert sent["disks_info"] == []


def test_duplicate_name(cfg, nodes):
    _create(cfg, nodes)
    with pytest.raises(errors.OpPrereqError) as err:
        _create(cfg, nodes)
    assert err.value.args == ("Instance 'inst1.gnt.test' is already in the"
                              " cluster", errors.ECODE_EXISTS)


def test_unknown_os(cfg, nodes):
    with pytest.raises(errors.OpPrereqError) as err:
        _create(cfg, nodes, os_type="nosuch")
    assert str(err.value.args[0]) == (
        "OS 'nosuch' not in supported OS list for node %s: Directory for OS"
        " nosuch not found in search path" % MASTER)
    assert cfg.get_instance_list() == []


def test_unknown_hvparam_and_bad_value(cfg, nodes):
    with pytest.raises(errors.OpPrereqError) as err:
        _create(cfg, nodes, hvparams={"nosuch": "1"})
    assert "nosuch" in err.value.args[0]


def test_no_node_and_no_iallocator(cfg, nodes):
    with pytest.raises(errors.OpPrereqError) as err:
        _create(cfg, nodes, pnode=None)
    assert err.value.args[0].startswith("No iallocator or node given")


# A real (small) allocator: answers with the online node that has the
# most free memory, and keeps the request it got next to itself.
MOST_FREE_ALLOCATOR = """#!%s
import json, os, sys
request = json.load(open(sys.argv[-1]))
here = os.path.dirname(os.path.abspath(sys.argv[0]))
json.dump({"args": sys.argv[1:-1], "input": request},
          open(os.path.join(here, "last-request.json"), "w"))
nodes = [(n["free_memory"], name) for name, n in request["nodes"].items()
         if not n["offline"] and not n["drained"]]
best = max(nodes)[1]
print(json.dumps({"success": True, "info": "picked " + best,
                  "result": [best]}))
"""


def test_iallocator_picks_a_node(cfg, nodes):
    """-I NAME runs the allocator NAME (the real backend runner and a real
    script) and creates the instance on the node it answered."""
    from ganeti.backend import iallocator as ial_backend
    directory = os.path.dirname(install_allocator(
        "most-free", MOST_FREE_ALLOCATOR % sys.executable))
    handlers = nodes.handlers()
    handlers["node_info"] = lambda name, args: _node_info(
        name, args, free_mem=6000 if name == NODE2 else FREE_MEM)
    handlers["all_instances_info"] = lambda name, args: {}
    handlers["iallocator_runner"] = \
        lambda name, args: ial_backend.iallocator_runner(*args)
    rpc = FakeRpc(handlers)
    op = {"OP_ID": "OP_INSTANCE_CREATE", "instance_name": "inst1.gnt.test",
          "mode": "create", "disks": [], "nics": [{}],
          "disk_template": "diskless", "os_type": "noop",
          "iallocator": "most-free", "name_check": False,
          "ip_check": False, "hypervisor": "fake"}
    result, messages, _ = run_lu(cfg, rpc, op)
    assert result == [NODE2]
    assert " - INFO: Selected nodes for instance inst1.gnt.test via" \
        " iallocator most-free: %s" % NODE2 in messages
    inst = cfg.get_instance_info_by_name("inst1.gnt.test")
    assert cfg.get_node_info(inst.primary_node).name == NODE2
    # the allocator ran on the master and got an allocate request
    assert rpc.called("iallocator_runner")[0][1] == [MASTER]
    with open(os.path.join(directory, "last-request.json")) as handle:
        seen = json.load(handle)
    assert seen["args"] == []
    request = seen["input"]["request"]
    assert request["type"] == "allocate"
    assert request["name"] == "inst1.gnt.test"
    assert request["required_nodes"] == 1
    assert request["disk_template"] == "diskless"
    assert request["memory"] == 128 and request["vcpus"] == 1


def test_iallocator_refusal_and_unknown_allocator(cfg, nodes):
    from ganeti.backend import iallocator as ial_backend
    install_allocator("refuse", "#!/bin/sh\necho '{\"success\": false,"
                      " \"info\": \"no room\", \"result\": []}'\n")
    handlers = nodes.handlers()
    handlers["all_instances_info"] = lambda name, args: {}
    handlers["iallocator_runner"] = \
        lambda name, args: ial_backend.iallocator_runner(*args)
    op = {"OP_ID": "OP_INSTANCE_CREATE", "instance_name": "inst1.gnt.test",
          "mode": "create", "disks": [], "nics": [{}],
          "disk_template": "diskless", "os_type": "noop",
          "iallocator": "refuse", "name_check": False,
          "ip_check": False, "hypervisor": "fake"}
    with pytest.raises(errors.OpPrereqError) as err:
        run_lu(cfg, FakeRpc(handlers), op)
    assert err.value.args == ("Can't compute nodes using iallocator"
                              " 'refuse': no room", errors.ECODE_NORES)
    op["iallocator"] = "nosuch"
    with pytest.raises(errors.OpExecError) as err:
        run_lu(cfg, FakeRpc(handlers), op)
    assert str(err.value) == ("Failure while running the iallocator"
                              " script: iallocator module 'nosuch' not"
                              " found in the search path")
    assert cfg.get_instance_list() == []


def test_disk_too_large_leaves_nothing(cfg, nodes):
    with pytest.raises(errors.OpPrereqError) as err:
        _create(cfg, nodes, disk_template="file",
                disks=[{"size": FREE_DISK + 1}])
    assert "Not enough disk space on target node" in err.value.args[0]
    assert err.value.args[1] == errors.ECODE_NORES
    assert cfg.get_instance_list() == [] and not nodes.devices


def test_ipolicy(cfg, nodes):
    with pytest.raises(errors.OpPrereqError) as err:
        _create(cfg, nodes, disk_template="file", disks=[{"size": 100}])
    assert "violates policy: disk-size/0 value 100 is not in range" \
        " [1024, 1048576]" in err.value.args[0]
    _create(cfg, nodes, disk_template="file", disks=[{"size": 100}],
            ignore_ipolicy=True)


def test_file_disk_logical_id_and_remove(cfg, nodes):
    _create(cfg, nodes, disk_template="file", disks=[{"size": 1024}])
    inst = cfg.get_instance_info_by_name("inst1.gnt.test")
    disk = cfg.get_instance_disks(inst.uuid)[0]
    base = cfg.get_cluster_info().file_storage_dir
    assert disk.logical_id == [
        "loop", "%s/inst1.gnt.test/%s.file.disk0" % (base, disk.uuid)]
    assert disk.iv_name == "disk/0" and disk.size == 1024
    assert nodes.devices == {disk.logical_id[1]}
    run_lu(cfg, FakeRpc(nodes.handlers()),
           {"OP_ID": "OP_INSTANCE_REMOVE", "instance_name": "inst1"})
    assert cfg.get_instance_list() == []
    assert not nodes.devices and not nodes.dirs
    assert not nodes.running


def test_failed_start_undoes_everything(cfg, nodes):
    nodes.fail_start = True
    with pytest.raises(errors.OpExecError) as err:
        _create(cfg, nodes, disk_template="file", disks=[{"size": 1024}])
    assert "Could not start instance" in str(err.value)
    assert cfg.get_instance_list() == []
    assert not nodes.devices and not nodes.dirs


def test_stop_start_reboot_and_query(cfg, nodes):
    _create(cfg, nodes)
    rpc = FakeRpc(nodes.handlers())
    run_lu(cfg, rpc, {"OP_ID": "OP_INSTANCE_SHUTDOWN",
                      "instance_name": "inst1"})
    inst = cfg.get_instance_info_by_name("inst1.gnt.test")
    assert inst.admin_state == "down" and not nodes.running
    data, _, _ = run_lu(cfg, rpc, {"OP_ID": "OP_INSTANCE_QUERY_DATA",
                                   "instances": ["inst1"]})
    assert data["inst1.gnt.test"]["run_state"] == "down"
    assert data["inst1.gnt.test"]["config_state"] == "down"
    run_lu(cfg, rpc, {"OP_ID": "OP_INSTANCE_STARTUP",
                      "instance_name": "inst1"})
    assert "inst1.gnt.test" in nodes.running
    run_lu(cfg, rpc, {"OP_ID": "OP_INSTANCE_REBOOT",
                      "instance_name": "inst1", "reboot_type": "full"})
    assert "inst1.gnt.test" in nodes.running
    with pytest.raises(errors.OpPrereqError) as err:
        run_lu(cfg, rpc, {"OP_ID": "OP_INSTANCE_QUERY_DATA",
                          "instances": ["nosuch"]})
    assert err.value.args == ("Instance 'nosuch' not known",
                              errors.ECODE_NOENT)


def test_ipolicy_violations_texts():
    policy = constants.IPOLICY_DEFAULTS
    assert instance_create.ipolicy_violations(
        policy, 128, 1, 0, 1, [], 1, "diskless") == []
    assert instance_create.ipolicy_violations(
        policy, 64, 1, 0, 0, [], 1, "diskless") == [
        "memory-size value 64 is not in range [128, 32768]",
        "nic-count value 0 is not in range [1, 8]"]


def test_rpc_dict(cfg, nodes):
    _create(cfg, nodes, beparams={"memory": 256})
    inst = cfg.get_instance_info_by_name("inst1.gnt.test")
    data = instance_utils.instance_rpc_dict(cfg, inst)
    assert data["beparams"]["maxmem"] == data["beparams"]["minmem"] == 256
    assert data["disks_info"] == []
    assert "secondary_nodes" not in data


# --- client side ------------------------------------------------------------

def _opts(**kwargs):
    from ganeti.client import gnt_instance  # noqa: F401 (registers options)
    import types
    values = dict(disks=[], sd_size=None, disk_template="file", nics=[],
                  no_nics=False)
    values.update(kwargs)
    return types.SimpleNamespace(**values)


def test_client_disk_and_nic_parsing():
    from ganeti.client import gnt_instance as gi
    assert gi._parse_disks(_opts(disks=[("1", {"size": "2G"}),
                                        ("0", {"size": "512"})])) == \
        [{"size": 512}, {"size": 2048}]
    assert gi._parse_disks(_opts(sd_size=1024)) == [{"size": 1024}]
    for kwargs, text in (
            ({}, "No disk information specified"),
            ({"disks": [("0", {"mode": "rw"})]},
             "Missing size or adoption source for disk 0"),
            ({"disks": [("0", {"size": "1G"})], "sd_size": 5},
             "Please use either the '--disk' or '-s' option"),
            ({"disk_template": "diskless", "sd_size": 5},
             "Diskless instance but disk information passed")):
        with pytest.raises(errors.OpPrereqError) as err:
            gi._parse_disks(_opts(**kwargs))
        assert err.value.args[0] == text
    assert gi._parse_nics(_opts()) == [{}]
    assert gi._parse_nics(_opts(no_nics=True)) == []
    assert gi._parse_nics(_opts(nics=[("1", {"link": "br1"})])) == \
        [{}, {"link": "br1"}]


def test_info_layout_matches_the_recorded_sample(monkeypatch):
    """gnt-instance info of samples/1node/instance-info.out, rebuilt from
    the LU's result for the same instance."""
    import os
    import time
    from ganeti import cli_output
    from ganeti.client import gnt_instance as gi
    sample = "/work/shared/reference/samples/1node/instance-info.out"
    if not os.path.exists(sample):
        pytest.skip("reference samples not available")
    with open(sample) as handle:
        expected = handle.read()
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        ctime = 1795472862  # 2026-11-23 22:27:42 UTC
        data = {
            "name": "inst1.rg.test", "config_state": "up", "run_state": "up",
            "uuid": "e9a0ba18-bda1-451b-a043-c8930788ea1a", "serial_no": 2,
            "ctime": ctime, "mtime": ctime + 1, "pnode": "node1.rg.test",
            "pnode_group_name": "default",
            "pnode_group_uuid": "e325293c-ccab-42f6-8191-579e8ad1c0ea",
            "snodes": [], "snodes_group_names": [],
            "snodes_group_uuids": [], "os": "noop", "os_instance": {},
            "os_actual": {}, "network_port": None, "hypervisor": "fake",
            "hv_instance": {}, "hv_actual": {}, "be_instance": {},
            "be_actual": {"always_failover": False, "auto_balance": True,
                          "maxmem": 128, "memory": 128, "minmem": 128,
                          "spindle_use": 1, "vcpus": 1},
            "nics": [{"mac": "aa:00:00:52:1b:56", "ip": None,
                      "mode": "bridged", "link": "br0", "vlan": "",
                      "network": None, "name": None,
                      "uuid": "0244e9b9-c744-4ecb-bade-7388a240635b"}],
            "disk_template": "diskless", "disks": []}
        text = cli_output.format_generic_info(
            [gi.format_instance_info(data, False)])
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert text == expected
