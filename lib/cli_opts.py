"""Command-line options of the gnt-* programs: one table, one small parser.

Every option is declared once in ``OPTIONS`` (name -> ``Option``); the
``COMMANDS`` tables of the clients name the options each command accepts.
The parser behaves like optparse with interspersed arguments disabled (the
first positional argument ends option parsing), which is what Ganeti's
users and scripts rely on; it is our own so that start-up does not pay for
optparse and ``re`` (``gnt-cluster version`` must start in a few ms).
The helpers after the table turn option values into typed parameter
dicts, uid pools and instance policies.
"""

import sys

from ganeti import constants
from ganeti import errors

NO_PREFIX = "no_"
UN_PREFIX = "-"

# Option value types (see ``_CONVERTERS``)
T_STRING = "string"
T_INT = "int"
T_FLOAT = "float"
T_UNIT = "unit"
T_BOOL = "bool"            # yes/no, true/false
T_LIST = "list"            # comma-separated, backslash escapes a comma
T_KEYVAL = "keyval"        # k=v,k=v (bare k = True, no_k = False, -k = None)
T_IDENTKEYVAL = "identkeyval"  # ident:k=v,...
T_MULTILIST = "multilistidentkeyval"  # ident:k=v,.../ident:k=v
T_PRIORITY = "priority"    # low|normal|high -> -10..10


class OptionValueError(Exception):
    """A value cannot be converted; reported like optparse (exit 2)."""


def unescape_and_split(text, sep=","):
    """Split ``text`` on ``sep``; ``\\<sep>`` is a literal separator.

    An odd number of backslashes before a separator escapes it; afterwards
    every ``\\x`` becomes ``x`` (so ``\\\\,`` is a backslash followed by a
    real separator).
    """
    pieces = text.split(sep)
    result = []
    while pieces:
        item = pieces.pop(0)
        trailing = len(item) - len(item.rstrip("\\"))
        if trailing % 2 == 1 and pieces:
            pieces[0] = item + sep + pieces[0]
            continue
        result.append(item)
    return [_unescape(item) for item in result]


def _unescape(text):
    out = []
    chars = iter(text)
    for char in chars:
        if char == "\\":
            out.append(next(chars, ""))
        else:
            out.append(char)
    return "".join(out)


def split_key_val(opt, data, parse_prefixes=True):
    """``k=v,k=v`` -> dict; ParameterError on missing value or duplicates."""
    result = {}
    if not data:
        return result
    for elem in unescape_and_split(data):
        if "=" in elem:
            key, val = elem.split("=", 1)
        elif parse_prefixes:
            if elem.startswith(NO_PREFIX):
                key, val = elem[len(NO_PREFIX):], False
            elif elem.startswith(UN_PREFIX):
                key, val = elem[len(UN_PREFIX):], None
            else:
                key, val = elem, True
        else:
            raise errors.ParameterError("Missing value for key '%s' in option"
                                        " %s" % (elem, opt))
        if key in result:
            raise errors.ParameterError("Key '%s' is duplicated in option %s"
                                        % (key, opt))
        result[key] = val
    return result


def split_ident_key_val(opt, value, parse_prefixes=True):
    """``ident:k=v,...`` -> (ident, dict); ``no_ident`` -> (ident, False),
    ``-ident`` -> (ident, None) (removing a whole group of parameters)."""
    if ":" in value:
        ident, rest = value.split(":", 1)
    else:
        ident, rest = value, ""
    removal = None
    if parse_prefixes and ident.startswith(NO_PREFIX):
        removal = (ident[len(NO_PREFIX):], False)
    elif (parse_prefixes and ident.startswith(UN_PREFIX) and
          (len(ident) <= len(UN_PREFIX) or
           not ident[len(UN_PREFIX)].isdigit())):
        removal = (ident[len(UN_PREFIX):], None)
    if removal is not None:
        if rest:
            raise errors.ParameterError("Cannot pass options when removing"
                                        " parameter groups: %s" % value)
        return removal
    return (ident, split_key_val(opt, rest, parse_prefixes))


def parse_bool(opt, value):
    lowered = value.lower()
    if lowered in ("false", "no"):
        return False
    if lowered in ("true", "yes"):
        return True
    raise errors.ParameterError("Invalid boolean value '%s'" % value)


def _conv_int(opt, value):
    try:
        return int(value)
    except ValueError:
        raise OptionValueError("option %s: invalid integer value: %r" %
                               (opt, value))


def _conv_float(opt, value):
    try:
        return float(value)
    except ValueError:
        raise OptionValueError("option %s: invalid floating-point value: %r"
                               % (opt, value))


def _conv_unit(opt, value):
    from ganeti.utils import text
    try:
        return text.parse_unit(value)
    except errors.UnitParseError as err:
        raise OptionValueError("option %s: %s" % (opt, err))


