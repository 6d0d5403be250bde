"""gnt-group: create, change, remove and inspect node groups."""

from ganeti import cli
from ganeti import cli_opts
from ganeti import constants

_LIST_DEF_FIELDS = ["name", "node_cnt", "pinst_cnt", "alloc_policy",
                    "ndparams"]

_INFO_FIELDS = ["name", "ndparams", "custom_ndparams", "diskparams",
                "custom_diskparams", "ipolicy", "custom_ipolicy"]


def format_ndparams(ndparams):
    """``k=v, k=v`` in the canonical parameter order.

    The order is that of the node parameter definitions (as Ganeti's query
    daemon sends them), not the sorted order of our JSON encoder.
    """
    order = list(constants.NDC_DEFAULTS)
    keys = sorted(ndparams, key=lambda k: (order.index(k) if k in order
                                           else len(order), k))
    return ", ".join("%s=%s" % (k, cli.scalar_text(ndparams[k]))
                     for k in keys)


_LIST_FORMAT = {
    "node_list": (",".join, False),
    "pinst_list": (",".join, False),
    "ndparams": (format_ndparams, False),
}


# gnt-group list has no --units (its columns have no sizes)
_LIST_OPTS = [name for name in cli.LIST_OPTS if name != "units"]
# --ipolicy-* options accepted by add and modify
_IPOLICY_OPTS = ["ipolicy_bounds_specs", "ipolicy_disk_templates",
                 "ipolicy_vcpu_ratio", "ipolicy_spindle_ratio"]


def _group_ipolicy(opts):
    return cli.create_ipolicy_from_opts(opts, group_ipolicy=True)


def _state_params(opts):
    """(hv_state, disk_state) dicts from --hypervisor-state/--disk-state."""
    return (dict(opts.hv_state or []),
            cli_opts.flat_to_dict(opts.disk_state or []))


def add_group(opts, args):
    """Create a node group with the given policies and parameters."""
    from ganeti import opcodes
    (group_name,) = args
    hv_state, disk_state = _state_params(opts)
    if opts.ndparams:
        cli.force_dict_type(opts.ndparams, constants.NDS_PARAMETER_TYPES)
    op = opcodes.OpGroupAdd(group_name=group_name, ndparams=opts.ndparams,
                            alloc_policy=opts.alloc_policy,
                            diskparams=_diskparams(opts),
                            ipolicy=_group_ipolicy(opts), hv_state=hv_state,
                            disk_state=disk_state)
    cli.submit_or_send(op, opts)
    return constants.EXIT_SUCCESS


def _diskparams(opts):
    result = {}
    for template, values in opts.diskparams or []:
        if values is None or values is False:
            continue
        values = dict(values)
        cli.force_dict_type(values, cli.disk_parameter_types(template))
        result[template] = values
    return result


def assign_nodes(opts, args):
    """Move nodes into a group (``--force`` to split DRBD instances)."""
    from ganeti import opcodes
    op = opcodes.OpGroupAssignNodes(group_name=args[0], nodes=args[1:],
                                    force=opts.force)
    cli.submit_or_send(op, opts)
    return constants.EXIT_SUCCESS


def set_group_params(opts, args):
    """Change a group's policies and parameters; prints what changed."""
    from ganeti import opcodes
    changes = [opts.ndparams, opts.alloc_policy, opts.diskparams or None,
               opts.hv_state or None, opts.disk_state or None,
               opts.ipolicy_bounds_specs, opts.ipolicy_vcpu_ratio,
               opts.ipolicy_spindle_ratio, opts.ipolicy_disk_templates]
    if changes.count(None) == len(changes):
        cli.to_stderr("Please give at least one of the parameters.")
        return constants.EXIT_FAILURE
    hv_state, disk_state = _state_params(opts)
    if opts.ndparams:
        cli.force_dict_type(opts.ndparams, constants.NDS_PARAMETER_TYPES)
    op = opcodes.OpGroupSetParams(group_name=args[0], ndparams=opts.ndparams,
                                  alloc_policy=opts.alloc_policy,
                                  hv_state=hv_state, disk_state=disk_state,
                                  diskparams=_diskparams(opts),
                                  ipolicy=_group_ipolicy(opts))
    result = cli.submit_or_send(op, opts)
    if result:
        cli.to_stdout("Modified node group %s", args[0])
        for param, data in result:
            cli.to_stdout(" - %-5s -> %s", param, data)
    return constants.EXIT_SUCCESS


