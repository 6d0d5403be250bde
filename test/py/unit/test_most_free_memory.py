"""Our built-in allocator, tools/iallocators/most-free-memory, answering
real request messages.

Every message is built by ganeti.iallocator from a real ConfigWriter
(nodes, groups, instances of the test) and node figures from the
recording RPC double; the script is put in the (relocated) iallocator
search path and run by the real node-side runner, as the master runs it,
so each answer also passes the master's own validation. The LUs that
submit the answers' jobs (node evacuation) run on top of that.
"""

import json
import os
import subprocess

import pytest

from ganeti import config
from ganeti import constants
from ganeti import errors
from ganeti import iallocator
from ganeti import objects
from ganeti import pathutils

from test_cmdlib import MASTER, NODE2, NODE3, make_config_data, run_lu
from test_cmdlib import uuid_of
from test_cmdlib import cfg, root  # noqa: F401 (fixtures)
from test_iallocator import alloc_params, live_rpc
from test_instance_migration import add_instance

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
SCRIPT = os.path.join(TOP, "tools", "iallocators", "most-free-memory")
NAME = "most-free-memory"
NODE4 = "node4.gnt.test"


@pytest.fixture
def cfg4(root):
    """A 4-node cluster (two pairs fit DRBD moves)."""
    data = make_config_data(extra_nodes=(NODE2, NODE3, NODE4))
    config.ConfigWriter.write_initial(pathutils.CLUSTER_CONF_FILE, data)
    return config.ConfigWriter(pathutils.CLUSTER_CONF_FILE)


def node_rpc(memory, disk=None, running=None):
    """Nodes reporting ``memory`` ({name: free MiB}) and ``disk`` ({name:
    free MiB}, 7000 by default); ``running``: {node: {instance: info}}."""
    disk = disk or {}

    def node_info(name, args):
        storage = [{"type": unit[0], "name": unit[1],
                    "storage_free": disk.get(name, 7000),
                    "storage_size": 9000} for unit in args[0]]
        hv = [{"memory_free": memory[name], "memory_total": 8192,
               "memory_dom0": 512, "cpu_total": 4, "cpu_dom0": 1}
              for _ in args[1]]
        return ["boot-" + name, storage, hv]
    return live_rpc(running=running, node_info=node_info)


MEM = {MASTER: 3000, NODE2: 5000, NODE3: 4000, NODE4: 1000}


def ask(cfg, mode, rpc=None, **params):
    """Build the request, run the allocator as the master does (the real
    runner, then the master's validation); the IAllocator."""
    directory = pathutils.IALLOCATOR_SEARCH_PATH[0]
    os.makedirs(directory, exist_ok=True)
    if not os.path.exists(os.path.join(directory, NAME)):
        os.symlink(SCRIPT, os.path.join(directory, NAME))
    ial = iallocator.IAllocator(cfg, rpc or node_rpc(MEM), mode, **params)
    ial.run(NAME)
    answer = json.loads(ial.out_text)
    assert sorted(answer) == ["info", "result", "success"]
    if not ial.success:
        assert ial.result == [], ial.out_text
    return ial


def set_node(cfg, name, **attrs):
    node = cfg.get_node_info_by_name(name)
    for key, value in attrs.items():
        setattr(node, key, value)
    cfg.update(node)


def add_group(cfg, name, policy, nodes):
    uuid = "uuid-%s" % name
    cfg.add_node_group(objects.NodeGroup(
        name=name, uuid=uuid, ndparams={}, diskparams={}, ipolicy={},
        networks={}, alloc_policy=policy, tags=[]))
    for node in nodes:
        set_node(cfg, node, group=uuid)
    return uuid