def _conv_multilist(opt, value):
    return [split_ident_key_val(opt, part)
            for part in unescape_and_split(value, "/")]


def _conv_priority(opt, value):
    try:
        return constants.PRIORITY_NAMES[value]
    except KeyError:
        raise OptionValueError("option %s: invalid choice: %r (choose from %s)"
                               % (opt, value, ", ".join(
                                   repr(n) for n in constants.PRIORITY_NAMES)))


_CONVERTERS = {
    T_STRING: lambda opt, value: value,
    T_INT: _conv_int,
    T_FLOAT: _conv_float,
    T_UNIT: _conv_unit,
    T_BOOL: parse_bool,
    T_LIST: lambda opt, value: unescape_and_split(value),
    T_KEYVAL: split_key_val,
    T_IDENTKEYVAL: split_ident_key_val,
    T_MULTILIST: _conv_multilist,
    T_PRIORITY: _conv_priority,
}

_VALUE_ACTIONS = frozenset(["store", "append"])


class Option:
    """One option: flags, destination, action, type, default and help."""

    __slots__ = ("flags", "dest", "action", "type", "default", "help",
                 "metavar", "const", "choices")

    def __init__(self, flags, dest, action="store", type=T_STRING,
                 default=None, help="", metavar=None, const=None,
                 choices=None):
        self.flags = flags
        self.dest = dest
        self.action = action
        self.type = type
        self.default = default
        self.help = help
        self.metavar = metavar
        self.const = const
        self.choices = choices

    @property
    def takes_value(self):
        return self.action in _VALUE_ACTIONS

    def convert(self, flag, value):
        if self.choices is not None:
            if value not in self.choices:
                raise OptionValueError(
                    "option %s: invalid choice: %r (choose from %s)" %
                    (flag, value, ", ".join(repr(c) for c in self.choices)))
            return value
        return _CONVERTERS[self.type](flag, value)


OPTIONS = {}


def _opt(name, *flags, **kwargs):
    """Declare option ``name`` (dest defaults to the name)."""
    kwargs.setdefault("dest", name)
    OPTIONS[name] = Option(flags, **kwargs)


def _flag(name, *flags, **kwargs):
    """Declare a store_true option."""
    kwargs.setdefault("default", False)
    _opt(name, *flags, action="store_true", **kwargs)


# --- common to every command
_opt("debug", "-d", "--debug", action="count", default=0,
     help="Turn debugging on")
_opt("reason", "--reason", metavar="TEXT",
     help="Specify a reason for this operation")

# --- per-job options
_flag("dry_run", "--dry-run",
      help="Do not execute the operation, just run the check steps and"
           " verify if it could be executed")
_opt("priority", "--priority", type=T_PRIORITY, metavar="|".join(
    constants.PRIORITY_NAMES), help="Priority for opcode processing")
_flag("submit_only", "--submit",
      help="Submit the job and return the job ID, but don't wait for the"
           " job to finish")
_flag("print_jobid", "--print-jobid",
      help="Additionally print the job as first line on stdout (for"
           " scripting).")

# --- listing
_flag("no_headers", "--no-headers", help="Don't display column headers")
_opt("separator", "--separator", metavar="SEPARATOR",
     help="Separator between output fields (defaults to one space)")
_opt("units", "--units", metavar="h|m|g|t", choices=("h", "m", "g", "t"),
     help="Specify units for output (one of h/m/g/t)")
_opt("output", "-o", "--output", metavar="FIELDS",
     help="Comma separated list of output fields")
_flag("verbose", "-v", "--verbose", help="Increase the verbosity of the"
      " operation")
_flag("force_filter", "-F", "--filter",
      help="Whether command argument should be treated as filter")
_flag("roman_integers", "--roman",
      help="Use roman numbers for positive integers")
_flag("force", "-f", "--force", help="Force the operation")
_flag("yes_do_it", "--yes-do-it", "--ya-rly",
      help="Really execute the operation")
_flag("confirm", "--yes", help="Do not ask for confirmation")
_opt("tags_source", "--from", metavar="FILE",
     help="File with tag names (one per line)")

# --- parameters shared by cluster init/modify, node add/modify, ...
_opt("beparams", "-B", "--backend-parameters", type=T_KEYVAL, default={},
     metavar="PARAM=VALUE,...", help="Backend parameters")
_opt("hvparams", "-H", "--hypervisor-parameters", type=T_IDENTKEYVAL,
     action="append", default=[], metavar="HV:PARAM=VALUE,...",
     help="Hypervisor and hypervisor options,"
     " in the format hypervisor:option=value,option=value,...")
_opt("nicparams", "-N", "--nic-parameters", type=T_KEYVAL, default={},
     metavar="PARAM=VALUE,...", help="NIC parameters")