def remove_group(opts, args):
    from ganeti import opcodes
    (group_name,) = args
    cli.submit_or_send(opcodes.OpGroupRemove(group_name=group_name), opts)
    return constants.EXIT_SUCCESS


def rename_group(opts, args):
    from ganeti import opcodes
    group_name, new_name = args
    cli.submit_or_send(opcodes.OpGroupRename(group_name=group_name,
                                             new_name=new_name), opts)
    return constants.EXIT_SUCCESS


def list_groups(opts, args):
    fields = cli.parse_fields(opts.output, _LIST_DEF_FIELDS)
    return cli.generic_list(constants.QR_GROUP, fields, args, None,
                            opts.separator, not opts.no_headers,
                            format_override=_LIST_FORMAT,
                            verbose=opts.verbose,
                            force_filter=opts.force_filter)


def list_group_fields(opts, args):
    return cli.generic_list_fields(constants.QR_GROUP, args, opts.separator,
                                   not opts.no_headers)


def format_group_info(values):
    (name, ndparams, custom_ndparams, diskparams, custom_diskparams,
     ipolicy, custom_ipolicy) = values
    return [
        ("Node group", name),
        ("Node parameters",
         cli.format_params_dict_info(custom_ndparams or {}, ndparams or {})),
        ("Disk parameters",
         cli.format_params_dict_info(custom_diskparams or {},
                                     diskparams or {})),
        ("Instance policy",
         cli.format_policy_info(custom_ipolicy or {}, ipolicy or {}, False)),
    ]


def show_group_info(opts, args):
    response = cli.get_client().query(constants.QR_GROUP, _INFO_FIELDS,
                                      cli.make_simple_filter("name", args))
    cli.print_generic_info([
        format_group_info([value for (_, value) in row])
        for row in response["data"]])
    return constants.EXIT_SUCCESS


COMMANDS = {
    "add": (
        add_group, cli.ARGS_ONE_GROUP,
        ["dry_run", "alloc_policy", "ndparams", "diskparams", "hv_state",
         "disk_state", "priority"] + cli.SUBMIT_OPTS + _IPOLICY_OPTS,
        "<group-name>", "Add a new node group to the cluster"),
    "assign-nodes": (
        assign_nodes, cli.ARGS_ONE_GROUP + [cli.Arg("node", min=1)],
        ["dry_run", "force", "priority"] + cli.SUBMIT_OPTS,
        "<group-name> <node-name>...", "Assign nodes to a group"),
    "modify": (
        set_group_params, cli.ARGS_ONE_GROUP,
        ["dry_run"] + cli.SUBMIT_OPTS +
        ["alloc_policy", "ndparams", "hv_state", "disk_state", "diskparams",
         "priority"] + _IPOLICY_OPTS,
        "<group-name>", "Alters the parameters of a node group"),
    "remove": (
        remove_group, cli.ARGS_ONE_GROUP,
        ["dry_run", "priority"] + cli.SUBMIT_OPTS,
        "[--dry-run] <group-name>",
        "Remove an (empty) node group from the cluster"),
    "rename": (
        rename_group, [cli.Arg("group", min=2, max=2)],
        ["dry_run"] + cli.SUBMIT_OPTS + ["priority"],
        "[--dry-run] <old-name> <new-name>", "Rename a node group"),
    "list": (
        list_groups, cli.ARGS_MANY_GROUPS, _LIST_OPTS,
        "[<group-name>...]",
        "Lists the node groups in the cluster. The available fields can be"
        " shown using the \"list-fields\" command (see the man page for"
        " details). The default list is (in order): %s." %
        ", ".join(_LIST_DEF_FIELDS)),
    "list-fields": (
        list_group_fields, cli.ARGS_MANY_FIELDS, cli.LIST_FIELDS_OPTS,
        "[fields...]", "Lists all available fields for node groups"),
    "info": (
        show_group_info, cli.ARGS_MANY_GROUPS, [], "[<group-name>...]",
        "Show group information"),
}
COMMANDS.update(cli.tag_commands(cli.ARGS_ONE_GROUP, "<group-name>"))

ALIASES = {"show": "info"}

ENV_OVERRIDE = frozenset(["list"])


def main():
    return cli.generic_main(COMMANDS, aliases=ALIASES,
                            env_override=ENV_OVERRIDE, binary="gnt-group",
                            override={"tag_type": constants.TAG_NODEGROUP})
