"""gnt-instance: create, remove, query, start/stop/reboot instances,
their disks, console and tags."""

import os
import sys

from ganeti import cli
from ganeti import cli_opts
from ganeti import constants
from ganeti import errors
from ganeti.client import instance_moves

_LIST_DEF_FIELDS = ["name", "hypervisor", "os", "pnode", "status",
                    "oper_ram"]

# Multi-instance selection modes (startup/shutdown/reboot)
_EXPAND_CLUSTER = "cluster"
_EXPAND_NODES_BOTH = "nodes"
_EXPAND_NODES_PRI = "nodes-pri"
_EXPAND_NODES_SEC = "nodes-sec"
_EXPAND_INSTANCES = "instances"
_EXPAND_INSTANCES_BY_TAGS = "instances-by-tags"
_NODE_MODES = (_EXPAND_NODES_BOTH, _EXPAND_NODES_PRI, _EXPAND_NODES_SEC)


# --- options of this program (registered once, keyed "inst_*") --------

def _opt(name, *flags, **kwargs):
    kwargs.setdefault("dest", name)
    cli_opts.OPTIONS["inst_" + name] = cli_opts.Option(flags, **kwargs)


def _flag(name, *flags, **kwargs):
    kwargs.setdefault("default", False)
    _opt(name, *flags, action="store_true", **kwargs)


_T = cli_opts
_opt("disk_template", "-t", "--disk-template", metavar="TEMPL",
     help="Custom disk setup (%s)" % "|".join(constants.DISK_TEMPLATES))
_opt("pnode", "-n", "--node", metavar="NODE[:SECONDARY]",
     help="Target node and optional secondary node")
_opt("disks", "--disk", type=_T.T_IDENTKEYVAL, action="append", default=[],
     metavar="<disk_index>:size=<size>,mode=<ro|rw>",
     help="Disk parameters")
_opt("sd_size", "-s", "--os-size", type=_T.T_UNIT, metavar="SIZE",
     help="Disk size for a single-disk instance")
_opt("nics", "--net", type=_T.T_IDENTKEYVAL, action="append", default=[],
     metavar="<nic_index>:mac=<mac>,ip=<ip>,link=<link>,mode=<mode>",
     help="NIC parameters")
_flag("no_nics", "--no-nics", help="Ignore all NICs of the instance")
_opt("os", "-o", "--os-type", metavar="<os>", help="What OS to run")
_opt("hypervisor", "-H", "--hypervisor-parameters",
     type=_T.T_IDENTKEYVAL, metavar="HYPERVISOR:OPTION=VALUE,...",
     help="Hypervisor and hypervisor options, in the format"
     " hypervisor:option=value,option=value,...")
_opt("osparams", "-O", "--os-parameters", type=_T.T_KEYVAL, default={},
     metavar="<key=val,...>", help="OS parameters")
_opt("start", "--no-start", action="store_false", default=True,
     help="Don't start the instance after creation")
_flag("no_install", "--no-install",
      help="Do not install the OS (will enable no-start)")
_opt("name_check", "--no-name-check", action="store_false", default=True,
     help="Skip name check for the instance name")
_opt("ip_check", "--no-ip-check", action="store_false", default=True,
     help="Don't check that the instance's IP is alive")
_opt("conflicts_check", "--no-conflicts-check", action="store_false",
     default=True, help="Don't check for conflicting IPs")
_opt("wait_for_sync", "--no-wait-for-sync", action="store_false",
     default=True, help="Don't wait for sync (DANGEROUS!)")
_opt("tags", "--tags", metavar="TAG[,TAG...]", help="Instance tags")
_opt("iallocator", "-I", "--iallocator", metavar="<NAME>",
     help="Select nodes for the instance automatically using the <NAME>"
     " iallocator plugin")
_opt("file_storage_dir", "--file-storage-dir", metavar="<DIR>",
     help="Relative path under default cluster-wide file storage dir to"
     " store file-based disks")
