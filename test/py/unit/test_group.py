"""Node group LUs and the gnt-group/gnt-node client commands around them.

The LUs run against a real ConfigWriter (the 3-node configuration of
``test_cmdlib``); the checks pin Ganeti's error texts, the parameter
merging rules and what ends up in ``config.data``.
"""

import json

import pytest

from ganeti import cli_opts
from ganeti import constants
from ganeti import errors
from ganeti import objects
from ganeti import pathutils
from ganeti.client import gnt_group
from ganeti.client import gnt_node
from ganeti.cmdlib import group as group_lu

from test_cmdlib import (FakeRpc, run_lu, uuid_of, root, cfg,  # noqa: F401
                         MASTER, NODE2, NODE3)


def group_by_name(cfg, name):  # noqa: F811
    for group in cfg.get_all_node_groups_info().values():
        if group.name == name:
            return group
    return None


def add_group(cfg, name, **params):  # noqa: F811
    op = {"OP_ID": "OP_GROUP_ADD", "group_name": name}
    op.update(params)
    return run_lu(cfg, FakeRpc(), op)


def stored_config():
    with open(pathutils.CLUSTER_CONF_FILE) as fh:
        return json.load(fh)


# --- add ---

def test_group_add_stores_group_with_defaults(cfg):  # noqa: F811
    result, _, _ = add_group(cfg, "g2")
    assert result is None
    group = group_by_name(cfg, "g2")
    assert group.alloc_policy == constants.ALLOC_POLICY_PREFERRED
    assert group.ndparams == {} and group.diskparams == {}
    assert group.ipolicy == {} and group.tags == []
    on_disk = stored_config()["nodegroups"][group.uuid]
    assert on_disk["name"] == "g2"


def test_group_add_with_parameters(cfg):  # noqa: F811
    add_group(cfg, "g2", alloc_policy="last_resort",
              ndparams={"spindle_count": "4", "oob_program": "/bin/oob"},
              diskparams={"drbd": {"resync-rate": "1000"}},
              ipolicy={"vcpu-ratio": 2, "disk-templates": ["file"]},
              hv_state={"fake": {"mem_total": "1024"}},
              disk_state={"plain": {"xenvg": {"disk_total": "100"}}})
    group = group_by_name(cfg, "g2")
    assert group.alloc_policy == "last_resort"
    assert group.ndparams == {"spindle_count": 4, "oob_program": "/bin/oob"}
    assert group.diskparams == {"drbd": {"resync-rate": 1000}}
    assert group.ipolicy == {"vcpu-ratio": 2.0, "disk-templates": ["file"]}
    assert group.hv_state_static == {"fake": {"mem_total": 1024}}
    assert group.disk_state_static == {"plain": {"xenvg":
                                                 {"disk_total": 100}}}


def test_group_add_existing_name_is_refused(cfg):  # noqa: F811
    default = group_by_name(cfg, "default")
    with pytest.raises(errors.OpPrereqError) as err:
        add_group(cfg, "default")
    assert err.value.args[0] == (
        "Desired group name 'default' already exists as a node group"
        " (UUID: %s)" % default.uuid)
    assert err.value.args[1] == errors.ECODE_EXISTS


@pytest.mark.parametrize("params, text", [
    ({"alloc_policy": "sometimes"},
     "Parameter 'OP_GROUP_ADD.alloc_policy' fails validation"),
    ({"ndparams": {"bogus": 1}}, "Unknown node parameter 'bogus'"),
    ({"ndparams": {"spindle_count": "many"}},
     "Invalid value for node parameter 'spindle_count'"),
    ({"diskparams": {"nosuch": {}}},
     "While verify diskparams options: Unknown disk template 'nosuch'"),
    ({"diskparams": {"drbd": {"bogus": 1}}},
     "While verify diskparams options: Unknown disk template drbd"
     " parameter 'bogus'"),
    ({"hv_state": {"vmware": {}}},
     "Invalid hypervisor(s) in hypervisor state: vmware"),
    ({"disk_state": {"lvm": {}}},
     "Invalid storage type(s) in disk state: lvm"),
    ({"ipolicy": {"std": {"cpu-count": 1}}},
     "std cannot appear in group instance specs"),
    ({"ipolicy": {"bogus": 1}}, "Invalid key in new ipolicy: bogus"),
    ({"ipolicy": {"disk-templates": ["plain"]}},
     "The following disk template are allowed by the ipolicy, but not"
     " enabled on the cluster: plain"),
])
def test_group_add_rejects_invalid_parameters(cfg, params, text):  # noqa
    with pytest.raises(errors.OpPrereqError) as err:
        add_group(cfg, "g2", **params)
    assert text in err.value.args[0]
    assert group_by_name(cfg, "g2") is None


