"""Logical units: OP_ID -> LU class, imported on first use.

The table is the only place that ties opcodes to their code; the
processor asks ``get_lu_class`` for each opcode it runs. Modules are
imported lazily so that a daemon (or a test) pays only for the areas it
uses.
"""

import importlib

from ganeti import errors

# OP_ID -> "module:Class", module relative to ganeti.cmdlib
LU_TABLE = {
    # cluster
    "OP_CLUSTER_POST_INIT": "cluster:LUClusterPostInit",
    "OP_CLUSTER_DESTROY": "cluster:LUClusterDestroy",
    "OP_CLUSTER_QUERY": "cluster:LUClusterQuery",
    "OP_CLUSTER_CONFIG_QUERY": "cluster:LUClusterConfigQuery",
    "OP_CLUSTER_REDIST_CONF": "cluster:LUClusterRedistConf",
    "OP_CLUSTER_SET_PARAMS": "cluster:LUClusterSetParams",
    "OP_CLUSTER_ACTIVATE_MASTER_IP": "cluster:LUClusterActivateMasterIp",
    "OP_CLUSTER_DEACTIVATE_MASTER_IP": "cluster:LUClusterDeactivateMasterIp",
    "OP_CLUSTER_VERIFY": "cluster_verify:LUClusterVerify",
    "OP_CLUSTER_VERIFY_CONFIG": "cluster_verify:LUClusterVerifyConfig",
    "OP_CLUSTER_VERIFY_GROUP": "cluster_verify:LUClusterVerifyGroup",
    # nodes
    "OP_NODE_ADD": "node:LUNodeAdd",
    "OP_NODE_REMOVE": "node:LUNodeRemove",
    "OP_NODE_SET_PARAMS": "node:LUNodeSetParams",
    "OP_NODE_QUERYVOLS": "node_storage:LUNodeQueryvols",
    "OP_NODE_QUERY_STORAGE": "node_storage:LUNodeQueryStorage",
    "OP_NODE_MODIFY_STORAGE": "node_storage:LUNodeModifyStorage",
    "OP_REPAIR_NODE_STORAGE": "node_storage:LURepairNodeStorage",
    "OP_OOB_COMMAND": "node_oob:LUOobCommand",
    "OP_NODE_POWERCYCLE": "node_oob:LUNodePowercycle",
    # node groups
    "OP_GROUP_ADD": "group:LUGroupAdd",
    "OP_GROUP_REMOVE": "group:LUGroupRemove",
    "OP_GROUP_RENAME": "group:LUGroupRename",
    "OP_GROUP_SET_PARAMS": "group:LUGroupSetParams",
    "OP_GROUP_ASSIGN_NODES": "group:LUGroupAssignNodes",
    # instances
    "OP_INSTANCE_CREATE": "instance_create:LUInstanceCreate",
    "OP_INSTANCE_MULTI_ALLOC": "instance_multi_alloc:LUInstanceMultiAlloc",
    "OP_INSTANCE_REMOVE": "instance_ops:LUInstanceRemove",
    "OP_INSTANCE_STARTUP": "instance_ops:LUInstanceStartup",
    "OP_INSTANCE_SHUTDOWN": "instance_ops:LUInstanceShutdown",
    "OP_INSTANCE_REBOOT": "instance_ops:LUInstanceReboot",
    "OP_INSTANCE_ACTIVATE_DISKS": "instance_ops:LUInstanceActivateDisks",
    "OP_INSTANCE_DEACTIVATE_DISKS": "instance_ops:LUInstanceDeactivateDisks",
    "OP_INSTANCE_CONSOLE": "instance_ops:LUInstanceConsole",
    "OP_INSTANCE_QUERY_DATA": "instance_query:LUInstanceQueryData",
    # OS definitions
    "OP_OS_DIAGNOSE": "os:LUOsDiagnose",
    # tags
    "OP_TAGS_GET": "tags:LUTagsGet",
    "OP_TAGS_SET": "tags:LUTagsSet",
    "OP_TAGS_DEL": "tags:LUTagsDel",
    "OP_TAGS_SEARCH": "tags:LUTagsSearch",
    # instance movement and modification
    "OP_INSTANCE_MIGRATE": "instance_migration:LUInstanceMigrate",
    "OP_INSTANCE_FAILOVER": "instance_migration:LUInstanceFailover",
    "OP_NODE_MIGRATE": "instance_migration:LUNodeMigrate",
    "OP_NODE_EVACUATE": "node_evacuate:LUNodeEvacuate",
    "OP_INSTANCE_MOVE": "instance_move:LUInstanceMove",
    "OP_INSTANCE_SET_PARAMS": "instance_modify:LUInstanceSetParams",
    "OP_INSTANCE_REINSTALL": "instance_modify:LUInstanceReinstall",
    "OP_INSTANCE_RENAME": "instance_modify:LUInstanceRename",
    "OP_INSTANCE_GROW_DISK": "instance_modify:LUInstanceGrowDisk",
    "OP_INSTANCE_RECREATE_DISKS": "instance_modify:LUInstanceRecreateDisks",
    # test opcodes
    "OP_TEST_DELAY": "misc:LUTestDelay",
    "OP_TEST_DUMMY": "misc:LUTestDummy",
    "OP_TEST_JQUEUE": "misc:LUTestJqueue",
    "OP_TEST_ALLOCATOR": "misc:LUTestAllocator",
}


def register(table):
    """Add rows (OP_ID -> "module:Class") from another area's module.

    Later issues extend the table here rather than editing it in place
    when they live in separate packages; duplicates are a programming
    error because two LUs for one opcode would be ambiguous.
    """
    clash = set(table) & set(LU_TABLE)
    if clash:
        raise errors.ProgrammerError("LUs registered twice: %s" %
                                     ", ".join(sorted(clash)))
    LU_TABLE.update(table)


def get_lu_class(op_id):
    """The LU class implementing ``op_id``; OpCodeUnknown if there is none."""
    target = LU_TABLE.get(op_id)
    if target is None:
        raise errors.OpCodeUnknown("Unknown opcode %s" % op_id)
    module_name, class_name = target.split(":")
    module = importlib.import_module("ganeti.cmdlib." + module_name)
    return getattr(module, class_name)