_opt("file_driver", "--file-driver", metavar="<DRIVER>",
     choices=("loop", "blktap", "blktap2"),
     help="Driver to use for image files")
_flag("force_variant", "--force-variant",
      help="Force an unknown variant")
_flag("ignore_ipolicy", "--ignore-ipolicy",
      help="Ignore instance policy violations")
_opt("nodegroup", "-g", "--node-group", metavar="GROUP",
     help="Node group (name or uuid)")
_opt("shutdown_timeout", "--shutdown-timeout", type=_T.T_INT,
     default=120,
     metavar="<secs>", help="Maximum time to wait for instance shutdown")
_opt("timeout", "--timeout", type=_T.T_INT, default=120, metavar="<secs>",
     help="Maximum time to wait for instance shutdown")
_flag("ignore_failures", "--ignore-failures",
      help="Remove the instance from the cluster configuration even if"
      " there are failures during the removal process")
_flag("static", "-s", "--static",
      help="Only show configuration data, not runtime data")
_flag("show_all", "--all", help="Show info on all instances on the cluster."
      " This can take a long time to run, use wisely")
_flag("force_multiple", "--force-multiple",
      help="Do not ask for confirmation when more than one instance is"
      " affected")
for _mode, _flags, _help in (
        (_EXPAND_NODES_BOTH, ("--node",), "Filter by nodes (primary and"
         " secondary)"),
        (_EXPAND_NODES_PRI, ("--primary",), "Filter by nodes (primary"
         " only)"),
        (_EXPAND_NODES_SEC, ("--secondary",), "Filter by nodes (secondary"
         " only)"),
        (_EXPAND_CLUSTER, ("--all",), "Select all instances in the"
         " cluster"),
        (_EXPAND_INSTANCES, ("--instance",), "Filter by instance name"
         " [default]"),
        (_EXPAND_INSTANCES_BY_TAGS, ("--tags",), "Filter by instance"
         " tags")):
    _opt("mode_" + _mode.replace("-", "_"), *_flags, dest="multi_mode",
         action="store_const", const=_mode, help=_help)
_flag("ignore_offline", "--ignore-offline",
      help="Ignore offline nodes and do as much as possible")
_flag("no_remember", "--no-remember",
      help="Perform but do not record the change in the configuration")
_flag("startup_paused", "--paused", help="Pause instance at startup")
_opt("start_beparams", "-B", "--backend-parameters", dest="beparams",
     type=_T.T_KEYVAL, default={}, metavar="<PARAM=VALUE,...>",
     help="Temporary backend parameters")
_opt("start_hvparams", "-H", "--hypervisor-parameters", dest="hvparams",
     type=_T.T_KEYVAL, default={}, metavar="<PARAM=VALUE,...>",
     help="Temporary hypervisor parameters")
_opt("reboot_type", "-t", "--type", default="hard",
     choices=("soft", "hard", "full"), metavar="<REBOOT>",
     help="Type of reboot: soft/hard/full")
_flag("ignore_secondaries", "--ignore-secondaries",
      help="Ignore errors from secondaries")
_flag("show_command", "--show-cmd",
      help="Show command instead of executing it")
_flag("ignore_size", "--ignore-size",
      help="Ignore current recorded size (useful for forcing activation"
      " when the recorded size is wrong)")
_flag("activate_wait", "--wait-for-sync", dest="wait_for_sync",
      help="Wait for disks to sync")

_SUBMIT = cli.SUBMIT_OPTS + cli.JOB_OPTS
_MULTI = ["inst_mode_" + m.replace("-", "_") for m in
          (_EXPAND_NODES_BOTH, _EXPAND_NODES_PRI, _EXPAND_NODES_SEC,
           _EXPAND_CLUSTER, _EXPAND_INSTANCES, _EXPAND_INSTANCES_BY_TAGS)]
