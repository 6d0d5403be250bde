"""gnt-os: OS definitions (for now the read-only commands)."""

from ganeti import cli
from ganeti import constants


def calculate_os_names(name, variants):
    """``os+variant`` names of an OS (just ``os`` without variants)."""
    if variants:
        return ["%s+%s" % (name, v) for v in variants]
    return [name]


def _diagnose(opts, fields):
    from ganeti import opcodes
    op = opcodes.OpOsDiagnose(output_fields=fields, names=[])
    return cli.submit_opcode(op, opts=opts)


def list_os(opts, args):
    result = _diagnose(opts, ["name", "variants"])
    if not result:
        cli.to_stderr("Can't get the OS list")
        return constants.EXIT_FAILURE
    headers = None if opts.no_headers else {"name": "Name"}
    rows = []
    for name, variants in result:
        rows.extend([n] for n in calculate_os_names(name, variants))
    for line in cli.generate_table(headers, ["name"], None, rows):
        cli.to_stdout(line)
    return constants.EXIT_SUCCESS


def show_os_info(opts, args):
    result = _diagnose(opts, ["name", "valid", "variants", "parameters",
                              "api_versions", "blacklisted", "hidden",
                              "os_hvp", "osparams", "trusted"])
    if not result:
        cli.to_stderr("Can't get the OS list")
        return constants.EXIT_FAILURE
    wanted = list(args)
    for (name, valid, variants, parameters, api_versions, blacklisted,
         hidden, _os_hvp, _osparams, trusted) in result:
        if args:
            if name not in wanted:
                continue
            wanted.remove(name)
        cli.to_stdout("%s:", name)
        cli.to_stdout("  - valid: %s", valid)
        cli.to_stdout("  - hidden: %s", hidden)
        cli.to_stdout("  - blacklisted: %s", blacklisted)
        if valid:
            cli.to_stdout("  - API versions:")
            for version in sorted(api_versions or []):
                cli.to_stdout("    - %s", version)
            cli.to_stdout("  - variants:")
            for vname in variants or []:
                cli.to_stdout("    - %s", vname)
            cli.to_stdout("  - parameters:")
            for pname, pdesc in parameters or []:
                cli.to_stdout("    - %s: %s", pname, pdesc)
            cli.to_stdout("  - trusted: %s", trusted)
        cli.to_stdout("")
    for name in wanted:
        cli.to_stdout("%s: ", name)
        cli.to_stdout("")
    return constants.EXIT_SUCCESS


COMMANDS = {
    "list": (
        list_os, cli.ARGS_NONE, ["no_headers", "priority"], "",
        "Lists all valid operating systems on the cluster"),
    "info": (
        show_os_info, [cli.Arg("os")], ["priority"], "[<os-name>...]",
        "Show detailed information about operating systems"),
}

ALIASES = {"show": "info"}


def main():
    return cli.generic_main(COMMANDS, aliases=ALIASES, binary="gnt-os")
