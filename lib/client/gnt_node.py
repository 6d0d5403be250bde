"""gnt-node: add, remove, modify and inspect cluster nodes."""

from ganeti import cli
from ganeti import cli_opts
from ganeti import cli_output
from ganeti import constants
from ganeti import errors
from ganeti.client import instance_moves

_LIST_DEF_FIELDS = ["name", "dtotal", "dfree", "mtotal", "mnode", "mfree",
                    "pinst_cnt", "sinst_cnt"]

_INFO_FIELDS = ["name", "pip", "sip", "pinst_list", "sinst_list",
                "master_candidate", "drained", "offline", "master_capable",
                "vm_capable", "powered", "ndparams", "custom_ndparams"]

_LIST_FORMAT = dict.fromkeys(["pinst_list", "sinst_list", "tags"],
                             (",".join, False))


def _query_node(cl, name, fields):
    """Values of ``fields`` for node ``name``, or None if it is unknown."""
    try:
        response = cl.query(constants.QR_NODE, fields,
                            ["==", "name", name])
    except (errors.OpPrereqError, errors.OpExecError):
        return None
    for row in response["data"]:
        if row[0][0] == constants.RS_NORMAL:
            return [value for (_, value) in row]
    return None


def add_node(opts, args):
    """Add (or with ``--readd`` re-add) a node; the master sets it up."""
    from ganeti import opcodes
    cl = cli.get_client()
    node = args[0]
    existing = _query_node(cl, node, ["name", "sip", "master"])
    if opts.readd:
        if existing is None:
            cli.to_stderr("Node %s not in the cluster - please retry without"
                          " '--readd'", node)
            return constants.EXIT_FAILURE
        if existing[2]:
            cli.to_stderr("Node %s is the master, cannot readd", node)
            return constants.EXIT_FAILURE
        secondary_ip = existing[1]
    else:
        if existing is not None:
            cli.to_stderr("Node %s already in the cluster (as %s) - please"
                          " retry with '--readd'", node, existing[0])
            return constants.EXIT_FAILURE
        secondary_ip = opts.secondary_ip
    ndparams = opts.ndparams
    if ndparams:
        cli.force_dict_type(ndparams, constants.NDS_PARAMETER_TYPES)
    op = opcodes.OpNodeAdd(node_name=node, secondary_ip=secondary_ip,
                           readd=opts.readd, group=opts.nodegroup,
                           vm_capable=opts.vm_capable,
                           master_capable=opts.master_capable,
                           ndparams=ndparams, node_setup=opts.node_setup)
    cli.submit_opcode(op, opts=opts)
    return constants.EXIT_SUCCESS


def list_nodes(opts, args):
    fields = cli.parse_fields(opts.output, _LIST_DEF_FIELDS)
    return cli.generic_list(constants.QR_NODE, fields, args, opts.units,
                            opts.separator, not opts.no_headers,
                            format_override=_LIST_FORMAT,
                            verbose=opts.verbose,
                            force_filter=opts.force_filter)


def list_node_fields(opts, args):
    return cli.generic_list_fields(constants.QR_NODE, args, opts.separator,
                                   not opts.no_headers)


def format_node_info(values):
    """Ordered info structure of one node (values of ``_INFO_FIELDS``)."""
    from ganeti.utils import text
    (name, pip, sip, pinst, sinst, is_mc, drained, offline, master_capable,
     vm_capable, powered, ndparams, custom_ndparams) = values
    info = [("Node name", name), ("primary ip", pip), ("secondary ip", sip),
            ("master candidate", is_mc), ("drained", drained),
            ("offline", offline)]
    if powered is not None:
        info.append(("powered", powered))
    info.extend([("master_capable", master_capable),
                 ("vm_capable", vm_capable)])
    if vm_capable:
        info.extend([
            ("primary for instances", text.nice_sort(pinst or [])),
            ("secondary for instances", text.nice_sort(sinst or [])),
        ])
    info.append(("node parameters",
                 cli.format_params_dict_info(custom_ndparams or {},
                                             ndparams or {})))
    return info


def show_node_info(opts, args):
    cl = cli.get_client()
    response = cl.query(constants.QR_NODE, _INFO_FIELDS,
                        cli.make_simple_filter("name", args))
    cli.print_generic_info([
        format_node_info([value for (_, value) in row])
        for row in response["data"]])
    return constants.EXIT_SUCCESS


def remove_node(opts, args):
    from ganeti import opcodes
    cli.submit_opcode(opcodes.OpNodeRemove(node_name=args[0]), opts=opts)
    return constants.EXIT_SUCCESS