def add(cfg, name, template=constants.DT_DISKLESS, pnode=MASTER,
        memory=None, admin_state=constants.ADMINST_UP, snode=None):
    """An instance; ``memory`` sets its maxmem, ``snode`` makes it DRBD."""
    if snode is None:
        uuid = add_instance(cfg, name, template, pnode, admin_state)
    else:
        pnode_uuid, snode_uuid = uuid_of(cfg, pnode), uuid_of(cfg, snode)
        disk = objects.Disk(
            dev_type=constants.DT_DRBD8, size=1024, mode="rw", params={},
            iv_name="disk/0", nodes=[pnode_uuid, snode_uuid],
            logical_id=[pnode_uuid, snode_uuid, 11000, 0, 0, "secret"],
            children=[])
        inst = objects.Instance(
            name=name, primary_node=pnode_uuid, os="noop",
            hypervisor="fake", hvparams={}, beparams={}, osparams={},
            admin_state=admin_state, admin_state_source="admin", nics=[],
            disks=[], disks_active=True, network_port=None,
            forthcoming=False, tags=[])
        uuid = cfg.add_instance(inst, "test", disks=[disk])
    if memory is not None:
        inst = cfg.get_instance_info(uuid)
        inst.beparams = {constants.BE_MAXMEM: memory,
                         constants.BE_MINMEM: memory}
        cfg.update(inst)
    return uuid


def running(*pairs):
    """{node: {instance: info}} of instances running with their maxmem,
    so that they lower nobody's free memory further."""
    result = {}
    for node, name, memory in pairs:
        result.setdefault(node, {})[name] = {"memory": memory}
    return result


# --- allocate ---------------------------------------------------------------

def test_allocate_picks_the_node_with_the_most_free_memory(cfg):
    ial = ask(cfg, iallocator.MODE_ALLOC, **alloc_params())
    assert (ial.success, ial.result) == (True, [NODE2])
    assert ial.info == "Selected %s for instance new1.gnt.test" % NODE2
    # only node2 has 4500 MiB
    ial = ask(cfg, iallocator.MODE_ALLOC, **alloc_params(memory=4500))
    assert ial.result == [NODE2]
    # disk counts as well: node2 has the memory but not the disk
    ial = ask(cfg, iallocator.MODE_ALLOC,
              node_rpc(MEM, disk={NODE2: 500}), **alloc_params())
    assert ial.result == [NODE3]


def test_allocate_stays_on_the_locked_nodes(cfg):
    """Opportunistic locking: only restrict-to-nodes may be chosen."""
    ial = ask(cfg, iallocator.MODE_ALLOC,
              node_whitelist=[uuid_of(cfg, MASTER), uuid_of(cfg, NODE3)],
              **alloc_params())
    assert ial.in_data["request"]["restrict-to-nodes"] == [MASTER, NODE3]
    assert ial.result == [NODE3]          # node2 has more, but is not held
    ial = ask(cfg, iallocator.MODE_ALLOC, node_whitelist=[
        uuid_of(cfg, MASTER)], **alloc_params(memory=4000))
    assert ial.success is False
    assert "%s is not among the nodes allowed" % NODE2 in ial.info


def test_allocate_without_room_fails_with_the_reasons(cfg):
    ial = ask(cfg, iallocator.MODE_ALLOC, **alloc_params(memory=6000))
    assert ial.success is False
    assert ial.info == (
        "No node has room for instance new1.gnt.test (6000 MiB of memory"
        " and 1024 MiB of disk): %s has only 3000 MiB of memory free; %s"
        " has only 5000 MiB of memory free; %s has only 4000 MiB of memory"
        " free" % (MASTER, NODE2, NODE3))
    ial = ask(cfg, iallocator.MODE_ALLOC, **alloc_params(
        disks=[{"size": 8000, "mode": "rw"}]))
    assert ial.success is False
    assert "%s has only 7000 MiB of disk free" % NODE2 in ial.info


def test_drained_offline_and_non_vm_capable_nodes_are_never_used(cfg):
    set_node(cfg, NODE2, drained=True, master_candidate=False)
    ial = ask(cfg, iallocator.MODE_ALLOC, **alloc_params())
    # the message still has node2's figures, the allocator skips it
    assert ial.in_data["nodes"][NODE2]["free_memory"] == 5000
    assert ial.result == [NODE3]
    set_node(cfg, NODE3, offline=True, master_candidate=False)
    assert ask(cfg, iallocator.MODE_ALLOC, **alloc_params()).result == \
        [MASTER]
    set_node(cfg, MASTER, vm_capable=False)
    ial = ask(cfg, iallocator.MODE_ALLOC, **alloc_params())
    assert ial.success is False
    assert ial.info == (
        "No node has room for instance new1.gnt.test (512 MiB of memory"
        " and 1024 MiB of disk): %s is not vm_capable; %s is drained; %s"
        " is offline" % (MASTER, NODE2, NODE3))