_ADD_OPTS = ["beparams", "inst_disks", "inst_disk_template",
             "inst_file_storage_dir", "inst_file_driver", "inst_hypervisor",
             "inst_iallocator", "inst_nics", "inst_pnode", "inst_nodegroup",
             "inst_ip_check", "inst_conflicts_check", "inst_name_check",
             "inst_no_nics", "inst_wait_for_sync", "inst_osparams",
             "inst_sd_size", "inst_tags", "inst_start", "inst_os",
             "inst_force_variant", "inst_no_install", "inst_ignore_ipolicy"]


# --- helpers ------------------------------------------------------------

def _parse_disks(opts):
    if opts.disks and opts.sd_size is not None:
        raise errors.OpPrereqError("Please use either the '--disk' or"
                                   " '-s' option", errors.ECODE_INVAL)
    if opts.disk_template == constants.DT_DISKLESS:
        if opts.disks or opts.sd_size is not None:
            raise errors.OpPrereqError("Diskless instance but disk"
                                       " information passed",
                                       errors.ECODE_INVAL)
        return []
    if opts.sd_size is not None:
        return [{"size": opts.sd_size}]
    if not opts.disks:
        raise errors.OpPrereqError("No disk information specified",
                                   errors.ECODE_INVAL)
    try:
        disk_max = max(int(idx) + 1 for idx, _ in opts.disks)
    except ValueError as err:
        raise errors.OpPrereqError("Invalid disk index passed: %s" % err,
                                   errors.ECODE_INVAL)
    disks = [{}] * disk_max
    for idx, ddict in opts.disks:
        idx = int(idx)
        if "size" not in instance_moves.parse_disk_dict(idx, ddict):
            raise errors.OpPrereqError("Missing size or adoption source for"
                                       " disk %d" % idx, errors.ECODE_INVAL)
        disks[idx] = ddict
    return disks


def _parse_nics(opts):
    if opts.no_nics:
        if opts.nics:
            raise errors.OpPrereqError("Cannot specify both --no-nics and"
                                       " --net", errors.ECODE_INVAL)
        return []
    if not opts.nics:
        return [{}]
    try:
        nic_max = max(int(idx) + 1 for idx, _ in opts.nics)
    except ValueError as err:
        raise errors.OpPrereqError("Invalid NIC index passed: %s" % err,
                                   errors.ECODE_INVAL)
    nics = [{}] * nic_max
    for idx, ndict in opts.nics:
        if not isinstance(ndict, dict):
            raise errors.OpPrereqError("Invalid nic/%s value: expected dict,"
                                       " got %s" % (idx, ndict),
                                       errors.ECODE_INVAL)
        nics[int(idx)] = ndict
    return nics


def add_instance(opts, args):
    """Build OP_INSTANCE_CREATE from the options and run it."""
    from ganeti import opcodes
    instance = args[0]
    pnode = snode = None
    if opts.pnode:
        pnode, _, snode = opts.pnode.partition(":")
        snode = snode or None
    hypervisor, hvparams = (opts.hypervisor if opts.hypervisor
                            else (None, {}))
    cli_opts.force_dict_type(hvparams, cli_opts.hv_parameter_types())
    beparams = dict(opts.beparams or {})
    cli_opts.force_dict_type(beparams, cli_opts.BES_PARAMETER_COMPAT)
    tags = opts.tags.split(",") if opts.tags else []
    op = opcodes.OpInstanceCreate(
        instance_name=instance, disks=_parse_disks(opts),
        disk_template=opts.disk_template, nics=_parse_nics(opts),
        conflicts_check=opts.conflicts_check, pnode=pnode, snode=snode,
        ip_check=opts.ip_check, name_check=opts.name_check,
        wait_for_sync=opts.wait_for_sync,
        file_storage_dir=opts.file_storage_dir,
        file_driver=opts.file_driver, iallocator=opts.iallocator,
        hypervisor=hypervisor, hvparams=hvparams, beparams=beparams,
        osparams=opts.osparams or {}, mode="create", start=opts.start,
        os_type=opts.os, force_variant=opts.force_variant,
        no_install=opts.no_install, tags=tags,
        ignore_ipolicy=opts.ignore_ipolicy, group_name=opts.nodegroup)
    cli.submit_or_send(op, opts)
    return constants.EXIT_SUCCESS