_opt("ndparams", "--node-parameters", type=T_KEYVAL,
     metavar="PARAM=VALUE,...", help="Node parameters")
_opt("diskparams", "-D", "--disk-parameters", type=T_IDENTKEYVAL,
     action="append", default=[], metavar="TEMPLATE:PARAM=VALUE,...",
     help="Disk template parameters, in the"
     " format template:option=value,option=value,...")
_opt("candidate_pool_size", "-C", "--candidate-pool-size", type=T_INT,
     metavar="SIZE", help="Set the candidate pool size")
_opt("max_running_jobs", "--max-running-jobs", type=T_INT, metavar="N",
     help="The maximal number of jobs running in parallel")
_opt("max_tracked_jobs", "--max-tracked-jobs", type=T_INT, metavar="N",
     help="The maximal number of jobs tracked by the scheduler")
_opt("enabled_hypervisors", "--enabled-hypervisors", metavar="HYPERVISORS",
     help="Comma-separated list of hypervisors")
_opt("enabled_disk_templates", "--enabled-disk-templates",
     metavar="TEMPLATES", help="Comma-separated list of disk templates")
_opt("file_storage_dir", "--file-storage-dir", metavar="DIR",
     help="Specify the default directory (cluster-wide) for storing the"
          " file-based disks")
_opt("shared_file_storage_dir", "--shared-file-storage-dir", metavar="DIR",
     help="Specify the default directory (cluster-wide) for storing the"
          " shared file-based disks")
_opt("gluster_storage_dir", "--gluster-storage-dir", metavar="DIR",
     help="Specify the default directory (cluster-wide) for mounting"
          " Gluster file systems")
_opt("mac_prefix", "-m", "--mac-prefix", metavar="PREFIX",
     help="Specify the mac prefix for the instance MAC addresses, in the"
          " format XX:XX:XX")
_opt("master_netdev", "--master-netdev", metavar="NETDEV",
     help="Specify the node interface (cluster-wide) on which the master IP"
          " address will be added")
_opt("master_netmask", "--master-netmask", type=T_INT, metavar="NETMASK",
     help="Specify the netmask of the master IP")
_opt("use_external_mip_script", "--use-external-mip-script", type=T_BOOL,
     metavar="BOOL", help="Specify whether to run a user-provided script"
     " for the master IP address turnup and turndown operations")
_opt("modify_etc_hosts", "--no-etc-hosts", action="store_false",
     default=True, help="Don't modify /etc/hosts")
_opt("modify_ssh_setup", "--no-ssh-init", action="store_false",
     default=True, help="Don't initialize SSH keys")
_opt("modify_etc_hosts_bool", "--modify-etc-hosts", dest="modify_etc_hosts",
     type=T_BOOL, metavar="BOOL", help="Defines whether the cluster should"
     " autonomously modify and keep in sync the /etc/hosts file of the"
     " nodes")
_opt("secondary_ip", "-s", "--secondary-ip", metavar="ADDRESS",
     help="Specify the secondary ip for this node")
_opt("vg_name", "--vg-name", metavar="VG",
     help="Specifies the volume group name (cluster-wide) for disk"
          " allocation [%s]; an empty value disables it" %
          constants.DEFAULT_VG)
_opt("maintain_node_health", "--maintain-node-health", type=T_BOOL,
     metavar="BOOL", help="Configure the cluster to automatically maintain"
     " node health, by shutting down unknown instances, shutting down"
     " unknown DRBD devices, etc.")
_opt("uid_pool", "--uid-pool", metavar="LIST",
     help="A list of user-ids or user-id ranges separated by commas")
_opt("add_uids", "--add-uids", metavar="LIST",
     help="A list of user-ids or user-id ranges separated by commas, to be"
          " added to the user-id pool")
_opt("remove_uids", "--remove-uids", metavar="LIST",
     help="A list of user-ids or user-id ranges separated by commas, to be"
          " removed from the user-id pool")
_opt("drbd_helper", "--drbd-usermode-helper", metavar="HELPER",
     help="Specifies the DRBD usermode helper")
_opt("default_iallocator", "-I", "--default-iallocator", metavar="NAME",
     help="Set the default instance allocator plugin")
_opt("default_iallocator_params", "--default-iallocator-params",
     type=T_KEYVAL, default={}, metavar="PARAM=VALUE,...",
     help="Set the default instance allocator plugin parameters")
_opt("primary_ip_version", "--primary-ip-version", type=T_INT, default=4,
     metavar="%d|%d" % (4, 6), help="Cluster-wide IP version for primary IP")
_opt("prealloc_wipe_disks", "--prealloc-wipe-disks", type=T_BOOL,
     metavar="BOOL", help="Wipe disks prior to instance creation")