def test_allocate_follows_the_group_policies(cfg):
    # node3 alone in a last-resort group, with the most memory
    mem = dict(MEM, **{NODE3: 7000})
    add_group(cfg, "spare", constants.ALLOC_POLICY_LAST_RESORT, [NODE3])
    ial = ask(cfg, iallocator.MODE_ALLOC, node_rpc(mem), **alloc_params())
    assert ial.result == [NODE2]
    # the preferred group is full: the last resort is used
    ial = ask(cfg, iallocator.MODE_ALLOC, node_rpc(mem),
              **alloc_params(memory=6000))
    assert ial.result == [NODE3]
    # a named group is the only one used
    ial = ask(cfg, iallocator.MODE_ALLOC, node_rpc(mem),
              **alloc_params(group_name="spare"))
    assert ial.result == [NODE3]
    default = cfg.get_node_info_by_name(MASTER).group
    ial = ask(cfg, iallocator.MODE_ALLOC, node_rpc(mem),
              **alloc_params(group_name=default, memory=6000))
    assert ial.success is False and "No node has room" in ial.info
    ial = ask(cfg, iallocator.MODE_ALLOC, node_rpc(mem),
              **alloc_params(group_name="nosuch"))
    assert (ial.success, ial.info) == (False,
                                       "Unknown node group 'nosuch'")
    # an unallocable group is never used, even when named
    group = cfg.get_node_group("uuid-spare")
    group.alloc_policy = constants.ALLOC_POLICY_UNALLOCABLE
    cfg.update(group)
    ial = ask(cfg, iallocator.MODE_ALLOC, node_rpc(mem),
              **alloc_params(memory=6000))
    assert ial.success is False
    assert NODE3 not in ial.info
    ial = ask(cfg, iallocator.MODE_ALLOC, node_rpc(mem),
              **alloc_params(group_name="spare"))
    assert (ial.success, ial.info) == (False,
                                       "Node group 'spare' is unallocable")


def test_allocate_two_nodes_for_drbd(cfg):
    params = alloc_params(disk_template=constants.DT_DRBD8)
    ial = ask(cfg, iallocator.MODE_ALLOC, **params)
    assert ial.request["required_nodes"] == 2
    assert ial.result == [NODE2, NODE3]
    # both nodes need the disk (1024 + 128 MiB metadata)
    ial = ask(cfg, iallocator.MODE_ALLOC,
              node_rpc(MEM, disk={NODE3: 1100}), **params)
    assert ial.result == [NODE2, MASTER]
    # the pair is in one group
    add_group(cfg, "other", constants.ALLOC_POLICY_PREFERRED, [NODE3])
    assert ask(cfg, iallocator.MODE_ALLOC, **params).result == \
        [NODE2, MASTER]
    ial = ask(cfg, iallocator.MODE_ALLOC,
              **dict(params, memory=3500))
    assert ial.success is False
    assert ial.info.startswith(
        "No two nodes of one group have room for instance new1.gnt.test"
        " (3500 MiB of memory and 1152 MiB of disk): ")
    assert "%s is the only node of group 'default' with room" % NODE2 in \
        ial.info