# How Ganeti describes the shape batch-create expects (ht.TListOf(ht.TDict))
_INST_DATA_DESC = "List of Dictionary"


def batch_create(opts, args):
    """Create the instances a JSON file describes: a list of dicts of
    OP_INSTANCE_CREATE parameters, sent as one OP_INSTANCE_MULTI_ALLOC
    (so one allocator request places them all); then wait for the
    creation job of each instance."""
    import json
    from ganeti import opcodes
    try:
        with open(args[0]) as handle:
            data = json.loads(handle.read())
    except Exception as err:  # pylint: disable=broad-except
        cli.to_stderr("Can't parse the instance definition file: %s", err)
        return constants.EXIT_FAILURE
    if not (isinstance(data, list) and
            all(isinstance(item, dict) for item in data)):
        cli.to_stderr("The instance definition file is not %s",
                      _INST_DATA_DESC)
        return constants.EXIT_FAILURE
    known = set(p.name for p in opcodes.OpInstanceCreate.PARAMS)
    instances = []
    for idx, item in enumerate(data):
        unknown = set(item) - known
        if unknown:
            raise errors.OpPrereqError("Unknown fields in definition %s: %s"
                                       % (idx, ", ".join(sorted(unknown))),
                                       errors.ECODE_INVAL)
        inst = opcodes.OpInstanceCreate(**item)
        inst.validate()
        instances.append(inst.to_dict())
    op = opcodes.OpInstanceMultiAlloc(iallocator=opts.iallocator,
                                      instances=instances)
    cl = cli.get_client()
    result = cli.submit_or_send(op, opts, cl=cl)
    jex = cli.JobExecutor(cl=cl, opts=opts)
    for status, job_id in result.get("jobs", []):
        jex.add_job_id(None, status, job_id)
    bad = len([row for row in jex.get_results() if not row[0]])
    # instances the allocator could not place got no job (the job log
    # named them); they count as errors
    bad += len(result.get("failed") or [])
    if bad == 0:
        cli.to_stdout("All instances created successfully.")
        return constants.EXIT_SUCCESS
    cli.to_stdout("There were %s errors during the creation.", bad)
    return constants.EXIT_FAILURE


def _ensure_instances_exist(cl, names):
    """Ganeti's _EnsureInstancesExist: OpPrereqError for a missing one."""
    result = cl.query(constants.QR_INSTANCE, ["name"],
                      cli.make_simple_filter("name", names))
    found = set(row[0][1] for row in result["data"] if row[0][0] == 0)
    for name in names:
        if name not in found and not any(f.startswith(name + ".")
                                         for f in found):
            raise errors.OpPrereqError("Instance '%s' not known" % name,
                                       errors.ECODE_NOENT)


def remove_instance(opts, args):
    from ganeti import opcodes
    name = args[0]
    if not opts.force:
        _ensure_instances_exist(cli.get_client(), [name])
        text = ("This will remove the volumes of the instance %s (including"
                " mirrors), thus removing all the data of the instance."
                " Continue?" % name)
        if not cli.ask_user(text):
            return constants.EXIT_FAILURE
    op = opcodes.OpInstanceRemove(instance_name=name,
                                  ignore_failures=opts.ignore_failures,
                                  shutdown_timeout=opts.shutdown_timeout)
    cli.submit_or_send(op, opts)
    return constants.EXIT_SUCCESS


