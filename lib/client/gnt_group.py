"""gnt-group: node groups (for now the query and tag commands)."""

from ganeti import cli
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


def list_groups(opts, args):
    fields = cli.parse_fields(opts.output, _LIST_DEF_FIELDS)
    return cli.generic_list(constants.QR_GROUP, fields, args, opts.units,
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
    "list": (
        list_groups, cli.ARGS_MANY_GROUPS, cli.LIST_OPTS,
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