def test_multi_allocate_uses_up_what_each_placement_takes(cfg):
    # 2000 MiB each: node2 (5000), node3 (4000), node1 (3000, ahead of
    # node2's 3000 by name), node2, node3; the sixth has no room
    ial = ask(cfg, iallocator.MODE_MULTI_ALLOC, instances=[
        alloc_params(name="m%d" % i, memory=2000, disk_template="diskless",
                     disks=[]) for i in range(6)])
    assert ial.success is True
    assert ial.result == [[["m0", [NODE2]], ["m1", [NODE3]],
                           ["m2", [MASTER]], ["m3", [NODE2]],
                           ["m4", [NODE3]]], ["m5"]]
    assert ial.info.startswith("5 instances allocated, 1 failed: No node"
                               " has room for instance m5")
    # disk is used up too: 3000 MiB disks, 7000 MiB free per node, so
    # node2 stays the one with the most memory until its disk is full
    ial = ask(cfg, iallocator.MODE_MULTI_ALLOC, instances=[
        alloc_params(name="d%d" % i, memory=100,
                     disks=[{"size": 3000, "mode": "rw"}])
        for i in range(7)])
    assert [nodes for _, nodes in ial.result[0]] == \
        [[NODE2], [NODE2], [NODE3], [NODE3], [MASTER], [MASTER]]
    assert ial.result[1] == ["d6"]
    assert "has only 1000 MiB of disk free" in ial.info


# --- relocate and allocate-secondary -----------------------------------------

def test_relocate_moves_within_the_group(cfg):
    add(cfg, "sf1.gnt.test", constants.DT_SHARED_FILE, pnode=NODE2)
    run = running((NODE2, "sf1.gnt.test", 128))
    inst_uuid = cfg.get_instance_info_by_name("sf1.gnt.test").uuid
    params = dict(inst_uuid=inst_uuid, relocate_from=[uuid_of(cfg, NODE2)])
    ial = ask(cfg, iallocator.MODE_RELOC, node_rpc(MEM, running=run),
              **params)
    assert ial.result == [NODE3]
    # node3 in another group: the master's group check would refuse it
    add_group(cfg, "other", constants.ALLOC_POLICY_PREFERRED, [NODE3])
    ial = ask(cfg, iallocator.MODE_RELOC, node_rpc(MEM, running=run),
              **params)
    assert ial.result == [MASTER]
    # shared storage does not move: only memory counts
    ial = ask(cfg, iallocator.MODE_RELOC,
              node_rpc(MEM, disk={MASTER: 0}, running=run), **params)
    assert ial.result == [MASTER]
    ial = ask(cfg, iallocator.MODE_RELOC,
              node_rpc(dict(MEM, **{MASTER: 100}), running=run), **params)
    assert ial.success is False
    assert ial.info == (
        "No node has room for instance sf1.gnt.test in group 'default' (128"
        " MiB of memory and 0 MiB of disk): %s has only 100 MiB of memory"
        " free" % MASTER)


def test_relocate_a_drbd_secondary(cfg4):
    add(cfg4, "dr1.gnt.test", pnode=MASTER, snode=NODE2, memory=256)
    run = running((MASTER, "dr1.gnt.test", 256))
    ial = ask(cfg4, iallocator.MODE_RELOC, node_rpc(MEM, running=run),
              inst_uuid=cfg4.get_instance_info_by_name("dr1.gnt.test").uuid,
              relocate_from=[uuid_of(cfg4, NODE2)])
    assert ial.request["disk_space_total"] == 1024 + 128
    assert ial.result == [NODE3]
    ial = ask(cfg4, iallocator.MODE_RELOC,
              node_rpc(MEM, disk={NODE3: 1000}, running=run),
              inst_uuid=cfg4.get_instance_info_by_name("dr1.gnt.test").uuid,
              relocate_from=[uuid_of(cfg4, NODE2)])
    assert ial.result == [NODE4]