def _expand_multi_names(mode, names, cl):
    """Instance names selected by ``mode`` (Ganeti's _ExpandMultiNames)."""
    if mode == _EXPAND_CLUSTER:
        if names:
            raise errors.OpPrereqError("Cluster filter mode takes no"
                                       " arguments", errors.ECODE_INVAL)
        result = cl.query(constants.QR_INSTANCE, ["name"], None)
        return [row[0][1] for row in result["data"]]
    if mode in _NODE_MODES:
        if not names:
            raise errors.OpPrereqError("No node names passed",
                                       errors.ECODE_INVAL)
        result = cl.query(constants.QR_NODE,
                          ["name", "pinst_list", "sinst_list"],
                          cli.make_simple_filter("name", names))
        selected = []
        for row in result["data"]:
            pri = row[1][1] or [] if row[1][0] == 0 else []
            sec = row[2][1] or [] if row[2][0] == 0 else []
            if mode in (_EXPAND_NODES_BOTH, _EXPAND_NODES_PRI):
                selected.extend(pri)
            if mode in (_EXPAND_NODES_BOTH, _EXPAND_NODES_SEC):
                selected.extend(sec)
        return sorted(set(selected))
    if mode == _EXPAND_INSTANCES:
        if not names:
            raise errors.OpPrereqError("No instance names passed",
                                       errors.ECODE_INVAL)
        _ensure_instances_exist(cl, names)
        result = cl.query(constants.QR_INSTANCE, ["name"],
                          cli.make_simple_filter("name", names))
        return [row[0][1] for row in result["data"]]
    if mode == _EXPAND_INSTANCES_BY_TAGS:
        if not names:
            raise errors.OpPrereqError("No instance tags passed",
                                       errors.ECODE_INVAL)
        result = cl.query(constants.QR_INSTANCE, ["name", "tags"], None)
        return [row[0][1] for row in result["data"]
                if set(row[1][1] or []) & set(names)]
    raise errors.OpPrereqError("Unknown mode '%s'" % mode,
                               errors.ECODE_INVAL)


def _many_ops(operation, make_op):
    """A command acting on every selected instance, one job each."""
    def run(opts, args):
        mode = opts.multi_mode or _EXPAND_INSTANCES
        cl = cli.get_client()
        names = _expand_multi_names(mode, args, cl)
        if not names:
            if mode == _EXPAND_CLUSTER:
                cli.to_stdout("Cluster is empty, no instances to %s",
                              operation)
                return constants.EXIT_SUCCESS
            raise errors.OpPrereqError("Selection filter does not match any"
                                       " instances", errors.ECODE_INVAL)
        multi_on = mode != _EXPAND_INSTANCES or len(names) > 1
        if multi_on and not opts.force_multiple and \
                not cli.confirm_operation(names, "instances", operation):
            return constants.EXIT_FAILURE
        jex = cli.JobExecutor(verbose=multi_on, cl=cl, opts=opts)
        for name in names:
            jex.queue_job(name, make_op(name, opts))
        results = jex.wait_or_show(not opts.submit_only)
        return int(not all(row[0] for row in results))
    return run


def _startup_op(name, opts):
    from ganeti import opcodes
    op = opcodes.OpInstanceStartup(
        instance_name=name, force=opts.force,
        ignore_offline_nodes=opts.ignore_offline,
        no_remember=opts.no_remember, startup_paused=opts.startup_paused)
    if opts.hvparams:
        op.hvparams = opts.hvparams
    if opts.beparams:
        op.beparams = opts.beparams
    return op


def _shutdown_op(name, opts):
    from ganeti import opcodes
    return opcodes.OpInstanceShutdown(
        instance_name=name, force=opts.force, timeout=opts.timeout,
        ignore_offline_nodes=opts.ignore_offline,
        no_remember=opts.no_remember)


def _reboot_op(name, opts):
    from ganeti import opcodes
    return opcodes.OpInstanceReboot(
        instance_name=name, reboot_type=opts.reboot_type,
        ignore_secondaries=opts.ignore_secondaries,
        shutdown_timeout=opts.shutdown_timeout)