def set_node_params(opts, args):
    """Change a node's flags or parameters; prints what changed."""
    from ganeti import opcodes
    changes = [opts.master_candidate, opts.drained, opts.offline,
               opts.master_capable, opts.vm_capable, opts.secondary_ip,
               opts.ndparams, opts.node_powered]
    if (changes.count(None) == len(changes) and
            not (opts.hv_state or opts.disk_state)):
        cli.to_stderr("Please give at least one of the parameters.")
        return constants.EXIT_FAILURE
    if opts.ndparams:
        cli.force_dict_type(opts.ndparams, constants.NDS_PARAMETER_TYPES)
    op = opcodes.OpNodeSetParams(node_name=args[0],
                                 master_candidate=opts.master_candidate,
                                 offline=opts.offline, drained=opts.drained,
                                 master_capable=opts.master_capable,
                                 vm_capable=opts.vm_capable,
                                 secondary_ip=opts.secondary_ip,
                                 force=opts.force, ndparams=opts.ndparams,
                                 auto_promote=opts.auto_promote,
                                 powered=opts.node_powered,
                                 hv_state=dict(opts.hv_state) or None,
                                 disk_state=cli_opts.flat_to_dict(
                                     opts.disk_state) or None)
    result = cli.submit_or_send(op, opts)
    if result:
        cli.to_stdout("Modified node %s", args[0])
        for param, data in result:
            cli.to_stdout(" - %-5s -> %s", param, data)
    return constants.EXIT_SUCCESS


# --- storage units and volumes ---

_LIST_VOL_DEF_FIELDS = ["node", "phys", "vg", "name", "size", "instance"]
_VOL_HEADERS = {"node": "Node", "phys": "PhysDev", "vg": "VG",
                "name": "Name", "size": "Size", "instance": "Instance"}

_LIST_STOR_HEADERS = {
    constants.SF_NODE: "Node", constants.SF_TYPE: "Type",
    constants.SF_NAME: "Name", constants.SF_SIZE: "Size",
    constants.SF_USED: "Used", constants.SF_FREE: "Free",
    constants.SF_ALLOCATABLE: "Allocatable",
}
_LIST_STOR_DEF_FIELDS = list(_LIST_STOR_HEADERS)
_STOR_SIZE_FIELDS = [constants.SF_SIZE, constants.SF_USED,
                     constants.SF_FREE]

# storage type names users give -> internal names
_USER_STORAGE_TYPE = {
    constants.ST_FILE: constants.ST_FILE,
    constants.ST_LVM_PV: constants.ST_LVM_PV,
    constants.ST_LVM_VG: constants.ST_LVM_VG,
    constants.ST_SHARED_FILE: constants.ST_SHARED_FILE,
}
_MODIFIABLE_STORAGE_TYPES = sorted(constants.MODIFIABLE_STORAGE_FIELDS)
_REPAIRABLE_STORAGE_TYPES = sorted(
    st for st, ops in constants.VALID_STORAGE_OPERATIONS.items()
    if constants.SO_FIX_CONSISTENCY in ops)


def convert_storage_type(user_storage_type):
    try:
        return _USER_STORAGE_TYPE[user_storage_type]
    except KeyError:
        raise errors.OpPrereqError("Unknown storage type: %s" %
                                   user_storage_type, errors.ECODE_INVAL)


def list_volumes(opts, args):
    """Logical volumes of the nodes (the nodes run ``lvs``)."""
    from ganeti import opcodes
    fields = cli.parse_fields(opts.output, _LIST_VOL_DEF_FIELDS)
    op = opcodes.OpNodeQueryvols(nodes=args, output_fields=fields)
    output = cli.submit_opcode(op, opts=opts)
    headers = None if opts.no_headers else _VOL_HEADERS
    for line in cli.generate_table(headers, fields, opts.separator, output,
                                   numfields=["size"], unitfields=["size"],
                                   units=opts.units):
        cli.to_stdout(line)
    return constants.EXIT_SUCCESS


def list_storage(opts, args):
    """Storage units of one type on the nodes, with sizes in MiB."""
    from ganeti import opcodes
    fields = cli.parse_fields(opts.output, _LIST_STOR_DEF_FIELDS)
    op = opcodes.OpNodeQueryStorage(nodes=args,
                                    storage_type=opts.user_storage_type,
                                    output_fields=fields)
    output = cli.submit_opcode(op, opts=opts)
    rows = []
    for row in output:
        cells = []
        for field, value in zip(fields, row):
            if field == constants.SF_ALLOCATABLE:
                value = "Y" if value else "N"
            cells.append(str(value))
        rows.append(cells)
    headers = None if opts.no_headers else _LIST_STOR_HEADERS
    for line in cli.generate_table(headers, fields, opts.separator, rows,
                                   numfields=_STOR_SIZE_FIELDS,
                                   unitfields=_STOR_SIZE_FIELDS,
                                   units=opts.units):
        cli.to_stdout(line)
    return constants.EXIT_SUCCESS