# --- remove ---

def test_group_remove_empty_group(cfg):  # noqa: F811
    add_group(cfg, "g2")
    run_lu(cfg, FakeRpc(), {"OP_ID": "OP_GROUP_REMOVE", "group_name": "g2"})
    assert group_by_name(cfg, "g2") is None


def test_group_remove_refuses_non_empty_group_with_node_names(cfg):  # noqa
    with pytest.raises(errors.OpPrereqError) as err:
        add_group(cfg, "g2")
        run_lu(cfg, FakeRpc(), {"OP_ID": "OP_GROUP_ASSIGN_NODES",
                                "group_name": "g2", "nodes": [NODE3, NODE2]})
        run_lu(cfg, FakeRpc(), {"OP_ID": "OP_GROUP_REMOVE",
                                "group_name": "g2"})
    assert err.value.args == ("Group 'g2' not empty, has the following"
                              " nodes: %s, %s" % (NODE2, NODE3),
                              errors.ECODE_STATE)


def test_group_remove_default_after_moving_all_nodes(cfg):  # noqa: F811
    add_group(cfg, "g2")
    run_lu(cfg, FakeRpc(), {"OP_ID": "OP_GROUP_ASSIGN_NODES",
                            "group_name": "g2",
                            "nodes": [MASTER, NODE2, NODE3]})
    run_lu(cfg, FakeRpc(), {"OP_ID": "OP_GROUP_REMOVE",
                            "group_name": "default"})
    assert [g.name for g in cfg.get_all_node_groups_info().values()] == \
        ["g2"]


def test_group_remove_unknown_group(cfg):  # noqa: F811
    with pytest.raises(errors.OpPrereqError) as err:
        run_lu(cfg, FakeRpc(), {"OP_ID": "OP_GROUP_REMOVE",
                                "group_name": "nosuch"})
    assert err.value.args == ("Node group 'nosuch' not found",
                              errors.ECODE_NOENT)


class _OneEmptyGroupConfig:
    """Only what LUGroupRemove.check_prereq reads: one group, no nodes
    (a state a real cluster, which has a master, never reaches)."""

    def get_group_node_list(self, uuid):
        return []

    def get_all_node_groups_info(self):
        return {"uuid-g": objects.NodeGroup(name="g", uuid="uuid-g")}


def test_only_group_cannot_be_removed():
    from ganeti.cmdlib import base
    from ganeti import opcodes
    op = opcodes.OpGroupRemove(group_name="g")
    lu = group_lu.LUGroupRemove(base.MasterContext(_OneEmptyGroupConfig(),
                                                   None), op, print)
    lu.group_uuid = "uuid-g"
    with pytest.raises(errors.OpPrereqError) as err:
        lu.check_prereq()
    assert err.value.args == ("Group 'g' is the only group, cannot be"
                              " removed", errors.ECODE_STATE)


# --- rename ---

def test_group_rename(cfg):  # noqa: F811
    add_group(cfg, "g2")
    uuid = group_by_name(cfg, "g2").uuid
    result, _, _ = run_lu(cfg, FakeRpc(), {"OP_ID": "OP_GROUP_RENAME",
                                           "group_name": "g2",
                                           "new_name": "g3"})
    assert result == "g3"
    assert cfg.get_node_group(uuid).name == "g3"
    assert "g3" in cfg.get_ssconf_values()["nodegroups"]


def test_group_rename_to_existing_name(cfg):  # noqa: F811
    add_group(cfg, "g2")
    default = group_by_name(cfg, "default").uuid
    with pytest.raises(errors.OpPrereqError) as err:
        run_lu(cfg, FakeRpc(), {"OP_ID": "OP_GROUP_RENAME",
                                "group_name": "g2", "new_name": "default"})
    assert err.value.args == (
        "Desired new name 'default' clashes with existing node group"
        " (UUID: %s)" % default, errors.ECODE_EXISTS)