_opt("reserved_lvs", "--reserved-lvs", metavar="LIST",
     help="A comma-separated list of reserved logical volumes names, that"
          " will be ignored by cluster verify")
_opt("install_image", "--install-image", metavar="IMAGE",
     help="The OS image to use for running the OS scripts safely")
_opt("zeroing_image", "--zeroing-image", metavar="IMAGE",
     help="The OS image to use to zero instance disks")
_opt("instance_communication_network", "--instance-communication-network",
     metavar="NETWORK", help="Set the network name for instance"
     " communication")
_opt("compression_tools", "--compression-tools", type=T_LIST,
     metavar="TOOLS", help="The collection of compression tools which can be"
     " used to compress data sent between nodes")
_opt("enabled_user_shutdown", "--user-shutdown", type=T_BOOL,
     metavar="BOOL", help="Whether user shutdown is enabled")
_opt("ssh_key_type", "--ssh-key-type", choices=("rsa", "dsa", "ecdsa"),
     metavar="rsa|dsa|ecdsa",
     help="Type of SSH key deployed by Ganeti for cluster actions")
_opt("ssh_key_bits", "--ssh-key-bits", type=T_INT, metavar="BITS",
     help="Length of SSH keys generated by Ganeti, in bits")
_opt("enabled_data_collectors", "--enabled-data-collectors", type=T_KEYVAL,
     metavar="NAME=BOOL,...",
     help="Deactivate or reactivate the data collectors in the format:"
          " collector=bool, where collector is one of %s" %
          ", ".join(constants.DATA_COLLECTOR_NAMES))
_opt("data_collector_interval", "--data-collector-interval", type=T_KEYVAL,
     metavar="NAME=SECONDS,...",
     help="Set the interval (seconds) of the data collectors in the format"
          " collector=seconds")
_opt("ipolicy_bounds_specs", "--ipolicy-bounds-specs", type=T_MULTILIST,
     metavar="min:SPEC=VALUE,.../max:SPEC=VALUE,...",
     help="Complete instance specs limits (min:k=v,.../max:k=v,...)")
_opt("ipolicy_std_specs", "--ipolicy-std-specs", type=T_KEYVAL,
     metavar="SPEC=VALUE,...", help="Complete standard instance specs")
_opt("ipolicy_disk_templates", "--ipolicy-disk-templates", type=T_LIST,
     metavar="TEMPLATES", help="Comma-separated list of enabled disk"
     " templates")
_opt("ipolicy_vcpu_ratio", "--ipolicy-vcpu-ratio", type=T_FLOAT,
     metavar="RATIO", help="The maximum allowed vcpu-to-cpu ratio")
_opt("ipolicy_spindle_ratio", "--ipolicy-spindle-ratio", type=T_FLOAT,
     metavar="RATIO", help="The maximum allowed instances to spindle ratio")
for _spec, _flagname in (("mem-size", "--specs-mem-size"),
                         ("cpu-count", "--specs-cpu-count"),
                         ("disk-count", "--specs-disk-count"),
                         ("disk-size", "--specs-disk-size"),
                         ("nic-count", "--specs-nic-count")):
    _opt("ispecs_" + _spec.replace("-", "_"), _flagname, type=T_KEYVAL,
         default={}, metavar="min=X,max=Y,std=Z",
         help="%s specs: min, max and std values "
         "(min=X,max=Y,std=Z)" % _spec)

# --- cluster
_opt("nodes", "-n", "--node", action="append", default=[], metavar="NODE",
     help="Node(s) to act on (can be given multiple times)")
_opt("nodegroup", "-g", "--node-group", metavar="GROUP",
     help="Node group (name or uuid)")
_flag("show_machine_names", "-M", "--show-machine-names",
      help="Add the node name to each line of the output")
_flag("failure_only", "--failure-only",
      help="Display output only of nodes that failed the command")
_flag("use_replication_network", "--use-replication-network",
      help="Whether to use the replication network for talking to the nodes")
_flag("error_codes", "--error-codes",
      help="Enable parseable error messages")
_flag("skip_nplusone_mem", "--no-nplus1-mem",
      help="Skip N+1 memory redundancy tests")
_flag("simulate_errors", "--debug-simulate-errors",
      help="Debugging option that makes the operation treat most runtime"
           " checks as failed")
_opt("ignore_errors", "-I", "--ignore-errors", action="append", default=[],
     metavar="ERROR_CODE", help="Error code to be ignored")
_flag("verify_clutter", "--verify-ssh-clutter",
      help="Verify that Ganeti did not clutter up the 'authorized_keys'"
           " file")
_flag("no_voting", "--no-voting",
      help="Skip node agreement check (dangerous)")
_flag("ignore_offline_nodes", "--ignore-offline-nodes",
      help="Ignore offline nodes and do as much as possible")
