"""The opcode table: every OP_ID of Ganeti 3.0 with its parameters.

Each row names the parameters and their defaults (``REQ`` = required);
types come from ``_TYPES`` or are inferred from the default. ``opcodes``
builds the classes from this table, so nothing else repeats it.
"""

from ganeti import constants
from ganeti import ht

REQ = object()  # marker: a required parameter

OP_TABLE = {
    "OP_BACKUP_EXPORT": [("instance_name", REQ), ("compress", "none"), ("shutdown_timeout", 120), ("target_node", REQ), ("shutdown", True), ("remove_instance", False), ("ignore_remove_failures", False), ("mode", "local"), ("x509_key_name", None), ("destination_x509_ca", None), ("zero_free_space", False), ("zeroing_timeout_fixed", None), ("zeroing_timeout_per_mib", None), ("long_sleep", False)],
    "OP_BACKUP_PREPARE": [("instance_name", REQ), ("mode", REQ)],
    "OP_BACKUP_REMOVE": [("instance_name", REQ)],
    "OP_CLUSTER_ACTIVATE_MASTER_IP": [],
    "OP_CLUSTER_CONFIG_QUERY": [("output_fields", REQ)],
    "OP_CLUSTER_DEACTIVATE_MASTER_IP": [],
    "OP_CLUSTER_DESTROY": [],
    "OP_CLUSTER_POST_INIT": [],
    "OP_CLUSTER_QUERY": [],
    "OP_CLUSTER_REDIST_CONF": [],
    "OP_CLUSTER_RENAME": [("name", REQ)],
    "OP_CLUSTER_RENEW_CRYPTO": [("node_certificates", False), ("renew_ssh_keys", False), ("ssh_key_type", None), ("ssh_key_bits", None), ("verbose", False), ("debug", False)],
    "OP_CLUSTER_REPAIR_DISK_SIZES": [("instances", [])],
    "OP_CLUSTER_SET_PARAMS": [("force", False), ("hv_state", None), ("disk_state", None), ("vg_name", None), ("enabled_hypervisors", None), ("hvparams", None), ("beparams", None), ("os_hvp", None), ("osparams", None), ("osparams_private_cluster", None), ("diskparams", None), ("candidate_pool_size", None), ("max_running_jobs", None), ("max_tracked_jobs", None), ("uid_pool", None), ("add_uids", None), ("remove_uids", None), ("maintain_node_health", None), ("prealloc_wipe_disks", None), ("nicparams", None), ("ndparams", None), ("ipolicy", None), ("drbd_helper", None), ("default_iallocator", None), ("default_iallocator_params", None), ("mac_prefix", None), ("master_netdev", None), ("master_netmask", None), ("reserved_lvs", None), ("hidden_os", None), ("blacklisted_os", None), ("use_external_mip_script", None), ("enabled_disk_templates", None), ("modify_etc_hosts", None), ("file_storage_dir", None), ("shared_file_storage_dir", None), ("gluster_storage_dir", None), ("install_image", None), ("instance_communication_network", None), ("zeroing_image", None), ("compression_tools", None), ("enabled_user_shutdown", None), ("enabled_data_collectors", None), ("data_collector_interval", None)],
    "OP_CLUSTER_VERIFY": [("debug_simulate_errors", False), ("error_codes", False), ("skip_checks", []), ("ignore_errors", []), ("verbose", False), ("group_name", None), ("verify_clutter", False)],
    "OP_CLUSTER_VERIFY_CONFIG": [("debug_simulate_errors", False), ("error_codes", False), ("ignore_errors", []), ("verbose", False)],
    "OP_CLUSTER_VERIFY_DISKS": [("group_name", None)],
    "OP_CLUSTER_VERIFY_GROUP": [("group_name", REQ), ("debug_simulate_errors", False), ("error_codes", False), ("skip_checks", []), ("ignore_errors", []), ("verbose", False), ("verify_clutter", False)],
    "OP_EXT_STORAGE_DIAGNOSE": [("output_fields", REQ), ("names", [])],
    "OP_GROUP_ADD": [("group_name", REQ), ("alloc_policy", None), ("ndparams", None), ("diskparams", None), ("hv_state", None), ("disk_state", None), ("ipolicy", None)],
    "OP_GROUP_ASSIGN_NODES": [("group_name", REQ), ("force", False), ("nodes", REQ)],
    "OP_GROUP_EVACUATE": [("group_name", REQ), ("early_release", False), ("iallocator", None), ("target_groups", None), ("sequential", False), ("force_failover", False)],
    "OP_GROUP_REMOVE": [("group_name", REQ)],
    "OP_GROUP_RENAME": [("group_name", REQ), ("new_name", REQ)],
    "OP_GROUP_SET_PARAMS": [("group_name", REQ), ("alloc_policy", None), ("ndparams", None), ("diskparams", None), ("hv_state", None), ("disk_state", None), ("ipolicy", None)],
    "OP_GROUP_VERIFY_DISKS": [("group_name", REQ)],
    "OP_INSTANCE_ACTIVATE_DISKS": [("instance_name", REQ), ("ignore_size", False), ("wait_for_sync", False)],
    "OP_INSTANCE_CHANGE_GROUP": [("instance_name", REQ), ("early_release", False), ("iallocator", None), ("target_groups", None)],
    "OP_INSTANCE_CONSOLE": [("instance_name", REQ)],
    "OP_INSTANCE_CREATE": [("instance_name", REQ), ("force_variant", False), ("wait_for_sync", True), ("name_check", True), ("ignore_ipolicy", False), ("opportunistic_locking", False), ("beparams", {}), ("disks", REQ), ("disk_template", None), ("group_name", None), ("file_driver", None), ("file_storage_dir", None), ("hvparams", {}), ("hypervisor", None), ("iallocator", None), ("identify_defaults", False), ("ip_check", True), ("conflicts_check", True), ("mode", REQ), ("nics", REQ), ("no_install", None), ("osparams", {}), ("osparams_private", None), ("osparams_secret", None), ("os_type", None), ("pnode", None), ("snode", None), ("source_handshake", None), ("source_instance_name", None), ("source_shutdown_timeout", 120), ("source_x509_ca", None), ("src_node", None), ("src_path", None), ("compress", "none"), ("start", True), ("forthcoming", False), ("commit", False), ("tags", []), ("instance_communication", False), ("helper_startup_timeout", None), ("helper_shutdown_timeout", None)],
    "OP_INSTANCE_DEACTIVATE_DISKS": [("instance_name", REQ), ("force", False)],
    "OP_INSTANCE_FAILOVER": [("instance_name", REQ), ("shutdown_timeout", 120), ("ignore_consistency", False), ("target_node", None), ("ignore_ipolicy", False), ("cleanup", False), ("iallocator", None)],
    "OP_INSTANCE_GROW_DISK": [("instance_name", REQ), ("wait_for_sync", True), ("disk", REQ), ("amount", REQ), ("absolute", False), ("ignore_ipolicy", False)],
    "OP_INSTANCE_MIGRATE": [("instance_name", REQ), ("mode", None), ("live", None), ("target_node", None), ("allow_runtime_changes", True), ("ignore_ipolicy", False), ("cleanup", False), ("iallocator", None), ("allow_failover", False), ("ignore_hvversions", False)],
    "OP_INSTANCE_MOVE": [("instance_name", REQ), ("shutdown_timeout", 120), ("ignore_ipolicy", False), ("target_node", REQ), ("compress", "none"), ("ignore_consistency", False)],
    "OP_INSTANCE_MULTI_ALLOC": [("opportunistic_locking", False), ("iallocator", None), ("instances", [])],
    "OP_INSTANCE_QUERY_DATA": [("use_locking", False), ("instances", []), ("static", False)],
    "OP_INSTANCE_REBOOT": [("instance_name", REQ), ("shutdown_timeout", 120), ("ignore_secondaries", False), ("reboot_type", REQ)],
    "OP_INSTANCE_RECREATE_DISKS": [("instance_name", REQ), ("disks", []), ("nodes", []), ("iallocator", None)],
    "OP_INSTANCE_REINSTALL": [("instance_name", REQ), ("force_variant", False), ("os_type", None), ("osparams", None), ("osparams_private", None), ("osparams_secret", None)],
    "OP_INSTANCE_REMOVE": [("instance_name", REQ), ("shutdown_timeout", 120), ("ignore_failures", False)],
    "OP_INSTANCE_RENAME": [("instance_name", REQ), ("new_name", REQ), ("name_check", True), ("ip_check", True)],
    "OP_INSTANCE_REPLACE_DISKS": [("instance_name", REQ), ("early_release", False), ("ignore_ipolicy", False), ("mode", REQ), ("disks", []), ("remote_node", None), ("iallocator", None)],
    "OP_INSTANCE_SET_PARAMS": [("instance_name", REQ), ("force", False), ("force_variant", False), ("ignore_ipolicy", False), ("nics", []), ("disks", []), ("beparams", {}), ("runtime_mem", None), ("hvparams", {}), ("disk_template", None), ("ext_params", {}), ("file_driver", None), ("file_storage_dir", None), ("pnode", None), ("remote_node", None), ("iallocator", None), ("os_name", None), ("osparams", {}), ("osparams_private", None), ("wait_for_sync", True), ("offline", None), ("conflicts_check", True), ("hotplug", False), ("hotplug_if_possible", False), ("instance_communication", None)],
    "OP_INSTANCE_SHUTDOWN": [("instance_name", REQ), ("force", False), ("ignore_offline_nodes", False), ("timeout", 120), ("no_remember", False), ("admin_state_source", None)],
    "OP_INSTANCE_STARTUP": [("instance_name", REQ), ("force", False), ("ignore_offline_nodes", False), ("hvparams", {}), ("beparams", {}), ("no_remember", False), ("startup_paused", False), ("shutdown_timeout", 120)],
    "OP_NETWORK_ADD": [("network_name", REQ), ("network", REQ), ("gateway", None), ("network6", None), ("gateway6", None), ("mac_prefix", None), ("add_reserved_ips", None), ("conflicts_check", True), ("tags", [])],
    "OP_NETWORK_CONNECT": [("group_name", REQ), ("network_name", REQ), ("network_mode", REQ), ("network_link", REQ), ("network_vlan", ""), ("conflicts_check", True)],
    "OP_NETWORK_DISCONNECT": [("group_name", REQ), ("network_name", REQ)],
    "OP_NETWORK_REMOVE": [("network_name", REQ), ("force", False)],
    "OP_NETWORK_SET_PARAMS": [("network_name", REQ), ("gateway", None), ("network6", None), ("gateway6", None), ("mac_prefix", None), ("add_reserved_ips", None), ("remove_reserved_ips", None)],
    "OP_NODE_ADD": [("node_name", REQ), ("hv_state", None), ("disk_state", None), ("primary_ip", None), ("secondary_ip", None), ("readd", False), ("group", None), ("master_capable", None), ("vm_capable", None), ("ndparams", None), ("node_setup", False)],
    "OP_NODE_EVACUATE": [("early_release", False), ("node_name", REQ), ("remote_node", None), ("iallocator", None), ("mode", REQ), ("ignore_soft_errors", None)],
    "OP_NODE_MIGRATE": [("node_name", REQ), ("mode", None), ("live", None), ("target_node", None), ("allow_runtime_changes", True), ("ignore_ipolicy", False), ("iallocator", None)],
    "OP_NODE_MODIFY_STORAGE": [("node_name", REQ), ("storage_type", REQ), ("name", None), ("changes", REQ)],
    "OP_NODE_POWERCYCLE": [("node_name", REQ), ("force", False)],
    "OP_NODE_QUERYVOLS": [("output_fields", REQ), ("nodes", [])],
    "OP_NODE_QUERY_STORAGE": [("output_fields", REQ), ("storage_type", None), ("nodes", []), ("name", None)],
    "OP_NODE_REMOVE": [("node_name", REQ)],
    "OP_NODE_SET_PARAMS": [("node_name", REQ), ("force", False), ("hv_state", None), ("disk_state", None), ("master_candidate", None), ("offline", None), ("drained", None), ("auto_promote", False), ("master_capable", None), ("vm_capable", None), ("secondary_ip", None), ("ndparams", None), ("powered", None)],
    "OP_OOB_COMMAND": [("node_names", []), ("command", REQ), ("timeout", 60), ("ignore_status", False), ("power_delay", 2.0)],
    "OP_OS_DIAGNOSE": [("output_fields", REQ), ("names", [])],
    "OP_QUERY": [("what", REQ), ("use_locking", False), ("fields", REQ), ("qfilter", None)],
    "OP_QUERY_FIELDS": [("what", REQ), ("fields", None)],
    "OP_REPAIR_NODE_STORAGE": [("node_name", REQ), ("storage_type", REQ), ("name", None), ("ignore_consistency", False)],
    "OP_RESTRICTED_COMMAND": [("use_locking", False), ("nodes", REQ), ("command", REQ)],
    "OP_TAGS_DEL": [("kind", REQ), ("tags", REQ), ("name", None)],
    "OP_TAGS_GET": [("kind", REQ), ("use_locking", False), ("name", None)],
    "OP_TAGS_SEARCH": [("pattern", REQ)],
    "OP_TAGS_SET": [("kind", REQ), ("tags", REQ), ("name", None)],
    "OP_TEST_ALLOCATOR": [("direction", REQ), ("mode", REQ), ("name", REQ), ("nics", None), ("disks", None), ("hypervisor", None), ("iallocator", None), ("tags", []), ("memory", None), ("vcpus", None), ("os", None), ("disk_template", None), ("instances", None), ("evac_mode", None), ("target_groups", None), ("spindle_use", 1), ("count", 1), ("group_name", None)],
    "OP_TEST_DELAY": [("duration", REQ), ("on_master", True), ("on_nodes", []), ("repeat", 0), ("interruptible", False), ("no_locks", True)],
    "OP_TEST_DUMMY": [("result", None), ("messages", None), ("fail", None), ("submit_jobs", None)],
    "OP_TEST_JQUEUE": [("notify_waitlock", False), ("notify_exec", False), ("log_messages", []), ("fail", False)],
    "OP_TEST_OS_PARAMS": [("osparams_secret", None)],}

