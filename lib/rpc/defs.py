"""The node RPC procedures: one table shared by noded and its callers.

``PROCEDURES`` maps each procedure name (the URL path on noded, the
``call_<name>`` method of ``RpcRunner``) to its client-side timeout, its
positional argument names and a line of documentation. Names and argument
orders are Ganeti 3.0's. The node side implements them in ``ganeti.backend``
(a procedure listed here but not yet implemented there answers with a
clear failure).

Also here, because both ends need them: the ``[encoding, data]`` content
codec and the key names of ``node_verify`` and ``hooks_runner`` results.
"""

import base64
import collections
import zlib

from ganeti import constants

TMO_URGENT = constants.RPC_TMO_URGENT
TMO_FAST = constants.RPC_TMO_FAST
TMO_NORMAL = constants.RPC_TMO_NORMAL
TMO_SLOW = constants.RPC_TMO_SLOW
TMO_4HRS = 4 * 3600
TMO_1DAY = 86400

# Content below this size travels uncompressed.
COMPRESS_THRESHOLD = 512

# node_verify checkdict keys (the result uses the same keys)
NV_VERSION = "version"
NV_FILELIST = "filelist"
NV_NODELIST = "nodelist"
NV_NODENETTEST = "node-net-test"
NV_MASTERIP = "master-ip"
NV_TIME = "time"
NV_HYPERVISOR = "hypervisor"
NV_SSCONF = "ssconf"
NV_BRIDGES = "bridges"
NV_HVINFO = "hvinfo"

# hooks_runner: phases and per-script result status
HOOKS_PHASE_PRE = "pre"
HOOKS_PHASE_POST = "post"
HKR_SKIP = 0
HKR_FAIL = 1
HKR_SUCCESS = 2

# etc_hosts_modify modes
ETC_HOSTS_ADD = "add"
ETC_HOSTS_REMOVE = "remove"

Procedure = collections.namedtuple("Procedure", ["timeout", "args", "doc"])
Procedure.__doc__ = """One node RPC procedure.

timeout: seconds, or a function of the argument list (test_delay)
args: tuple of positional argument names, in wire order
doc: what it does
"""


def _test_delay_timeout(args):
    return int(args[0]) + 30


def _p(timeout, args, doc):
    return Procedure(timeout, tuple(args.split()) if args else (), doc)