# --- modify ---

def test_group_modify_needs_a_change(cfg):  # noqa: F811
    with pytest.raises(errors.OpPrereqError) as err:
        run_lu(cfg, FakeRpc(), {"OP_ID": "OP_GROUP_SET_PARAMS",
                                "group_name": "default"})
    assert err.value.args[0] == "Please pass at least one modification"


def test_group_modify_merges_parameters_and_reports_them(cfg):  # noqa
    add_group(cfg, "g2", ndparams={"spindle_count": 2},
              ipolicy={"vcpu-ratio": 3.0, "spindle-ratio": 5.0})
    result, _, _ = run_lu(cfg, FakeRpc(), {
        "OP_ID": "OP_GROUP_SET_PARAMS", "group_name": "g2",
        "alloc_policy": "unallocable",
        "ndparams": {"ssh_port": "2222", "spindle_count": "default"},
        "diskparams": {"plain": {"stripes": 2}},
        "ipolicy": {"vcpu-ratio": "default", "minmax": [
            {"min": dict(constants.ISPECS_MIN_DEFAULTS),
             "max": dict(constants.ISPECS_MAX_DEFAULTS)}]}})
    group = group_by_name(cfg, "g2")
    assert group.alloc_policy == "unallocable"
    assert group.ndparams == {"ssh_port": 2222}
    assert group.diskparams == {"plain": {"stripes": 2}}
    assert group.ipolicy["spindle-ratio"] == 5.0
    assert "vcpu-ratio" not in group.ipolicy
    assert len(group.ipolicy["minmax"]) == 1
    assert result == [("ndparams", str({"ssh_port": 2222})),
                      ("diskparams", str({"plain": {"stripes": 2}}))]


def test_group_modify_rejects_min_above_max(cfg):  # noqa: F811
    low = dict(constants.ISPECS_MIN_DEFAULTS)
    high = dict(constants.ISPECS_MAX_DEFAULTS)
    low["cpu-count"] = 10
    high["cpu-count"] = 2
    with pytest.raises(errors.OpPrereqError) as err:
        run_lu(cfg, FakeRpc(), {
            "OP_ID": "OP_GROUP_SET_PARAMS", "group_name": "default",
            "ipolicy": {"minmax": [{"min": low, "max": high}]}})
    assert err.value.args[0].startswith("Invalid instance policy:")
    assert "cpu-count" in err.value.args[0]


def test_group_ndparams_reach_the_nodes(cfg):  # noqa: F811
    add_group(cfg, "g2", ndparams={"oob_program": "/etc/ganeti/oob"})
    run_lu(cfg, FakeRpc(), {"OP_ID": "OP_GROUP_ASSIGN_NODES",
                            "group_name": "g2", "nodes": [NODE3]})
    assert cfg.get_ndparams(uuid_of(cfg, NODE3))["oob_program"] == \
        "/etc/ganeti/oob"
    assert cfg.get_ndparams(uuid_of(cfg, NODE2))["oob_program"] == ""


# --- assign nodes ---

def test_assign_nodes_moves_nodes_and_accepts_short_names(cfg):  # noqa
    add_group(cfg, "g2")
    g2 = group_by_name(cfg, "g2").uuid
    run_lu(cfg, FakeRpc(), {"OP_ID": "OP_GROUP_ASSIGN_NODES",
                            "group_name": "g2", "nodes": ["node3"]})
    assert cfg.get_node_info(uuid_of(cfg, NODE3)).group == g2
    assert cfg.get_group_node_list(g2) == [uuid_of(cfg, NODE3)]
    on_disk = stored_config()["nodes"][uuid_of(cfg, NODE3)]
    assert on_disk["group"] == g2


def test_assign_nodes_unknown_node(cfg):  # noqa: F811
    add_group(cfg, "g2")
    with pytest.raises(errors.OpPrereqError) as err:
        run_lu(cfg, FakeRpc(), {"OP_ID": "OP_GROUP_ASSIGN_NODES",
                                "group_name": "g2", "nodes": ["node9"]})
    assert err.value.args == ("Node 'node9' not known", errors.ECODE_NOENT)


