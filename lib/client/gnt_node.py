"""gnt-node: add, remove, modify and inspect cluster nodes."""

from ganeti import cli
from ganeti import constants
from ganeti import errors

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
               opts.ndparams]
    if changes.count(None) == len(changes):
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
                                 auto_promote=opts.auto_promote)
    result = cli.submit_or_send(op, opts)
    if result:
        cli.to_stdout("Modified node %s", args[0])
        for param, data in result:
            cli.to_stdout(" - %-5s -> %s", param, data)
    return constants.EXIT_SUCCESS


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
         "auto_promote", "ndparams"] + cli.JOB_OPTS + cli.SUBMIT_OPTS,
        "<node-name>", "Alters the parameters of a node"),
    "remove": (
        remove_node, cli.ARGS_ONE_NODE, cli.JOB_OPTS, "<node-name>",
        "Removes a node from the cluster"),
}
COMMANDS.update(cli.tag_commands(cli.ARGS_ONE_NODE, "<node-name>"))

ALIASES = {"show": "info"}

ENV_OVERRIDE = frozenset(["list"])


def main():
    return cli.generic_main(COMMANDS, aliases=ALIASES,
                            env_override=ENV_OVERRIDE, binary="gnt-node",
                            override={"tag_type": constants.TAG_NODE})