def modify_storage(opts, args):
    from ganeti import opcodes
    node_name, user_storage_type, volume_name = args
    storage_type = convert_storage_type(user_storage_type)
    changes = {}
    if opts.allocatable is not None:
        changes[constants.SF_ALLOCATABLE] = opts.allocatable
    if not changes:
        cli.to_stderr("No changes to perform, exiting.")
        return constants.EXIT_SUCCESS
    op = opcodes.OpNodeModifyStorage(node_name=node_name,
                                     storage_type=storage_type,
                                     name=volume_name, changes=changes)
    cli.submit_or_send(op, opts)
    return constants.EXIT_SUCCESS


def repair_storage(opts, args):
    from ganeti import opcodes
    node_name, user_storage_type, volume_name = args
    storage_type = convert_storage_type(user_storage_type)
    op = opcodes.OpRepairNodeStorage(
        node_name=node_name, storage_type=storage_type, name=volume_name,
        ignore_consistency=opts.ignore_consistency)
    cli.submit_or_send(op, opts)
    return constants.EXIT_SUCCESS


# --- power ---

_LIST_POWER_COMMANDS = ["on", "off", "cycle", "status"]
_OOB_COMMAND_ASK = frozenset([constants.OOB_POWER_OFF,
                              constants.OOB_POWER_CYCLE])
_OOB_HEADERS = {"node": "Node", "status": "Status"}


def powercycle_node(opts, args):
    """Hard-reboot a node through its node daemon, after confirmation."""
    from ganeti import opcodes
    node = args[0]
    if (not opts.confirm and
            not cli.ask_user("Are you sure you want to hard powercycle node"
                             " %s?" % node)):
        return 2
    op = opcodes.OpNodePowercycle(node_name=node, force=opts.force)
    result = cli.submit_or_send(op, opts)
    if result:
        cli.to_stderr(str(result))
    return constants.EXIT_SUCCESS


def _oob_table(opts, data):
    headers = None if opts.no_headers else _OOB_HEADERS
    for line in cli.generate_table(headers, ["node", "status"],
                                   opts.separator, data):
        cli.to_stdout(line)


def power_node(opts, args):
    """``power on|off|cycle|status``: the out-of-band helper of each node."""
    from ganeti import opcodes
    command = args.pop(0)
    if command not in _LIST_POWER_COMMANDS:
        cli.to_stderr("power subcommand %s not supported." % command)
        return constants.EXIT_FAILURE
    oob_command = "power-%s" % command
    if oob_command in _OOB_COMMAND_ASK:
        if not args:
            cli.to_stderr("Please provide at least one node for this"
                          " command")
            return constants.EXIT_FAILURE
        if not opts.force and not cli.confirm_operation(
                args, "nodes", "power %s" % command):
            return constants.EXIT_FAILURE
    ops = []
    if not opts.ignore_status and oob_command == constants.OOB_POWER_OFF:
        for node in args:
            ops.append(opcodes.OpNodeSetParams(
                node_name=node, offline=True, auto_promote=opts.auto_promote))
    ops.append(opcodes.OpOobCommand(node_names=args, command=oob_command,
                                    ignore_status=opts.ignore_status,
                                    timeout=opts.oob_timeout,
                                    power_delay=opts.power_delay))
    cli.set_generic_opcode_opts(ops, opts)
    job_id = cli.send_job(ops)
    result = cli.poll_job(job_id)[-1]
    errs = 0
    data = []
    for (_, node_name), (status, payload) in result:
        if status == constants.RS_NORMAL:
            if oob_command == constants.OOB_POWER_STATUS:
                text = ("powered" if payload[
                    constants.OOB_POWER_STATUS_POWERED] else "unpowered")
            else:
                text = "invoked"
        else:
            errs += 1
            text = cli_output.format_result_error(status, True)
        data.append([node_name, text])
    _oob_table(opts, data)
    return constants.EXIT_FAILURE if errs else constants.EXIT_SUCCESS


def node_health(opts, args):
    """Health items reported by the nodes' out-of-band helpers."""
    from ganeti import opcodes
    op = opcodes.OpOobCommand(node_names=args, command=constants.OOB_HEALTH,
                              timeout=opts.oob_timeout)
    result = cli.submit_opcode(op, opts=opts)
    errs = 0
    data = []
    for (_, node_name), (status, payload) in result:
        if status == constants.RS_NORMAL and payload:
            data.append([node_name, "%s=%s" % tuple(payload[0])])
            for item, item_status in payload[1:]:
                data.append(["", "%s=%s" % (item, item_status)])
        elif status == constants.RS_NORMAL:
            data.append([node_name, ""])
        else:
            errs += 1
            data.append([node_name,
                         cli_output.format_result_error(status, True)])
    _oob_table(opts, data)
    return constants.EXIT_FAILURE if errs else constants.EXIT_SUCCESS


