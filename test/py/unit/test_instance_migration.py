"""Migrate/failover/node migrate/evacuate LUs: argument and prerequisite
checks with Ganeti's texts, and the RPC sequence of a migration and a
failover, against a real ConfigWriter and a recording fake RPC runner."""

import pytest

from ganeti import constants
from ganeti import errors
from ganeti import objects
from ganeti.cmdlib import base

from test_cmdlib import FakeRpc, MASTER, NODE2, NODE3, run_lu, uuid_of
from test_cmdlib import cfg, root  # noqa: F401 (fixtures)


def add_instance(cfg, name, template=constants.DT_DISKLESS, pnode=MASTER,
                 admin_state=constants.ADMINST_UP):
    pnode_uuid = uuid_of(cfg, pnode)
    disks = []
    if template != constants.DT_DISKLESS:
        disks = [objects.Disk(
            dev_type=template, logical_id=["loop", "/srv/ganeti/%s-storage/"
                                           "%s/d.%s.disk0" % (template, name,
                                                              template)],
            nodes=[pnode_uuid], iv_name="disk/0", size=1024, mode="rw",
            params={}, children=[])]
    inst = objects.Instance(
        name=name, primary_node=pnode_uuid, os="noop", hypervisor="fake",
        hvparams={}, beparams={}, osparams={}, admin_state=admin_state,
        admin_state_source="admin", nics=[], disks=[], disks_active=True,
        network_port=None, forthcoming=False, tags=[])
    return cfg.add_instance(inst, "test", disks=disks)


def healthy_rpc(**extra):
    handlers = {
        "node_info": lambda name, args: [None, [], [{"memory_free": 4096}]],
        "bridges_exist": lambda name, args: None,
        "instance_migratable": lambda name, args: None,
        "migration_info": lambda name, args: "runtime-data",
        "accept_instance": lambda name, args: None,
        "instance_migrate": lambda name, args: None,
        "instance_get_migration_status":
            lambda name, args: {"status": "completed"},
        "instance_finalize_migration_src": lambda name, args: None,
        "instance_finalize_migration_dst": lambda name, args: None,
        "instance_shutdown": lambda name, args: None,
        "blockdev_shutdown": lambda name, args: None,
        "blockdev_assemble": lambda name, args: ["/dev/x", "l", None],
        "instance_start": lambda name, args: None,
    }
    handlers.update(extra)
    return FakeRpc(handlers)


def _fails(cfg, rpc, op, text, ecode=None):
    with pytest.raises(errors.OpPrereqError) as err:
        run_lu(cfg, rpc, op)
    assert text in str(err.value)
    if ecode:
        assert err.value.args[1] == ecode


def test_file_disks_cannot_migrate_or_fail_over(cfg):
    add_instance(cfg, "f1.gnt.test", constants.DT_FILE)
    rpc = healthy_rpc()
    _fails(cfg, rpc, {"OP_ID": "OP_INSTANCE_MIGRATE",
                      "instance_name": "f1.gnt.test", "target_node": NODE2},
           "Instance's disk layout 'file' does not allow migrations",
           errors.ECODE_STATE)
    _fails(cfg, rpc, {"OP_ID": "OP_INSTANCE_FAILOVER",
                      "instance_name": "f1", "target_node": NODE2},
           "Instance's disk layout 'file' does not allow failovers")


def test_target_node_checks(cfg):
    add_instance(cfg, "d1.gnt.test")
    rpc = healthy_rpc()
    _fails(cfg, rpc, {"OP_ID": "OP_INSTANCE_MIGRATE",
                      "instance_name": "d1.gnt.test"},
           "No iallocator or node given and no cluster-wide default"
           " iallocator found")
    _fails(cfg, rpc, {"OP_ID": "OP_INSTANCE_MIGRATE",
                      "instance_name": "d1.gnt.test", "target_node": MASTER},
           "Cannot migrate instance d1.gnt.test to its primary (%s)" %
           MASTER)
    _fails(cfg, rpc, {"OP_ID": "OP_INSTANCE_MIGRATE",
                      "instance_name": "d1.gnt.test", "target_node": NODE2,
                      "live": True, "mode": "live"},
           "Only one of the 'live' and 'mode' parameters are accepted")
    _fails(cfg, rpc, {"OP_ID": "OP_INSTANCE_MIGRATE",
                      "instance_name": "nosuch", "target_node": NODE2},
           "Instance 'nosuch' not known", errors.ECODE_NOENT)


def test_not_enough_memory_on_target(cfg):
    add_instance(cfg, "d1.gnt.test")
    rpc = healthy_rpc(node_info=lambda name, args:
                      [None, [], [{"memory_free": 64}]])
    _fails(cfg, rpc, {"OP_ID": "OP_INSTANCE_MIGRATE",
                      "instance_name": "d1.gnt.test", "target_node": NODE2},
           "Not enough memory on node %s for migrating instance"
           " d1.gnt.test: needed 128 MiB, available 64 MiB" % NODE2,
           errors.ECODE_NORES)