def _add_drbd_instance(cfg, name, pnode, snode):  # noqa: F811
    disk = objects.Disk(dev_type=constants.DT_DRBD8, size=1024,
                        logical_id=[pnode, snode, 11000, 0, 0, "secret"],
                        nodes=[pnode, snode], iv_name="disk/0", mode="rw",
                        params={}, children=[])
    inst = objects.Instance(name=name, primary_node=pnode, os="debootstrap",
                            hypervisor="fake", admin_state="down",
                            disks=[], nics=[], beparams={}, hvparams={},
                            osparams={}, tags=[], disks_active=False)
    cfg.add_instance(inst, disks=[disk])


def test_assign_nodes_refuses_to_split_drbd_instance(cfg):  # noqa: F811
    _add_drbd_instance(cfg, "inst1.gnt.test", uuid_of(cfg, NODE2),
                       uuid_of(cfg, NODE3))
    add_group(cfg, "g2")
    with pytest.raises(errors.OpExecError) as err:
        run_lu(cfg, FakeRpc(), {"OP_ID": "OP_GROUP_ASSIGN_NODES",
                                "group_name": "g2", "nodes": [NODE3]})
    assert err.value.args[0] == (
        "The following instances get split by this change and --force was"
        " not given: inst1.gnt.test")
    result, messages, _ = run_lu(cfg, FakeRpc(), {
        "OP_ID": "OP_GROUP_ASSIGN_NODES", "group_name": "g2",
        "nodes": [NODE3], "force": True})
    assert any("This operation will split the following instances:"
               " inst1.gnt.test" in m for m in messages)
    # moving the other node too joins the instance again: no warning
    _, messages, _ = run_lu(cfg, FakeRpc(), {
        "OP_ID": "OP_GROUP_ASSIGN_NODES", "group_name": "g2",
        "nodes": [NODE2]})
    assert not any("split" in m for m in messages)


# --- tags on groups ---

def test_group_tags(cfg):  # noqa: F811
    add_group(cfg, "g2")
    run_lu(cfg, FakeRpc(), {"OP_ID": "OP_TAGS_SET", "kind": "nodegroup",
                            "name": "g2", "tags": ["rack:a", "fast"]})
    result, _, _ = run_lu(cfg, FakeRpc(), {"OP_ID": "OP_TAGS_GET",
                                           "kind": "nodegroup",
                                           "name": "g2"})
    assert result == ["fast", "rack:a"]
    result, _, _ = run_lu(cfg, FakeRpc(), {"OP_ID": "OP_TAGS_SEARCH",
                                           "pattern": "rack"})
    assert result == [("/nodegroup/g2", "rack:a")]


# --- client side ---

def test_group_commands_table_matches_ganeti():
    commands = gnt_group.COMMANDS
    for name in ("add", "assign-nodes", "modify", "remove", "rename",
                 "list", "list-fields", "info", "list-tags", "add-tags",
                 "remove-tags"):
        assert name in commands, name
    assert "units" not in commands["list"][2]
    assert "alloc_policy" in commands["add"][2]
    assert commands["rename"][3] == "[--dry-run] <old-name> <new-name>"


def test_disk_state_option_is_nested_by_storage_type():
    parser = cli_opts.Parser("gnt-group", "add", "", cli_opts.make_option_list(
        gnt_group.COMMANDS["add"][2]))
    opts, args = parser.parse(["--disk-state", "plain/xenvg:disk_total=10",
                               "--hypervisor-state", "fake:mem_total=5",
                               "--alloc-policy", "last_resort", "g2"])
    assert args == ["g2"]
    assert cli_opts.flat_to_dict(opts.disk_state) == \
        {"plain": {"xenvg": {"disk_total": "10"}}}
    assert dict(opts.hv_state) == {"fake": {"mem_total": "5"}}
    assert opts.alloc_policy == "last_resort"


def test_node_commands_table_has_storage_and_power_commands():
    commands = gnt_node.COMMANDS
    for name in ("volumes", "list-storage", "modify-storage",
                 "repair-storage", "powercycle", "power", "health"):
        assert name in commands, name
    assert commands["list-storage"][4] == (
        "List physical volumes on node(s). The available fields are (see"
        " the man page for details): node, type, name, size, used, free,"
        " allocatable.")
    assert "node_powered" in commands["modify"][2]