def test_allocate_secondary(cfg):
    add(cfg, "f1.gnt.test", constants.DT_FILE, pnode=NODE2, memory=512)
    run = running((NODE2, "f1.gnt.test", 512))
    ial = ask(cfg, iallocator.MODE_ALLOC_SECONDARY,
              node_rpc(MEM, running=run), name="f1.gnt.test")
    assert (ial.success, ial.result) == (True, NODE3)
    # a DRBD copy needs the disk plus its metadata: 1152 MiB
    ial = ask(cfg, iallocator.MODE_ALLOC_SECONDARY,
              node_rpc(MEM, disk={NODE3: 1151}, running=run),
              name="f1.gnt.test")
    assert ial.result == MASTER
    add_group(cfg, "other", constants.ALLOC_POLICY_PREFERRED, [MASTER])
    ial = ask(cfg, iallocator.MODE_ALLOC_SECONDARY,
              node_rpc(MEM, disk={NODE3: 1151}, running=run),
              name="f1.gnt.test")
    assert (ial.success, ial.result) == (False, [])
    assert ial.info == (
        "No node has room for the secondary of instance f1.gnt.test in"
        " group 'default' (512 MiB of memory and 1152 MiB of disk): %s has"
        " only 1151 MiB of disk free" % NODE3)


# --- node-evacuate and change-group ------------------------------------------

def test_node_evacuate_primary_only(cfg):
    add(cfg, "up1.gnt.test", pnode=NODE2, memory=2000)
    add(cfg, "down1.gnt.test", pnode=NODE2, memory=2000,
        admin_state=constants.ADMINST_DOWN)
    add(cfg, "f1.gnt.test", constants.DT_FILE, pnode=NODE2)
    run = running((NODE2, "up1.gnt.test", 2000), (NODE2, "f1.gnt.test", 128))
    ial = ask(cfg, iallocator.MODE_NODE_EVAC, node_rpc(MEM, running=run),
              instances=["down1.gnt.test", "f1.gnt.test", "up1.gnt.test"],
              evac_mode="primary-only")
    moved, failed, jobs = ial.result
    # node3 (4000) takes the first, then node1 (3000) beats node3 (2000)
    assert moved == [["down1.gnt.test", "default", [NODE3]],
                     ["up1.gnt.test", "default", [MASTER]]]
    assert failed == [["f1.gnt.test",
                       "Instances of type file cannot be relocated"]]
    assert jobs == [
        [{"OP_ID": "OP_INSTANCE_FAILOVER", "instance_name": "down1.gnt.test",
          "target_node": NODE3}],
        [{"OP_ID": "OP_INSTANCE_MIGRATE", "instance_name": "up1.gnt.test",
          "target_node": MASTER, "allow_failover": True}]]
    assert ial.info == "2 instances moved, 1 failed"
    # no room for the second one
    ial = ask(cfg, iallocator.MODE_NODE_EVAC,
              node_rpc(dict(MEM, **{MASTER: 1000, NODE3: 3000}),
                       running=run),
              instances=["down1.gnt.test", "up1.gnt.test"],
              evac_mode="primary-only")
    moved, failed, _ = ial.result
    assert moved == [["down1.gnt.test", "default", [NODE3]]]
    assert failed == [["up1.gnt.test", (
        "No node has room for instance up1.gnt.test (2000 MiB of memory and"
        " 0 MiB of disk): %s has only 1000 MiB of memory free; %s has only"
        " 1000 MiB of memory free" % (MASTER, NODE3))]]


def test_node_evacuate_lu_submits_the_jobs(cfg):
    add(cfg, "up1.gnt.test", pnode=NODE2)
    add(cfg, "up2.gnt.test", pnode=NODE2)
    set_node(cfg, NODE3, drained=True, master_candidate=False)
    run = running((NODE2, "up1.gnt.test", 128), (NODE2, "up2.gnt.test", 128))
    ask(cfg, iallocator.MODE_ALLOC, **alloc_params())  # installs it
    op = {"OP_ID": "OP_NODE_EVACUATE", "node_name": NODE2,
          "mode": "primary-only", "iallocator": NAME}
    result, messages, _ = run_lu(cfg, node_rpc(MEM, running=run), op)
    assert [[(o.OP_ID, o.instance_name, o.target_node, o.allow_failover)
             for o in job] for job in result.jobs] == [
        [("OP_INSTANCE_MIGRATE", "up1.gnt.test", MASTER, True)],
        [("OP_INSTANCE_MIGRATE", "up2.gnt.test", MASTER, True)]]
    assert " - INFO: Instances to be moved: up1.gnt.test (to %s)," \
        " up2.gnt.test (to %s)" % (MASTER, MASTER) in messages
    # what the allocator cannot move fails the evacuation
    add(cfg, "f1.gnt.test", constants.DT_FILE, pnode=NODE2)
    with pytest.raises(errors.OpExecError) as err:
        run_lu(cfg, node_rpc(MEM, running=run), op)
    assert str(err.value) == ("Unable to evacuate instances f1.gnt.test"
                              " (Instances of type file cannot be"
                              " relocated)")