# name -> Procedure. Grouped as in Ganeti's rpc_defs.
PROCEDURES = {
    # --- node, cluster membership, files, job queue (implemented) ---
    "version": _p(TMO_URGENT, "", "Protocol version of the node daemon"),
    "node_info": _p(TMO_URGENT, "storage_units hv_specs",
                    "Boot id, storage and hypervisor/memory facts"),
    "node_verify": _p(TMO_NORMAL, "checkdict cluster_name all_hvparams",
                      "Run the checks named in checkdict"),
    "node_verify_light": _p(TMO_NORMAL, "checkdict cluster_name all_hvparams",
                            "node_verify for nodes outside the node group"),
    "node_has_ip_address": _p(TMO_URGENT, "address",
                              "Whether an address is configured locally"),
    "node_leave_cluster": _p(TMO_NORMAL, "modify_ssh_setup",
                             "Forget the cluster and stop the daemons"),
    "node_demote_from_mc": _p(TMO_FAST, "",
                              "Drop config.data after a demotion"),
    "node_ensure_daemon": _p(TMO_URGENT, "daemon run",
                             "Start (run=True) or stop a daemon"),
    "bridges_exist": _p(TMO_URGENT, "bridges_list",
                        "Fail unless all bridges exist"),
    "etc_hosts_modify": _p(TMO_NORMAL, "mode name ip",
                           "Add or remove a name in /etc/hosts"),
    "test_delay": _p(_test_delay_timeout, "duration",
                     "Sleep for duration seconds"),
    "get_watcher_pause": _p(TMO_URGENT, "", "Watcher paused until (or None)"),
    "set_watcher_pause": _p(TMO_URGENT, "until",
                            "Pause the watcher until a time (None resumes)"),
    "hooks_runner": _p(TMO_NORMAL, "hpath phase env",
                       "Run the hook scripts of hpath/phase"),
    "run_oob": _p(TMO_NORMAL, "oob_program command remote_node timeout",
                  "Run an out-of-band management program"),
    "master_node_name": _p(TMO_URGENT, "", "The master according to ssconf"),
    "node_start_master_daemons": _p(TMO_FAST, "no_voting",
                                    "Start masterd (and rapi)"),
    "node_stop_master": _p(TMO_FAST, "", "Stop rapi and masterd"),
    "node_activate_master_ip": _p(TMO_FAST,
                                  "master_params use_external_mip_script",
                                  "Configure the master IP on this node"),
    "node_deactivate_master_ip": _p(TMO_FAST,
                                    "master_params use_external_mip_script",
                                    "Remove the master IP from this node"),
    "node_change_master_netmask": _p(
        TMO_FAST, "old_netmask netmask master_ip master_netdev",
        "Change the master IP's prefix length"),
    "upload_file": _p(TMO_NORMAL,
                      "file_name content mode uid gid atime mtime",
                      "Write a whitelisted cluster file"),
    "write_ssconf_files": _p(TMO_NORMAL, "values", "Write ssconf_* files"),
    "jobqueue_update": _p(TMO_URGENT, "file_name content",
                          "Write a job queue file"),
    "jobqueue_purge": _p(TMO_NORMAL, "", "Empty the job queue"),
    "jobqueue_rename": _p(TMO_URGENT, "rename_list",
                          "Rename job queue files ([old, new] pairs)"),
    "jobqueue_set_drain_flag": _p(TMO_URGENT, "flag",
                                  "Set or clear the queue drain flag"),
    "get_file_info": _p(TMO_FAST, "file_path", "Size, mode, mtime of a file"),

    # --- instances ---
    "instance_info": _p(TMO_URGENT, "instance hname hvparams",
                        "State of one instance"),
    "all_instances_info": _p(TMO_URGENT, "hypervisor_list all_hvparams",
                             "State of all instances"),
    "instance_list": _p(TMO_URGENT, "hypervisor_list hvparams",
                        "Names of running instances"),
    "instance_reboot": _p(TMO_NORMAL,
                          "inst reboot_type shutdown_timeout reason",
                          "Reboot an instance"),
    "instance_shutdown": _p(TMO_NORMAL, "instance timeout reason",
                            "Stop an instance"),
    "instance_balloon_memory": _p(TMO_NORMAL, "instance memory",
                                  "Change a running instance's memory"),
    "instance_run_rename": _p(TMO_SLOW, "instance old_name debug",
                              "Run the OS rename script"),
    "instance_migratable": _p(TMO_NORMAL, "instance",
                              "Whether an instance can migrate"),
    "migration_info": _p(TMO_NORMAL, "instance", "Source-side migration data"),
    "accept_instance": _p(TMO_NORMAL, "instance info target",
                          "Prepare the target of a migration"),
    "instance_finalize_migration_dst": _p(TMO_NORMAL,
                                          "instance info success",
                                          "Finish a migration (target)"),
    "instance_migrate": _p(TMO_SLOW, "cluster_name instance target live",
                           "Migrate an instance"),
    "instance_finalize_migration_src": _p(TMO_SLOW, "instance success live",
                                          "Finish a migration (source)"),
    "instance_get_migration_status": _p(TMO_NORMAL, "instance",
                                        "Progress of a migration"),
    "instance_start": _p(TMO_NORMAL, "instance_hvp_bep startup_paused reason",
                         "Start an instance"),
    "instance_os_add": _p(TMO_1DAY, "instance_osp reinstall debug",
                          "Run the OS create script"),
    "hotplug_device": _p(TMO_NORMAL,
                         "instance action dev_type device extra seq",
                         "Hot-plug a disk or NIC"),
    "hotplug_supported": _p(TMO_NORMAL, "instance",
                            "Whether hot-plugging works"),
    "instance_metadata_modify": _p(TMO_URGENT, "instance",
                                   "Update instance metadata"),

    # --- block devices ---
    "bdev_sizes": _p(TMO_URGENT, "devices", "Sizes of block devices"),
    "blockdev_create": _p(TMO_NORMAL,
                          "bdev size owner on_primary info exclusive_storage",
                          "Create a block device"),
    "blockdev_convert": _p(TMO_1DAY, "bdev_src bdev_dest",
                           "Copy data between devices"),
    "blockdev_image": _p(TMO_1DAY, "bdev image size",
                         "Write an image to a device"),
    "blockdev_wipe": _p(TMO_SLOW, "bdev offset size", "Zero part of a device"),
    "blockdev_remove": _p(TMO_NORMAL, "bdev", "Remove a block device"),
    "blockdev_pause_resume_sync": _p(TMO_NORMAL, "disks pause",
                                     "Pause or resume resync"),
    "blockdev_assemble": _p(TMO_NORMAL, "disk instance on_primary idx",
                            "Activate a block device"),
    "blockdev_shutdown": _p(TMO_NORMAL, "disk", "Deactivate a block device"),
    "blockdev_addchildren": _p(TMO_NORMAL, "bdev ndevs",
                               "Add mirror children"),
    "blockdev_removechildren": _p(TMO_NORMAL, "bdev ndevs",
                                  "Remove mirror children"),
    "blockdev_close": _p(TMO_NORMAL, "instance_name disks",
                         "Switch devices to secondary"),
    "blockdev_open": _p(TMO_NORMAL, "instance_name disks exclusive",
                        "Switch devices to primary"),
    "blockdev_getdimensions": _p(TMO_NORMAL, "disks",
                                 "Size and spindles of devices"),
    "drbd_disconnect_net": _p(TMO_NORMAL, "disks", "Disconnect DRBD"),
    "drbd_attach_net": _p(TMO_NORMAL, "disks multimaster", "Connect DRBD"),
    "drbd_wait_sync": _p(TMO_SLOW, "disks", "Wait for DRBD resync"),
    "drbd_needs_activation": _p(TMO_NORMAL, "disks",
                                "DRBD devices needing activation"),
    "blockdev_grow": _p(TMO_NORMAL,
                        "cf_bdev amount dryrun backingstore es_flag",
                        "Grow a block device"),
    "blockdev_snapshot": _p(TMO_NORMAL, "cf_bdev snap_name snap_size",
                            "Snapshot a block device"),
    "blockdev_rename": _p(TMO_NORMAL, "devlist", "Rename block devices"),
    "blockdev_find": _p(TMO_NORMAL, "disk", "Status of a block device"),
    "blockdev_getmirrorstatus": _p(TMO_NORMAL, "disks",
                                   "Mirror status of devices"),
    "blockdev_getmirrorstatus_multi": _p(TMO_NORMAL, "node_disks",
                                         "Mirror status, many nodes"),
    "blockdev_setinfo": _p(TMO_NORMAL, "disk info", "Set device metadata"),

    # --- storage ---
    "storage_list": _p(TMO_NORMAL, "su_name su_args name fields",
                       "List storage units"),
    "storage_modify": _p(TMO_NORMAL, "su_name su_args name changes",
                         "Modify a storage unit"),
    "storage_execute": _p(TMO_NORMAL, "su_name su_args name op",
                          "Run an operation on a storage unit"),
    "lv_list": _p(TMO_URGENT, "vg_name", "Logical volumes"),
    "vg_list": _p(TMO_URGENT, "", "Volume groups and free space"),
    "node_volumes": _p(TMO_FAST, "", "All volumes on the node"),
    "drbd_helper": _p(TMO_URGENT, "", "The DRBD usermode helper"),
    "file_storage_dir_create": _p(TMO_FAST, "file_storage_dir",
                                  "Create a file storage directory"),
    "file_storage_dir_remove": _p(TMO_FAST, "file_storage_dir",
                                  "Remove a file storage directory"),
    "file_storage_dir_rename": _p(TMO_FAST,
                                  "old_file_storage_dir new_file_storage_dir",
                                  "Rename a file storage directory"),
    "extstorage_diagnose": _p(TMO_FAST, "", "Known ExtStorage providers"),

    # --- import/export ---
    "import_start": _p(TMO_NORMAL, "opts instance component dest",
                       "Start an import daemon"),
    "export_start": _p(TMO_NORMAL, "opts host port instance component source",
                       "Start an export daemon"),
    "impexp_status": _p(TMO_FAST, "names", "Status of import/exports"),
    "impexp_abort": _p(TMO_NORMAL, "name", "Abort an import/export"),
    "impexp_cleanup": _p(TMO_NORMAL, "name", "Clean up an import/export"),
    "export_info": _p(TMO_FAST, "path", "Read an export's config"),
    "finalize_export": _p(TMO_NORMAL, "instance snap_disks",
                          "Write an export's config"),
    "export_list": _p(TMO_FAST, "", "Exports on the node"),
    "export_remove": _p(TMO_FAST, "export", "Remove an export"),
    "x509_cert_create": _p(TMO_NORMAL, "validity",
                           "Create a temporary X509 certificate"),
    "x509_cert_remove": _p(TMO_NORMAL, "name",
                           "Remove a temporary X509 certificate"),

    # --- OS ---
    "os_diagnose": _p(TMO_FAST, "", "Installed OS definitions"),
    "os_validate": _p(TMO_FAST, "required name checks params force_variant",
                      "Validate OS parameters"),
    "os_export": _p(TMO_FAST, "instance override_env", "Run the OS export"),

    # --- misc node operations ---
    "node_powercycle": _p(TMO_NORMAL, "hypervisor hvparams",
                          "Power-cycle the node"),
    "node_configure_ovs": _p(TMO_NORMAL, "ovs_name ovs_link",
                             "Create an Open vSwitch"),
    "node_crypto_tokens": _p(TMO_NORMAL, "token_requests",
                             "Get or create crypto tokens"),
    "restricted_command": _p(TMO_SLOW, "cmd", "Run a restricted command"),
    "iallocator_runner": _p(TMO_NORMAL,
                            "name idata default_iallocator_params",
                            "Run an iallocator script"),
    "hypervisor_validate_params": _p(TMO_NORMAL, "hvname hvfull",
                                     "Validate hypervisor parameters"),
}