def activate_disks(opts, args):
    from ganeti import opcodes
    op = opcodes.OpInstanceActivateDisks(instance_name=args[0],
                                         ignore_size=opts.ignore_size,
                                         wait_for_sync=opts.wait_for_sync)
    disks_info = cli.submit_or_send(op, opts)
    for host, iname, nname in disks_info or []:
        cli.to_stdout("%s:%s:%s", host, iname, nname)
    return constants.EXIT_SUCCESS


def deactivate_disks(opts, args):
    from ganeti import opcodes
    op = opcodes.OpInstanceDeactivateDisks(instance_name=args[0],
                                           force=opts.force)
    cli.submit_or_send(op, opts)
    return constants.EXIT_SUCCESS


# --- console ------------------------------------------------------------

def _ssh_command(host, port, user, command, cluster_name):
    """The ssh command line Ganeti prints for a console on ``host``."""
    import shlex
    from ganeti import pathutils
    argv = ["ssh", "-oEscapeChar=none", "-oHashKnownHosts=no",
            "-oGlobalKnownHostsFile=%s" % pathutils.SSH_KNOWN_HOSTS_FILE,
            "-oUserKnownHostsFile=/dev/null", "-oCheckHostIp=no",
            "-oHostKeyAlias=%s" % cluster_name]
    if port:
        argv.extend(["-p", str(port)])
    argv.extend(["-oBatchMode=yes", "-oStrictHostKeyChecking=yes", "-t",
                 "%s@%s" % (user, host),
                 " ".join(shlex.quote(c) for c in command)])
    return argv


def _local_node_name():
    from ganeti import pathutils
    return pathutils.get_hostname()


def connect_to_console(opts, args):
    """Show or run the command that opens the instance's console."""
    import shlex
    from ganeti import opcodes
    cl = cli.get_client()
    console = cli.submit_opcode(
        opcodes.OpInstanceConsole(instance_name=args[0]), cl=cl, opts=opts)
    kind = console.get("kind")
    if kind == "msg":
        cli.to_stdout("%s", console.get("message", ""))
        return constants.EXIT_SUCCESS
    if kind == "vnc":
        cli.to_stdout("Instance %s has VNC listening on %s:%s (display %s),"
                      " please connect to it using a VNC client (e.g."
                      " vncviewer).", console["instance"], console["host"],
                      console["port"], console.get("display"))
        return constants.EXIT_SUCCESS
    if kind == "spice":
        cli.to_stdout("Instance %s has SPICE listening on %s:%s",
                      console["instance"], console["host"], console["port"])
        return constants.EXIT_SUCCESS
    cluster_name = cl.query_config_values(["cluster_name"])[0]
    ssh_argv = _ssh_command(console["host"], console.get("port"),
                            console.get("user", "root"), console["command"],
                            cluster_name)
    if opts.show_command:
        cli.to_stdout("%s", " ".join(shlex.quote(a) for a in ssh_argv))
        return constants.EXIT_SUCCESS
    if console["host"] == _local_node_name():
        argv = console["command"]
    else:
        argv = ssh_argv
    sys.stdout.flush()
    try:
        os.execvp(argv[0], argv)
    except OSError as err:
        cli.to_stderr("Failed to run %s: %s", argv[0], err)
        return constants.EXIT_FAILURE


# --- info ---------------------------------------------------------------

def _disk_status(status):
    if not status:
        return "not active"
    major = status.get("major")
    minor = status.get("minor")
    return "%s (%s:%s)" % (status.get("dev_path"),
                           "N/A" if major is None else major,
                           "N/A" if minor is None else minor)


def _format_disk(idx, disk, static):
    data = [(disk.get("iv_name") or "disk %d" % idx, ""),
            ("access mode", disk.get("mode")),
            ("logical_id", ", ".join(str(x) for x in
                                     disk.get("logical_id") or [])),
            ("size", "%dM" % (disk.get("size") or 0))]
    if not static:
        data.append(("on primary", _disk_status(disk.get("pstatus"))))
    data.append(("name", str(disk.get("name"))))
    data.append(("UUID", disk.get("uuid")))
    return data