def test_migration_rpc_sequence_and_new_primary(cfg):
    uuid = add_instance(cfg, "d1.gnt.test")
    rpc = healthy_rpc()
    _, messages, lu = run_lu(cfg, rpc, {
        "OP_ID": "OP_INSTANCE_MIGRATE", "instance_name": "d1.gnt.test",
        "target_node": NODE2})
    procs = [c[0] for c in rpc.calls if c[0].startswith(
        ("migration", "accept", "instance_migrate", "instance_get",
         "instance_finalize"))]
    assert procs == ["migration_info", "accept_instance",
                     "instance_migrate", "instance_get_migration_status",
                     "instance_finalize_migration_src",
                     "instance_finalize_migration_dst"]
    accept = rpc.called("accept_instance")[0]
    assert accept[1] == [NODE2] and accept[2][2] == "198.51.100.12"
    migrate = rpc.called("instance_migrate")[0]
    assert migrate[1] == [MASTER] and migrate[2][3] is True   # live
    assert cfg.get_instance_info(uuid).primary_node == uuid_of(cfg, NODE2)
    assert messages[-1] == "* done"


def test_failed_migration_aborts_both_sides(cfg):
    uuid = add_instance(cfg, "d1.gnt.test")
    rpc = healthy_rpc(instance_get_migration_status=lambda name, args:
                      {"status": "failed", "error": "boom"})
    with pytest.raises(errors.OpExecError) as err:
        run_lu(cfg, rpc, {"OP_ID": "OP_INSTANCE_MIGRATE",
                          "instance_name": "d1.gnt.test",
                          "target_node": NODE2, "mode": "non-live"})
    assert str(err.value) == "Could not migrate instance d1.gnt.test: boom"
    dst = rpc.called("instance_finalize_migration_dst")[0]
    src = rpc.called("instance_finalize_migration_src")[0]
    assert dst[2][2] is False and src[2][1:] == [False, False]
    assert cfg.get_instance_info(uuid).primary_node == uuid_of(cfg, MASTER)


def test_stopped_instance_migrate_falls_back_with_allow_failover(cfg):
    uuid = add_instance(cfg, "d1.gnt.test",
                        admin_state=constants.ADMINST_DOWN)
    rpc = healthy_rpc()
    _, messages, _ = run_lu(cfg, rpc, {
        "OP_ID": "OP_INSTANCE_MIGRATE", "instance_name": "d1.gnt.test",
        "target_node": NODE3, "allow_failover": True})
    assert "Failover instance d1.gnt.test" in messages
    assert not rpc.called("instance_start")
    assert cfg.get_instance_info(uuid).primary_node == uuid_of(cfg, NODE3)


def test_failover_of_unreachable_primary(cfg):
    uuid = add_instance(cfg, "d1.gnt.test", pnode=NODE2)

    def down(name, args):
        if name == NODE2:
            raise RuntimeError("Node is unreachable")
    rpc = healthy_rpc(instance_shutdown=down)
    with pytest.raises(errors.OpExecError) as err:
        run_lu(cfg, rpc, {"OP_ID": "OP_INSTANCE_FAILOVER",
                          "instance_name": "d1.gnt.test",
                          "target_node": NODE3})
    assert str(err.value) == ("Could not shutdown instance d1.gnt.test on"
                              " node %s: Node is unreachable" % NODE2)
    _, messages, _ = run_lu(cfg, rpc, {
        "OP_ID": "OP_INSTANCE_FAILOVER", "instance_name": "d1.gnt.test",
        "target_node": NODE3, "ignore_consistency": True})
    assert any("proceeding anyway; please make sure node %s is down" % NODE2
               in m for m in messages)
    assert rpc.called("instance_start")[-1][1] == [NODE3]
    assert cfg.get_instance_info(uuid).primary_node == uuid_of(cfg, NODE3)


def test_node_migrate_submits_one_job_per_primary_instance(cfg):
    add_instance(cfg, "b.gnt.test", pnode=NODE2)
    add_instance(cfg, "a.gnt.test", pnode=NODE2)
    add_instance(cfg, "c.gnt.test", pnode=NODE3)
    result, _, _ = run_lu(cfg, healthy_rpc(), {
        "OP_ID": "OP_NODE_MIGRATE", "node_name": NODE2,
        "target_node": NODE3, "mode": "non-live"})
    assert isinstance(result, base.ResultWithJobs)
    assert [(job[0].OP_ID, job[0].instance_name, job[0].target_node,
             job[0].mode) for job in result.jobs] == [
        ("OP_INSTANCE_MIGRATE", "a.gnt.test", NODE3, "non-live"),
        ("OP_INSTANCE_MIGRATE", "b.gnt.test", NODE3, "non-live")]


def test_node_evacuate(cfg):
    add_instance(cfg, "a.gnt.test", pnode=NODE2)
    result, _, _ = run_lu(cfg, healthy_rpc(), {
        "OP_ID": "OP_NODE_EVACUATE", "node_name": NODE2,
        "remote_node": NODE3, "mode": "all"})
    assert [(j[0].OP_ID, j[0].instance_name, j[0].allow_failover)
            for j in result.jobs] == [
        ("OP_INSTANCE_MIGRATE", "a.gnt.test", True)]
    _fails(cfg, healthy_rpc(), {"OP_ID": "OP_NODE_EVACUATE",
                                "node_name": NODE2, "mode": "all"},
           "No iallocator or node given")
    _fails(cfg, healthy_rpc(), {"OP_ID": "OP_NODE_EVACUATE",
                                "node_name": NODE2, "remote_node": NODE2,
                                "mode": "all"},
           "Can not use evacuated node as a new secondary node")
    add_instance(cfg, "f.gnt.test", constants.DT_FILE, pnode=NODE2)
    _fails(cfg, healthy_rpc(), {"OP_ID": "OP_NODE_EVACUATE",
                                "node_name": NODE2, "remote_node": NODE3,
                                "mode": "primary-only"},
           "Instance 'f.gnt.test' has disk template file, which can not be"
           " evacuated")