_flag("new_rapi_cert", "--new-rapi-certificate",
      help="Generate a new self-signed RAPI certificate")
_opt("rapi_cert", "--rapi-certificate", metavar="FILE",
     help="File containing new RAPI certificate and key (PEM)")

# --- node
_flag("readd", "--readd", help="Readd old node after replacing it")
_opt("node_group_add", "-g", "--node-group", dest="nodegroup",
     metavar="GROUP", help="Node group (name or uuid)")
_opt("master_capable", "--master-capable", type=T_BOOL, metavar="yes|no",
     help="Set the master_capable flag on the node")
_opt("vm_capable", "--vm-capable", type=T_BOOL, metavar="yes|no",
     help="Set the vm_capable flag on the node")
_opt("ssh_key_check", "--no-ssh-key-check", action="store_false",
     default=True, help="Disable SSH key fingerprint checking")
_opt("node_setup", "--no-node-setup", action="store_false", default=True,
     help="Do not make initial SSH setup on remote node (needs to be done"
          " manually)")
_opt("master_candidate", "-C", "--master-candidate", type=T_BOOL,
     metavar="yes|no", help="Set the master_candidate flag on the node")
_opt("drained", "-D", "--drained", type=T_BOOL, metavar="yes|no",
     help="Set the drained flag on the node")
_opt("offline", "-O", "--offline", type=T_BOOL, metavar="yes|no",
     help="Set the offline flag on the node")
_flag("auto_promote", "--auto-promote",
      help="Automatically promote nodes to master candidates when needed")
_opt("node_secondary_ip", "-s", "--secondary-ip", dest="secondary_ip",
     metavar="ADDRESS", help="Specify the secondary ip for the node")

# --- node groups, node storage, out-of-band management
_opt("alloc_policy", "--alloc-policy", metavar="POLICY",
     help="Allocation policy for the node group")
_opt("hv_state", "--hypervisor-state", type=T_IDENTKEYVAL, action="append",
     default=[], metavar="HYPERVISOR:PARAM=VALUE,...",
     help="Specify hypervisor state information in the format"
          " hypervisor:option=value,...; note this is unused for now")
_opt("disk_state", "--disk-state", type=T_IDENTKEYVAL, action="append",
     default=[], metavar="STORAGE_TYPE/ID:PARAM=VALUE,...",
     help="Specify disk state information in the format"
          " storage_type/identifier:option=value,...; note this is unused"
          " for now")
_opt("node_powered", "--node-powered", type=T_BOOL, metavar="yes|no",
     help="Specify if the SoR for node is powered")
_opt("storage_type", "-t", "--storage-type", dest="user_storage_type",
     metavar="STORAGE_TYPE",
     choices=("file", "lvm-pv", "lvm-vg", "sharedfile"),
     help="Storage type (file, lvm-pv, lvm-vg, sharedfile)")
_opt("allocatable", "--allocatable", type=T_BOOL, metavar="yes|no",
     help="Set the allocatable flag on a volume")
_flag("ignore_consistency", "--ignore-consistency",
      help="Ignore the consistency of the disks on the secondary")
_opt("oob_timeout", "--oob-timeout", type=T_INT,
     default=constants.OOB_TIMEOUT, metavar="SECONDS",
     help="Maximum time to wait for out-of-band helper")
_opt("power_delay", "--power-delay", type=T_FLOAT,
     default=constants.OOB_POWER_DELAY, metavar="SECONDS",
     help="Time in seconds to wait between power-ons")
_flag("ignore_status", "--ignore-status",
      help="Ignore the Node(s) offline status (potentially DANGEROUS)")

# --- job
_opt("status_pending", "--pending", dest="status_filter",
     action="store_const", const=sorted(constants.JOBS_PENDING),
     help="Select jobs pending execution or being cancelled")
_opt("status_running", "--running", dest="status_filter",
     action="store_const", const=[constants.JOB_STATUS_RUNNING],
     help="Show jobs currently running only")
_opt("status_error", "--error", dest="status_filter", action="store_const",
     const=[constants.JOB_STATUS_ERROR], help="Show failed jobs only")
_opt("status_finished", "--finished", dest="status_filter",
     action="store_const", const=sorted(constants.JOBS_FINALIZED),
     help="Show finished jobs only")
_opt("status_queued", "--queued", dest="status_filter",
     action="store_const", const=[constants.JOB_STATUS_QUEUED],
     help="Select queued jobs only")
_opt("status_waiting", "--waiting", dest="status_filter",
     action="store_const", const=[constants.JOB_STATUS_WAITING],
     help="Select waiting jobs only")
_flag("archived", "--archived",
      help="Include archived jobs in list (slow and expensive)")