def _format_nic(idx, nic):
    return [("nic/%d" % idx, ""),
            ("MAC", str(nic.get("mac"))),
            ("IP", str(nic.get("ip"))),
            ("mode", str(nic.get("mode"))),
            ("link", str(nic.get("link"))),
            ("vlan", str(nic.get("vlan") or "")),
            ("network", str(nic.get("network"))),
            ("UUID", str(nic.get("uuid"))),
            ("name", str(nic.get("name")))]


def format_instance_info(instance, static, roman=False):
    from ganeti import cli_output
    if static or instance.get("run_state") is None:
        state = "configured to be %s" % instance["config_state"]
    else:
        state = "configured to be %s, actual state is %s" % (
            instance["config_state"], instance["run_state"])
    snodes = instance.get("snodes") or []
    nodes = [[("primary", instance["pnode"]),
              ("group", "%s (UUID %s)" % (instance["pnode_group_name"],
                                          instance["pnode_group_uuid"]))],
             [("secondaries", ", ".join(
                 "%s (group %s, group UUID %s)" % (n, g, u) for n, g, u in
                 zip(snodes, instance.get("snodes_group_names") or [],
                     instance.get("snodes_group_uuids") or [])))]]
    return [
        ("Instance name", instance["name"]),
        ("UUID", instance["uuid"]),
        ("Serial number", str(instance["serial_no"])),
        ("Creation time", cli_output.format_time(instance["ctime"])),
        ("Modification time", cli_output.format_time(instance["mtime"])),
        ("State", state),
        ("Nodes", nodes),
        ("Operating system", instance["os"]),
        ("Operating system parameters",
         cli_output.format_params_dict_info(instance["os_instance"],
                                            instance["os_actual"], roman)),
        ("Allocated network port", str(instance["network_port"])),
        ("Hypervisor", instance["hypervisor"]),
        ("Hypervisor parameters",
         cli_output.format_params_dict_info(instance["hv_instance"],
                                            instance["hv_actual"], roman)),
        ("Back-end parameters",
         cli_output.format_params_dict_info(instance["be_instance"],
                                            instance["be_actual"], roman)),
        ("NICs", [_format_nic(idx, nic) for idx, nic in
                  enumerate(instance["nics"])]),
        ("Disk template", instance["disk_template"]),
        ("Disks", [_format_disk(idx, disk, static) for idx, disk in
                   enumerate(instance["disks"])]),
    ]


def show_instance_config(opts, args):
    from ganeti import opcodes
    if not args and not opts.show_all:
        cli.to_stderr("No instance selected. Please pass in --all if you"
                      " want to query all instances.\nNote that this can"
                      " take a long time on a big cluster.")
        return constants.EXIT_FAILURE
    if args and opts.show_all:
        cli.to_stderr("Cannot use --all if you specify instance names.")
        return constants.EXIT_FAILURE
    op = opcodes.OpInstanceQueryData(instances=args, static=opts.static,
                                     use_locking=not opts.static)
    result = cli.submit_opcode(op, opts=opts)
    if not result:
        cli.to_stdout("No instances.")
        return constants.EXIT_FAILURE
    from ganeti.utils import text
    cli.print_generic_info([
        format_instance_info(result[name], opts.static, opts.roman_integers)
        for name in text.nice_sort(list(result))])
    return constants.EXIT_SUCCESS


# --- list -----------------------------------------------------------------

def list_instances(opts, args):
    fields = cli.parse_fields(opts.output, _LIST_DEF_FIELDS)
    return cli.generic_list(constants.QR_INSTANCE, fields, args, opts.units,
                            opts.separator, not opts.no_headers,
                            verbose=opts.verbose,
                            force_filter=opts.force_filter)


def list_instance_fields(opts, args):
    return cli.generic_list_fields(constants.QR_INSTANCE, args,
                                   opts.separator, not opts.no_headers)


