"""gnt-backup: instance exports (for now the query commands)."""

from ganeti import cli
from ganeti import constants

_LIST_DEF_FIELDS = ["node", "export"]


def list_exports(opts, args):
    fields = cli.parse_fields(opts.output, _LIST_DEF_FIELDS)
    qfilter = cli.make_simple_filter("node", opts.nodes)
    return cli.generic_list(constants.QR_EXPORT, fields, None, opts.units,
                            opts.separator, not opts.no_headers,
                            verbose=opts.verbose, qfilter=qfilter)


def list_export_fields(opts, args):
    return cli.generic_list_fields(constants.QR_EXPORT, args,
                                   opts.separator, not opts.no_headers)


COMMANDS = {
    "list": (
        list_exports, cli.ARGS_NONE,
        ["export_nodes", "no_headers", "separator", "units", "output",
         "verbose"], "", "Lists instance exports available in the ganeti"
        " cluster"),
    "list-fields": (
        list_export_fields, cli.ARGS_MANY_FIELDS, cli.LIST_FIELDS_OPTS,
        "[fields...]", "Lists all available fields for exports"),
}

ALIASES = {}


def main():
    return cli.generic_main(COMMANDS, aliases=ALIASES, binary="gnt-backup")