def test_node_evacuate_secondary_only_refuses_non_drbd(cfg):
    add(cfg, "sf1.gnt.test", constants.DT_SHARED_FILE, pnode=NODE2)
    ial = ask(cfg, iallocator.MODE_NODE_EVAC,
              node_rpc(MEM, running=running((NODE2, "sf1.gnt.test", 128))),
              instances=["sf1.gnt.test"], evac_mode="secondary-only")
    assert ial.result == [[], [[
        "sf1.gnt.test", "Instances with disk template 'sharedfile' can't"
        " execute change secondary"]], []]


def test_node_evacuate_drbd(cfg4):
    add(cfg4, "dr1.gnt.test", pnode=MASTER, snode=NODE2, memory=256)
    add(cfg4, "dr2.gnt.test", pnode=MASTER, snode=NODE3, memory=256,
        admin_state=constants.ADMINST_DOWN)
    rpc = node_rpc(MEM, running=running((MASTER, "dr1.gnt.test", 256)))
    names = ["dr1.gnt.test", "dr2.gnt.test"]
    # primary-only: each goes to its secondary
    ial = ask(cfg4, iallocator.MODE_NODE_EVAC, rpc, instances=names,
              evac_mode="primary-only")
    moved, failed, jobs = ial.result
    assert moved == [["dr1.gnt.test", "default", [NODE2, MASTER]],
                     ["dr2.gnt.test", "default", [NODE3, MASTER]]]
    assert failed == []
    assert jobs == [
        [{"OP_ID": "OP_INSTANCE_MIGRATE", "instance_name": "dr1.gnt.test",
          "allow_failover": True}],
        [{"OP_ID": "OP_INSTANCE_FAILOVER", "instance_name": "dr2.gnt.test"}]]
    # secondary-only: new secondaries, never the nodes being emptied
    # (node2 and node3) nor the primary
    ial = ask(cfg4, iallocator.MODE_NODE_EVAC, rpc, instances=names,
              evac_mode="secondary-only")
    moved, failed, jobs = ial.result
    assert moved == [["dr1.gnt.test", "default", [MASTER, NODE4]],
                     ["dr2.gnt.test", "default", [MASTER, NODE4]]]
    assert jobs[0] == [{"OP_ID": "OP_INSTANCE_REPLACE_DISKS",
                        "instance_name": "dr1.gnt.test",
                        "mode": "replace_new_secondary",
                        "remote_node": NODE4, "disks": []}]
    # all: dr1 leaves node1 and node2 for node3 (primary) and node4
    ial = ask(cfg4, iallocator.MODE_NODE_EVAC, rpc,
              instances=["dr1.gnt.test"], evac_mode="all")
    moved, failed, jobs = ial.result
    assert moved == [["dr1.gnt.test", "default", [NODE3, NODE4]]]
    assert [(op["OP_ID"], op.get("remote_node")) for op in jobs[0]] == [
        ("OP_INSTANCE_REPLACE_DISKS", NODE3), ("OP_INSTANCE_MIGRATE", None),
        ("OP_INSTANCE_REPLACE_DISKS", NODE4)]
    # both instances: node1, node2 and node3 are emptied, one node left
    ial = ask(cfg4, iallocator.MODE_NODE_EVAC, rpc, instances=names,
              evac_mode="all")
    moved, failed, jobs = ial.result
    assert moved == [] and jobs == []
    assert [f[0] for f in failed] == names
    assert failed[0][1].startswith("No node has room for the new secondary"
                                   " of instance dr1.gnt.test")