_flag("kill", "--kill", help="Kill running jobs with SIGKILL")

# --- debug
_opt("on_master", "--no-master", action="store_false", default=True,
     help="Do not sleep in the master code")
_opt("on_nodes", "-n", action="append", default=[], metavar="NODE",
     help="Select nodes to sleep on")
_opt("repeat", "-r", "--repeat", type=T_INT, default=0, metavar="N",
     help="Number of times to repeat the sleep")
_flag("interruptible", "-i", "--interruptible",
      help="Allows the opcode to be interrupted by using a domain socket")
_flag("no_locks", "-l", "--no-locks",
      help="Don't take locks while doing the delay")
_opt("rep_op", "--op-repeat", type=T_INT, default=1, metavar="N",
     help="Repeat the opcode sequence this number of times")
_opt("rep_job", "--job-repeat", type=T_INT, default=1, metavar="N",
     help="Repeat the job this number of times")
_flag("timing_stats", "--timing-stats", help="Show timing statistics")
_flag("each", "--each", help="Submit each job separately")

# --- backup
_opt("export_nodes", "-n", "--node", dest="nodes", action="append",
     default=[], metavar="NODE", help="List only exports on this node")


# ---------------------------------------------------------------------------
# Parameters from option values: typed dicts, uid pools, instance policy

def fill_dict(defaults, custom):
    result = dict(defaults)
    result.update(custom or {})
    return result