def get_procedure(name):
    """The Procedure of ``name``, or None."""
    return PROCEDURES.get(name)


def procedure_timeout(name, args):
    """Client-side timeout of a call of ``name`` with ``args``."""
    timeout = PROCEDURES[name].timeout
    return timeout(args) if callable(timeout) else timeout


def encode_content(data):
    """``[encoding, data]`` for a file's content (bytes or str).

    Small text travels as is (RPC_ENCODING_NONE); larger or binary content
    as base64 of zlib (RPC_ENCODING_ZLIB_BASE64), as Ganeti does for
    ``upload_file`` and ``jobqueue_update``.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) <= COMPRESS_THRESHOLD:
        try:
            return [constants.RPC_ENCODING_NONE, data.decode("utf-8")]
        except UnicodeDecodeError:
            pass
    # level 1: a 5 MB config.data compresses 3-4 times faster than at the
    # default level, to nearly the same size; the receiver does not care
    packed = base64.b64encode(zlib.compress(data, 1)).decode("ascii")
    return [constants.RPC_ENCODING_ZLIB_BASE64, packed]


def decode_content(pair):
    """Bytes from ``encode_content``'s form; a bare str is taken as is."""
    if isinstance(pair, str):
        return pair.encode("utf-8")
    if not isinstance(pair, (list, tuple)) or len(pair) != 2:
        raise ValueError(("Invalid encoded content: %r" % (pair,))[:100])
    encoding, data = pair
    if encoding == constants.RPC_ENCODING_NONE:
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if encoding == constants.RPC_ENCODING_ZLIB_BASE64:
        return zlib.decompress(base64.b64decode(data))
    raise ValueError("Unknown content encoding %r" % (encoding,))