def test_change_group(cfg4):
    add(cfg4, "d1.gnt.test", pnode=MASTER)
    add(cfg4, "f1.gnt.test", constants.DT_FILE, pnode=MASTER)
    add(cfg4, "dr1.gnt.test", pnode=MASTER, snode=NODE2)
    run = running((MASTER, "d1.gnt.test", 128), (MASTER, "f1.gnt.test", 128),
                  (MASTER, "dr1.gnt.test", 128))
    rpc = node_rpc(MEM, running=run)
    g2 = add_group(cfg4, "g2", constants.ALLOC_POLICY_PREFERRED,
                   [NODE3, NODE4])
    names = ["d1.gnt.test", "dr1.gnt.test", "f1.gnt.test"]
    for targets in ([g2], []):
        ial = ask(cfg4, iallocator.MODE_CHG_GROUP, rpc, instances=names,
                  target_groups=targets)
        moved, failed, jobs = ial.result
        assert moved == [["d1.gnt.test", "g2", [NODE3]],
                         ["dr1.gnt.test", "g2", [NODE3, NODE4]]]
        assert failed == [["f1.gnt.test", (
            "No allocatable target group for instance f1.gnt.test (group"
            " 'g2': Instances of type file cannot be relocated)")]]
        assert jobs[0] == [{"OP_ID": "OP_INSTANCE_MIGRATE",
                            "instance_name": "d1.gnt.test",
                            "target_node": NODE3, "allow_failover": True}]
        assert [op["OP_ID"] for op in jobs[1]] == [
            "OP_INSTANCE_REPLACE_DISKS", "OP_INSTANCE_MIGRATE",
            "OP_INSTANCE_REPLACE_DISKS"]
    # unallocable targets are not used
    group = cfg4.get_node_group(g2)
    group.alloc_policy = constants.ALLOC_POLICY_UNALLOCABLE
    cfg4.update(group)
    ial = ask(cfg4, iallocator.MODE_CHG_GROUP, rpc,
              instances=["d1.gnt.test"], target_groups=[g2])
    assert ial.result == [[], [["d1.gnt.test", "No allocatable target group"
                                " for instance d1.gnt.test"]], []]


# --- the program itself ------------------------------------------------------

def _run(*args):
    return subprocess.run([SCRIPT] + list(args), capture_output=True,
                          text=True, timeout=60)


def test_program_interface(cfg, tmp_path):
    assert os.access(SCRIPT, os.X_OK)
    ial = iallocator.IAllocator(cfg, node_rpc(MEM), iallocator.MODE_ALLOC,
                                **alloc_params())
    path = tmp_path / "request.json"
    path.write_text(ial.in_text)
    # options are ignored, the file is the last argument
    res = _run("--ignore-soft-errors", "--verbose=2", str(path))
    assert res.returncode == 0 and res.stderr == ""
    assert json.loads(res.stdout) == {
        "success": True, "info": "Selected %s for instance new1.gnt.test" %
        NODE2, "result": [NODE2]}
    # requests it cannot serve are answers, not errors
    data = json.loads(ial.in_text)
    data["request"]["type"] = "multi-evacuate"
    path.write_text(json.dumps(data))
    res = _run(str(path))
    assert res.returncode == 0
    assert json.loads(res.stdout) == {
        "success": False, "info": "Unsupported request type"
        " 'multi-evacuate'", "result": []}
    del data["request"]["memory"]
    data["request"]["type"] = "allocate"
    path.write_text(json.dumps(data))
    assert json.loads(_run(str(path)).stdout) == {
        "success": False, "info": "Malformed allocate request: missing"
        " 'memory'", "result": []}
    # unreadable input is the only error
    path.write_text("{not json")
    res = _run(str(path))
    assert res.returncode == 1 and res.stdout == ""
    assert res.stderr.startswith("most-free-memory: cannot read the"
                                 " request: ")
    res = _run(str(tmp_path / "missing.json"))
    assert res.returncode == 1 and "No such file or directory" in res.stderr
    res = _run()
    assert res.returncode == 1
    assert res.stderr == "Usage: most-free-memory [--OPTION...] INPUT_FILE\n"