# Descriptive field per opcode: "OP_ID(value)" in job summaries.
DSC_FIELDS = {
    "OP_TEST_DELAY": "duration",
    "OP_CLUSTER_RENAME": "name",
    "OP_CLUSTER_VERIFY_GROUP": "group_name",
    "OP_GROUP_VERIFY_DISKS": "group_name",
    "OP_NODE_EVACUATE": "node_name",
    "OP_NODE_MIGRATE": "node_name",
    "OP_NODE_MODIFY_STORAGE": "node_name",
    "OP_NODE_POWERCYCLE": "node_name",
    "OP_NODE_REMOVE": "node_name",
    "OP_NODE_ADD": "node_name",
    "OP_NODE_SET_PARAMS": "node_name",
    "OP_REPAIR_NODE_STORAGE": "node_name",
    "OP_OOB_COMMAND": "node_names",
    "OP_GROUP_ADD": "group_name",
    "OP_GROUP_ASSIGN_NODES": "group_name",
    "OP_GROUP_EVACUATE": "group_name",
    "OP_GROUP_REMOVE": "group_name",
    "OP_GROUP_RENAME": "group_name",
    "OP_GROUP_SET_PARAMS": "group_name",
    "OP_NETWORK_ADD": "network_name",
    "OP_NETWORK_CONNECT": "network_name",
    "OP_NETWORK_DISCONNECT": "network_name",
    "OP_NETWORK_REMOVE": "network_name",
    "OP_NETWORK_SET_PARAMS": "network_name",
    "OP_TAGS_SEARCH": "pattern",
    "OP_QUERY": "what",
    "OP_QUERY_FIELDS": "what",
    "OP_TEST_ALLOCATOR": "iallocator",
}
for _op_id in OP_TABLE:
    if (_op_id.startswith(("OP_INSTANCE_", "OP_BACKUP_")) and
            _op_id not in ("OP_INSTANCE_QUERY_DATA", "OP_INSTANCE_MULTI_ALLOC")):
        DSC_FIELDS.setdefault(_op_id, "instance_name")

