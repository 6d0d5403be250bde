"""gnt-instance: instances (for now the query and tag commands)."""

from ganeti import cli
from ganeti import constants

_LIST_DEF_FIELDS = ["name", "hypervisor", "os", "pnode", "status",
                    "oper_ram"]


def list_instances(opts, args):
    fields = cli.parse_fields(opts.output, _LIST_DEF_FIELDS)
    return cli.generic_list(constants.QR_INSTANCE, fields, args, opts.units,
                            opts.separator, not opts.no_headers,
                            verbose=opts.verbose,
                            force_filter=opts.force_filter)


def list_instance_fields(opts, args):
    return cli.generic_list_fields(constants.QR_INSTANCE, args,
                                   opts.separator, not opts.no_headers)


COMMANDS = {
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
}
COMMANDS.update(cli.tag_commands(cli.ARGS_ONE_INSTANCE, "<instance-name>"))

ALIASES = {}

ENV_OVERRIDE = frozenset(["list"])


def main():
    return cli.generic_main(COMMANDS, aliases=ALIASES,
                            env_override=ENV_OVERRIDE, binary="gnt-instance",
                            override={"tag_type": constants.TAG_INSTANCE})