def _type_of_default(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "string"


def types_from_defaults(defaults):
    """Parameter types inferred from a defaults dict (hv/disk params)."""
    return dict((k, _type_of_default(v)) for k, v in defaults.items())


def force_dict_type(target, key_types, allowed_values=("default",)):
    """Convert the string values of ``target`` in place to their types;
    TypeEnforcementError for unknown keys or bad values."""
    from ganeti.utils import text
    for key in list(target):
        if key not in key_types:
            raise errors.TypeEnforcementError("Unknown parameter '%s'" % key)
        value = target[key]
        if value is None or value in allowed_values:
            continue
        ktype = key_types[key]
        if ktype == "string":
            if not isinstance(value, str):
                if isinstance(value, bool) and not value:
                    target[key] = ""
                else:
                    raise errors.TypeEnforcementError(
                        "'%s' (value %s) is not a valid string" %
                        (key, value))
        elif ktype == "bool":
            if isinstance(value, str) and value:
                if value.lower() in ("false", "no"):
                    target[key] = False
                elif value.lower() in ("true", "yes"):
                    target[key] = True
                else:
                    raise errors.TypeEnforcementError(
                        "'%s' (value %s) is not a valid boolean" %
                        (key, value))
            else:
                target[key] = bool(value)
        elif ktype == "size":
            try:
                target[key] = text.parse_unit(value)
            except errors.UnitParseError as err:
                raise errors.TypeEnforcementError(
                    "'%s' (value %s) is not a valid size. error: %s" %
                    (key, value, err))
        elif ktype == "int":
            try:
                target[key] = int(value)
            except (ValueError, TypeError):
                raise errors.TypeEnforcementError(
                    "'%s' (value %s) is not a valid integer" % (key, value))
        elif ktype == "float":
            try:
                target[key] = float(value)
            except (ValueError, TypeError):
                raise errors.TypeEnforcementError(
                    "'%s' (value %s) is not a valid float" % (key, value))
    return target


def flat_to_dict(pairs, sep="/"):
    """``[("a/b", v), ...]`` -> ``{"a": {"b": v}}`` (``--disk-state``)."""
    result = {}
    for key, value in pairs:
        parts = key.split(sep)
        target = result
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return result


BES_PARAMETER_COMPAT = dict(constants.BES_PARAMETER_TYPES,
                            **{constants.BE_MEMORY: "size"})
NICS_PARAMETER_TYPES = {constants.NIC_MODE: "string",
                        constants.NIC_LINK: "string",
                        constants.NIC_VLAN: "string"}


def hv_parameter_types(hv_name=None):
    """Types of ``hv_name``'s parameters; without a name, of every
    hypervisor's (Ganeti's HVS_PARAMETER_TYPES is their union)."""
    if hv_name is not None:
        return types_from_defaults(constants.HVC_DEFAULTS.get(hv_name, {}))
    types = {}
    for name in constants.HVC_DEFAULTS:
        types.update(hv_parameter_types(name))
    return types


def disk_parameter_types(template):
    return types_from_defaults(constants.DISK_DT_DEFAULTS.get(template, {}))


def parse_uid_pool(value):
    """``1000-2000,3000`` (commas or spaces) -> sorted [(lo, hi), ...]."""
    ranges = []
    for range_def in value.replace(",", " ").split():
        bounds = range_def.split("-")
        if len(bounds) > 2:
            raise errors.OpPrereqError("Invalid user-id range definition."
                                       " Only one hyphen allowed: %s" %
                                       bounds, errors.ECODE_INVAL)
        try:
            lower = int(bounds[0])
        except ValueError as err:
            raise errors.OpPrereqError("Invalid user-id value for lower"
                                       " boundary of user-id range: %s" %
                                       err, errors.ECODE_INVAL)
        try:
            higher = int(bounds[-1])
        except ValueError as err:
            raise errors.OpPrereqError("Invalid user-id value for higher"
                                       " boundary of user-id range: %s" %
                                       err, errors.ECODE_INVAL)
        ranges.append((lower, higher))
    ranges.sort()
    return ranges


_ISPEC_OPTS = (
    ("ispecs_mem_size", constants.ISPEC_MEM_SIZE),
    ("ispecs_cpu_count", constants.ISPEC_CPU_COUNT),
    ("ispecs_disk_count", constants.ISPEC_DISK_COUNT),
    ("ispecs_disk_size", constants.ISPEC_DISK_SIZE),
    ("ispecs_nic_count", constants.ISPEC_NIC_COUNT),
)


def _ispec_value(name, value):
    from ganeti.utils import text
    if name in (constants.ISPEC_MEM_SIZE, constants.ISPEC_DISK_SIZE):
        try:
            return text.parse_unit(value)
        except errors.UnitParseError as err:
            raise errors.OpPrereqError("Invalid %s value '%s': %s" %
                                       (name, value, err),
                                       errors.ECODE_INVAL)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise errors.OpPrereqError("Invalid %s value '%s'" % (name, value),
                                   errors.ECODE_INVAL)


def _ispecs_dict(values):
    return dict((k, _ispec_value(k, v)) for k, v in values.items())


def create_ipolicy_from_opts(opts, fill_all=False, group_ipolicy=False):
    """The instance policy described by the ``--ipolicy-*``/``--specs-*``
    options (filled with the defaults when ``fill_all``)."""
    import copy
    ipolicy = {}
    bounds = getattr(opts, "ipolicy_bounds_specs", None)
    std = getattr(opts, "ipolicy_std_specs", None)
    split_specs = {}
    for opt_name, spec in _ISPEC_OPTS:
        values = getattr(opts, opt_name, None) or {}
        for key, value in values.items():
            if key not in ("min", "max", "std"):
                raise errors.OpPrereqError("Invalid key '%s' in --specs-%s;"
                                           " use min, max or std" %
                                           (key, spec), errors.ECODE_INVAL)
            split_specs.setdefault(key, {})[spec] = _ispec_value(spec, value)
    if bounds is not None:
        minmax = []
        pair = {}
        for key, values in bounds:
            if key not in ("min", "max"):
                raise errors.OpPrereqError("Invalid key in bounds instance"
                                           " specifications: %s" % key,
                                           errors.ECODE_INVAL)
            pair[key] = _ispecs_dict(values or {})
            if len(pair) == 2:
                minmax.append(pair)
                pair = {}
        if pair:
            raise errors.OpPrereqError("Incomplete bounds instance"
                                       " specifications: need min and max",
                                       errors.ECODE_INVAL)
        ipolicy["minmax"] = minmax
    elif "min" in split_specs or "max" in split_specs:
        base = copy.deepcopy(constants.IPOLICY_DEFAULTS["minmax"][0])
        base["min"].update(split_specs.get("min", {}))
        base["max"].update(split_specs.get("max", {}))
        ipolicy["minmax"] = [base]
    if not group_ipolicy:
        if std is not None:
            ipolicy["std"] = _ispecs_dict(std)
        elif "std" in split_specs:
            ipolicy["std"] = fill_dict(constants.IPOLICY_DEFAULTS["std"],
                                       split_specs["std"])
    templates = getattr(opts, "ipolicy_disk_templates", None)
    if templates is not None:
        ipolicy["disk-templates"] = list(templates)
    for opt_name, key in (("ipolicy_vcpu_ratio", "vcpu-ratio"),
                          ("ipolicy_spindle_ratio", "spindle-ratio")):
        value = getattr(opts, opt_name, None)
        if value is not None:
            ipolicy[key] = value
    if fill_all:
        filled = copy.deepcopy(constants.IPOLICY_DEFAULTS)
        filled.update(ipolicy)
        ipolicy = filled
    return ipolicy


def make_option_list(names):
    """The Option objects of ``names`` plus the common ones."""
    return [OPTIONS[name] for name in list(names) + ["debug", "reason"]]


class Values:
    """Parsed option values (attributes named after the ``dest``)."""

    def __init__(self, defaults):
        for key, value in defaults.items():
            setattr(self, key, value)

    def __repr__(self):
        return "<Values %r>" % (self.__dict__,)


class ParserExit(Exception):
    """Raised to end parsing: help printed (code 0) or an error (code 2)."""

    def __init__(self, code):
        Exception.__init__(self, code)
        self.code = code


class Parser:
    """Option parser for one subcommand (options before arguments)."""

    def __init__(self, prog, usage, description, options):
        self.prog = prog
        self.usage = usage
        self.description = description
        self.options = options
        self._flags = {}
        for opt in options:
            for flag in opt.flags:
                self._flags[flag] = opt

    def defaults(self):
        result = {}
        for opt in self.options:
            if opt.dest not in result or opt.default is not None:
                value = opt.default
                if isinstance(value, (list, dict)):
                    value = type(value)(value)  # never share a default
                result[opt.dest] = value
        return result

    def _lookup_long(self, flag):
        if flag in self._flags:
            return flag, self._flags[flag]
        matches = sorted(f for f in self._flags
                         if f.startswith("--") and f.startswith(flag))
        if len(matches) == 1:
            return matches[0], self._flags[matches[0]]
        if not matches:
            self.error("no such option: %s" % flag)
        self.error("ambiguous option: %s (%s?)" % (flag, ", ".join(matches)))

    def parse(self, args):
        """(Values, positional args); raises ParserExit on help or error."""
        values = Values(self.defaults())
        idx = 0
        while idx < len(args):
            arg = args[idx]
            idx += 1
            if arg == "--":
                return values, args[idx:]
            if arg in ("-h", "--help"):
                self.print_help()
                raise ParserExit(0)
            if arg.startswith("--"):
                name, has_value, value = arg.partition("=")
                flag, opt = self._lookup_long(name)
                if opt.takes_value:
                    if not has_value:
                        if idx >= len(args):
                            self.error("%s option requires 1 argument" % flag)
                        value = args[idx]
                        idx += 1
                    self._store(values, opt, flag, value)
                elif has_value:
                    self.error("%s option does not take a value" % flag)
                else:
                    self._store(values, opt, flag, None)
            elif arg.startswith("-") and arg != "-":
                pos = 1
                while pos < len(arg):
                    flag = "-" + arg[pos]
                    pos += 1
                    opt = self._flags.get(flag)
                    if opt is None:
                        self.error("no such option: %s" % flag)
                    if opt.takes_value:
                        if pos < len(arg):
                            value = arg[pos:]
                        elif idx < len(args):
                            value = args[idx]
                            idx += 1
                        else:
                            self.error("%s option requires 1 argument" % flag)
                        self._store(values, opt, flag, value)
                        break
                    self._store(values, opt, flag, None)
            else:
                return values, args[idx - 1:]
        return values, []

    def _store(self, values, opt, flag, raw):
        if opt.takes_value:
            try:
                value = opt.convert(flag, raw)
            except OptionValueError as err:
                self.error(str(err))
        if opt.action == "store":
            setattr(values, opt.dest, value)
        elif opt.action == "append":
            current = getattr(values, opt.dest, None)
            setattr(values, opt.dest, (current or []) + [value])
        elif opt.action == "store_true":
            setattr(values, opt.dest, True)
        elif opt.action == "store_false":
            setattr(values, opt.dest, False)
        elif opt.action == "store_const":
            setattr(values, opt.dest, opt.const)
        elif opt.action == "count":
            setattr(values, opt.dest, (getattr(values, opt.dest) or 0) + 1)
        else:
            raise errors.ProgrammerError("Unknown action %s" % opt.action)

    def format_usage(self):
        return "Usage\n=====\n  %s %s\n" % (self.prog, self.usage)

    def error(self, msg):
        sys.stderr.write(self.format_usage() + "\n")
        sys.stderr.write("%s: error: %s\n" % (self.prog, msg))
        raise ParserExit(2)

    def print_help(self):
        import textwrap
        out = [self.format_usage()]
        if self.description:
            out.append(textwrap.fill(self.description, 79) + "\n")
        out.append("Options\n=======")
        entries = [("-h, --help", "show this help message and exit")]
        for opt in self.options:
            names = []
            for flag in opt.flags:
                if opt.takes_value:
                    metavar = opt.metavar or opt.dest.upper()
                    sep = "=" if flag.startswith("--") else " "
                    names.append("%s%s%s" % (flag, sep, metavar))
                else:
                    names.append(flag)
            entries.append((", ".join(names), opt.help))
        for names, text in entries:
            lines = textwrap.wrap(text, 79 - 24) or [""]
            if len(names) > 20:
                out.append("  %s" % names)
                out.extend(" " * 24 + line for line in lines)
            else:
                out.append("  %-22s%s" % (names, lines[0]))
                out.extend(" " * 24 + line for line in lines[1:])
        sys.stdout.write("\n".join(out) + "\n")
