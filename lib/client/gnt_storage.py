"""gnt-storage: ExtStorage providers (read-only commands)."""

from ganeti import cli
from ganeti import constants


def _diagnose(opts, fields):
    from ganeti import opcodes
    op = opcodes.OpExtStorageDiagnose(output_fields=fields, names=[])
    return cli.submit_opcode(op, opts=opts)


def _status_text(status, diagnose):
    return "valid" if status else "invalid - %s" % diagnose


def diagnose_ext_storage(opts, args):
    """Per-node and per-group validity of every ExtStorage provider."""
    from ganeti.utils import text
    result = _diagnose(opts, ["name", "node_status", "nodegroup_status"])
    if not result:
        cli.to_stderr("Can't get the list of ExtStorage providers")
        return constants.EXIT_FAILURE
    for provider, node_data, group_data in result:
        nodes_valid, nodes_bad = {}, {}
        for node, entries in (node_data or {}).items():
            if entries:
                path, status, msg, params = entries[0]
                line = "%s (path: %s)" % (_status_text(status, msg), path)
                if params:
                    line += " [parameters: %s]" % ", ".join(
                        p[0] for p in params)
                else:
                    line += " [no parameters]"
                (nodes_valid if status else nodes_bad)[node] = line
            else:
                nodes_bad[node] = "ExtStorage provider not found"
        groups_valid = dict((g, "valid") for g, ok in
                            (group_data or {}).items() if ok)
        groups_bad = dict((g, "invalid") for g, ok in
                          (group_data or {}).items() if not ok)
        cli.to_stdout("Provider: %s", provider)
        cli.to_stdout("---")
        for table in (nodes_valid, nodes_bad):
            for node in text.nice_sort(table):
                cli.to_stdout("  Node: %s, status: %s", node, table[node])
        cli.to_stdout("  --")
        for table in (groups_valid, groups_bad):
            for group in text.nice_sort(table):
                cli.to_stdout("  For nodegroup: %s --> %s", group,
                              table[group])
        cli.to_stdout("")
    return constants.EXIT_SUCCESS


def show_ext_storage_info(opts, args):
    from ganeti.utils import text
    result = _diagnose(opts, ["name", "nodegroup_status", "parameters"])
    if not result:
        cli.to_stderr("Can't get the ExtStorage providers list")
        return constants.EXIT_FAILURE
    wanted = list(args)
    for name, group_data, parameters in result:
        if args:
            if name not in wanted:
                continue
            wanted.remove(name)
        valid = [g for g, ok in (group_data or {}).items() if ok]
        cli.to_stdout("%s:", name)
        if valid:
            cli.to_stdout("  - Valid for nodegroups:")
            for group in text.nice_sort(valid):
                cli.to_stdout("      %s", group)
            cli.to_stdout("  - Supported parameters:")
            for pname, pdesc in parameters or []:
                cli.to_stdout("      %s: %s", pname, pdesc)
        else:
            cli.to_stdout("  - Invalid for all nodegroups")
        cli.to_stdout("")
    for name in wanted:
        cli.to_stdout("%s: Not Found", name)
        cli.to_stdout("")
    return constants.EXIT_SUCCESS


COMMANDS = {
    "diagnose": (
        diagnose_ext_storage, cli.ARGS_NONE, ["priority"], "",
        "Diagnose all ExtStorage providers"),
    "info": (
        show_ext_storage_info, [cli.Arg("provider")], ["priority"],
        "[<provider>...]", "Show info about ExtStorage providers"),
}

ALIASES = {}


def main():
    return cli.generic_main(COMMANDS, aliases=ALIASES, binary="gnt-storage")