_MULTI_COMMON = ["inst_force_multiple"] + _MULTI + _SUBMIT

COMMANDS = {
    "add": (
        add_instance, cli.ARGS_ONE_INSTANCE, _ADD_OPTS + _SUBMIT,
        "[...] -t disk-type -n node[:secondary-node] -o os-type"
        " <instance-name>", "Creates and adds a new instance to the cluster"),
    "batch-create": (
        batch_create, [cli.Arg("file", min=1, max=1)],
        ["dry_run", "priority", "inst_iallocator"] + cli.SUBMIT_OPTS,
        "<instances.json>",
        "Create a bunch of instances based on specs in the file."),
    "remove": (
        remove_instance, cli.ARGS_ONE_INSTANCE,
        ["force", "inst_shutdown_timeout", "inst_ignore_failures"] + _SUBMIT,
        "[-f] <instance-name>", "Shuts down the instance and removes it"),
    "info": (
        show_instance_config, cli.ARGS_MANY_INSTANCES,
        ["inst_static", "inst_show_all", "roman_integers", "priority"],
        "[-s] {--all | <instance-name>...}",
        "Show information on the specified instance(s)"),
    "list": (
        list_instances, cli.ARGS_MANY_INSTANCES, cli.LIST_OPTS,
        "[<instance-name>...]",
        "Lists the instances and their status. The available fields can be"
        " shown using the \"list-fields\" command (see the man page for"
        " details). The default field list is (in order): %s." %
        ", ".join(_LIST_DEF_FIELDS)),
    "list-fields": (
        list_instance_fields, cli.ARGS_MANY_FIELDS, cli.LIST_FIELDS_OPTS,
        "[fields...]", "Lists all available fields for instances"),
    "startup": (
        _many_ops("startup", _startup_op), cli.ARGS_MANY_INSTANCES,
        ["force", "inst_ignore_offline", "inst_no_remember",
         "inst_startup_paused", "inst_start_beparams",
         "inst_start_hvparams"] + _MULTI_COMMON,
        "<instance>", "Starts an instance"),
    "shutdown": (
        _many_ops("shutdown", _shutdown_op), cli.ARGS_MANY_INSTANCES,
        ["force", "inst_timeout", "inst_ignore_offline",
         "inst_no_remember"] + _MULTI_COMMON,
        "<instance>", "Stops an instance"),
    "reboot": (
        _many_ops("reboot", _reboot_op), cli.ARGS_MANY_INSTANCES,
        ["inst_reboot_type", "inst_ignore_secondaries",
         "inst_shutdown_timeout"] + _MULTI_COMMON,
        "[-t {soft|hard|full}] <instance>", "Reboots an instance"),
    "console": (
        connect_to_console, cli.ARGS_ONE_INSTANCE,
        ["inst_show_command", "priority"],
        "[--show-cmd] <instance-name>",
        "Opens a console on the specified instance"),
    "activate-disks": (
        activate_disks, cli.ARGS_ONE_INSTANCE,
        ["inst_ignore_size", "inst_activate_wait"] + _SUBMIT,
        "<instance-name>", "Activate an instance's disks"),
    "deactivate-disks": (
        deactivate_disks, cli.ARGS_ONE_INSTANCE, ["force"] + _SUBMIT,
        "[-f] <instance-name>", "Deactivate an instance's disks"),
}
COMMANDS.update(cli.tag_commands(cli.ARGS_ONE_INSTANCE, "<instance-name>"))
COMMANDS.update(instance_moves.INSTANCE_COMMANDS)

ALIASES = {"start": "startup", "stop": "shutdown", "show": "info"}

ENV_OVERRIDE = frozenset(["list"])


def main():
    return cli.generic_main(COMMANDS, aliases=ALIASES,
                            env_override=ENV_OVERRIDE, binary="gnt-instance",
                            override={"tag_type": constants.TAG_INSTANCE})