COMMANDS = {
    "add": (
        add_node, cli.ARGS_ONE_NODE,
        ["secondary_ip", "readd", "ssh_key_check", "node_setup", "verbose",
         "node_group_add", "priority", "master_capable", "vm_capable",
         "ndparams"],
        "[-s ip] [--readd] [--no-ssh-key-check] [--no-node-setup]"
        " [--verbose] <node-name>",
        "Add a node to the cluster"),
    "info": (
        show_node_info, cli.ARGS_MANY_NODES, [], "[<node-name>...]",
        "Show information about the node(s)"),
    "list": (
        list_nodes, cli.ARGS_MANY_NODES, cli.LIST_OPTS, "[<node-name>...]",
        "Lists the nodes in the cluster. The available fields can be shown"
        " using the \"list-fields\" command (see the man page for details)."
        " The default field list is (in order): %s." %
        ", ".join(_LIST_DEF_FIELDS)),
    "list-fields": (
        list_node_fields, cli.ARGS_MANY_FIELDS, cli.LIST_FIELDS_OPTS,
        "[fields...]", "Lists all available fields for nodes"),
    "modify": (
        set_node_params, cli.ARGS_ONE_NODE,
        ["force", "master_candidate", "drained", "offline",
         "master_capable", "vm_capable", "node_secondary_ip",
         "auto_promote", "ndparams", "node_powered", "hv_state",
         "disk_state"] + cli.JOB_OPTS + cli.SUBMIT_OPTS,
        "<node-name>", "Alters the parameters of a node"),
    "remove": (
        remove_node, cli.ARGS_ONE_NODE, cli.JOB_OPTS, "<node-name>",
        "Removes a node from the cluster"),
    "volumes": (
        list_volumes, cli.ARGS_MANY_NODES,
        ["no_headers", "separator", "units", "output", "priority"],
        "[<node-name>...]", "List logical volumes on node(s)"),
    "list-storage": (
        list_storage, cli.ARGS_MANY_NODES,
        ["no_headers", "separator", "units", "output", "storage_type",
         "priority"],
        "[<node-name>...]",
        "List physical volumes on node(s). The available fields are (see"
        " the man page for details): %s." % ", ".join(_LIST_STOR_HEADERS)),
    "modify-storage": (
        modify_storage,
        [cli.Arg("node", min=1, max=1),
         cli.Arg("choice", min=1, max=1, choices=_MODIFIABLE_STORAGE_TYPES),
         cli.Arg("file", min=1, max=1)],
        ["allocatable"] + cli.JOB_OPTS + cli.SUBMIT_OPTS,
        "<node-name> <storage-type> <volume-name>",
        "Modify storage volume on a node"),
    "repair-storage": (
        repair_storage,
        [cli.Arg("node", min=1, max=1),
         cli.Arg("choice", min=1, max=1, choices=_REPAIRABLE_STORAGE_TYPES),
         cli.Arg("file", min=1, max=1)],
        ["ignore_consistency"] + cli.JOB_OPTS + cli.SUBMIT_OPTS,
        "<node-name> <storage-type> <volume-name>",
        "Repairs a storage volume on a node"),
    "powercycle": (
        powercycle_node, cli.ARGS_ONE_NODE,
        ["force", "confirm"] + cli.JOB_OPTS + cli.SUBMIT_OPTS,
        "<node-name>", "Tries to forcefully powercycle a node"),
    "power": (
        power_node,
        [cli.Arg("choice", min=1, max=1, choices=_LIST_POWER_COMMANDS),
         cli.Arg("node")],
        cli.SUBMIT_OPTS +
        ["auto_promote", "priority", "ignore_status", "force",
         "no_headers", "separator", "oob_timeout", "power_delay"],
        "on|off|cycle|status [<node-name>...]",
        "Change power state of node by calling out-of-band helper."),
    "health": (
        node_health, cli.ARGS_MANY_NODES,
        ["no_headers", "separator", "priority", "oob_timeout"],
        "[<node-name>...]", "List health of node(s) using out-of-band"),
}
COMMANDS.update(cli.tag_commands(cli.ARGS_ONE_NODE, "<node-name>"))
COMMANDS.update(instance_moves.NODE_COMMANDS)

ALIASES = {"show": "info"}

ENV_OVERRIDE = frozenset(["list"])


def main():
    return cli.generic_main(COMMANDS, aliases=ALIASES,
                            env_override=ENV_OVERRIDE, binary="gnt-node",
                            override={"tag_type": constants.TAG_NODE})