# UUID companions accepted next to name parameters (Ganeti 2.10+).
UUID_COMPANIONS = {
    "instance_name": "instance_uuid", "node_name": "node_uuid",
    "target_node": "target_node_uuid", "pnode": "pnode_uuid",
    "snode": "snode_uuid", "remote_node": "remote_node_uuid",
    "src_node": "src_node_uuid", "on_nodes": "on_node_uuids",
    "node_names": "node_uuids",
}

# Common parameters every opcode accepts.
COMMON_PARAMS = [
    ("dry_run", None, ht.TMaybeBool),
    ("debug_level", None, ht.TMaybe(ht.TNonNegativeInt)),
    ("priority", constants.OP_PRIO_DEFAULT,
     ht.TElemOf(range(constants.OP_PRIO_HIGHEST,
                      constants.OP_PRIO_LOWEST + 1))),
    ("depends", None, ht.TMaybe(ht.TList)),
    ("comment", None, ht.TMaybeString),
    ("reason", [], ht.TList),
]

_NAME = ht.TNonEmptyString


# Explicit types where inference from the default is not enough.
_TYPES = {
    ("*", "instance_name"): _NAME,
    ("*", "node_name"): _NAME,
    ("*", "group_name"): _NAME,
    ("*", "network_name"): _NAME,
    ("*", "output_fields"): ht.TStrList,
    ("*", "names"): ht.TStrList,
    ("*", "shutdown_timeout"): ht.TNonNegativeInt,
    ("OP_TEST_DELAY", "duration"): ht.TNumber,
    ("OP_TEST_DELAY", "on_nodes"): ht.TStrList,
    ("OP_TEST_DELAY", "repeat"): ht.TNonNegativeInt,
    ("OP_TAGS_SET", "tags"): ht.TStrList,
    ("OP_TAGS_DEL", "tags"): ht.TStrList,
    ("OP_TAGS_SET", "kind"): ht.TElemOf(constants.VALID_TAG_TYPES),
    ("OP_TAGS_DEL", "kind"): ht.TElemOf(constants.VALID_TAG_TYPES),
    ("OP_TAGS_GET", "kind"): ht.TElemOf(constants.VALID_TAG_TYPES),
    ("OP_TAGS_SET", "name"): ht.TMaybeString,
    ("OP_TAGS_DEL", "name"): ht.TMaybeString,
    ("OP_TAGS_GET", "name"): ht.TMaybeString,
    ("OP_TAGS_SEARCH", "pattern"): _NAME,
    ("OP_QUERY", "what"): ht.TElemOf([constants.QR_CLUSTER,
                                      constants.QR_INSTANCE,
                                      constants.QR_NODE, constants.QR_LOCK,
                                      constants.QR_GROUP, constants.QR_OS,
                                      constants.QR_JOB, constants.QR_EXPORT,
                                      constants.QR_NETWORK,
                                      constants.QR_EXTSTORAGE,
                                      constants.QR_FILTER]),
    ("OP_QUERY", "fields"): ht.TStrList,
    ("OP_QUERY_FIELDS", "fields"): ht.TMaybeStrList,
    ("OP_CLUSTER_SET_PARAMS", "candidate_pool_size"):
        ht.TMaybe(ht.TPositiveInt),
    ("OP_CLUSTER_SET_PARAMS", "enabled_hypervisors"): ht.TMaybeStrList,
    ("OP_CLUSTER_SET_PARAMS", "enabled_disk_templates"): ht.TMaybeStrList,
    ("OP_CLUSTER_SET_PARAMS", "hvparams"): ht.TMaybeDict,
    ("OP_CLUSTER_SET_PARAMS", "beparams"): ht.TMaybeDict,
    ("OP_CLUSTER_SET_PARAMS", "nicparams"): ht.TMaybeDict,
    ("OP_CLUSTER_SET_PARAMS", "ndparams"): ht.TMaybeDict,
    ("OP_CLUSTER_SET_PARAMS", "master_netdev"): ht.TMaybeString,
    ("OP_CLUSTER_SET_PARAMS", "mac_prefix"): ht.TMaybeString,
    ("OP_CLUSTER_SET_PARAMS", "max_running_jobs"): ht.TMaybe(ht.TPositiveInt),
    ("OP_CLUSTER_SET_PARAMS", "max_tracked_jobs"): ht.TMaybe(ht.TPositiveInt),
    ("OP_NODE_ADD", "readd"): ht.TBool,
    ("OP_NODE_ADD", "group"): ht.TMaybeString,
    ("OP_NODE_ADD", "primary_ip"): ht.TMaybeString,
    ("OP_NODE_ADD", "secondary_ip"): ht.TMaybeString,
    ("OP_NODE_ADD", "master_capable"): ht.TMaybeBool,
    ("OP_NODE_ADD", "vm_capable"): ht.TMaybeBool,
    ("OP_NODE_ADD", "ndparams"): ht.TMaybeDict,
}

# Parameters that are lists of opcodes of one kind: each element is
# validated as that opcode when the outer one is (at submission).
NESTED_OPCODES = {
    ("OP_INSTANCE_MULTI_ALLOC", "instances"): "OP_INSTANCE_CREATE",
}


def param_type(op_id, name, default):
    """The check for a parameter: explicit, else inferred from its default."""
    check = _TYPES.get((op_id, name)) or _TYPES.get(("*", name))
    if check is not None:
        return check
    if default is REQ or default is None:
        return ht.TAny
    if isinstance(default, bool):
        return ht.TBool
    if isinstance(default, int):
        return ht.TInt
    if isinstance(default, str):
        return ht.TString
    if isinstance(default, list):
        return ht.TList
    if isinstance(default, dict):
        return ht.TDict
    return ht.TAny
