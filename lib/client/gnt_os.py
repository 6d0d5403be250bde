"""gnt-os: the cluster's OS definitions (list, diagnose, info, modify).

Listing goes through OP_OS_DIAGNOSE (the nodes are asked each time);
``modify`` is an OP_CLUSTER_SET_PARAMS on the OS's entries of the
cluster's ``os_hvp``, ``osparams``, ``hidden_os`` and ``blacklisted_os``.
"""

from ganeti import cli
from ganeti import cli_opts
from ganeti import constants

_OS_API_V15 = 15
_OS_API_V20 = 20
_DDM_ADD = "add"
_DDM_REMOVE = "remove"


def _opt(name, *flags, **kwargs):
    """Options of this program (keyed ``os_*`` in the shared table)."""
    kwargs.setdefault("dest", name)
    cli_opts.OPTIONS["os_" + name] = cli_opts.Option(flags, **kwargs)


_opt("osparams", "-O", "--os-parameters", type=cli_opts.T_KEYVAL,
     default={}, metavar="<key=val,...>", help="OS parameters")
_opt("osparams_private", "--os-parameters-private", type=cli_opts.T_KEYVAL,
     default={}, metavar="<key=val,...>",
     help="Private OS parameters (won't be logged)")
_opt("hidden", "--hidden", type=cli_opts.T_BOOL, metavar="yes|no",
     help="Sets the hidden flag on the OS")
_opt("blacklisted", "--blacklisted", type=cli_opts.T_BOOL, metavar="yes|no",
     help="Sets the blacklisted flag on the OS")


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
    if result is None:
        cli.to_stderr("Can't get the OS list")
        return constants.EXIT_FAILURE
    wanted = list(args)
    all_os_hvp = {}
    all_osparams = {}
    for (name, valid, variants, parameters, api_versions, blacklisted,
         hidden, os_hvp, osparams, trusted) in result:
        all_os_hvp.update(os_hvp or {})
        all_osparams.update(osparams or {})
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
    # Names left over may be "os+variant" entries of the cluster settings.
    for name in wanted:
        if name not in all_os_hvp and name not in all_osparams:
            cli.to_stdout("%s: ", name)
        else:
            cli.print_generic_info([
                (name, [
                    ("OS-specific hypervisor parameters",
                     all_os_hvp.get(name, {})),
                    ("OS parameters", all_osparams.get(name, {})),
                ]),
            ])
        cli.to_stdout("")
    return constants.EXIT_SUCCESS


def _status_text(status, diagnose):
    return "valid" if status else "invalid - %s" % diagnose


def _node_message(entry):
    """One node's line about an OS: status, path, API versions, ..."""
    (path, status, diagnose, variants, params, api_versions,
     trusted) = entry
    msg = "%s (path: %s)" % (_status_text(status, diagnose), path)
    if api_versions:
        top = max(api_versions)
        msg += " [API versions: %s]" % ", ".join(str(v) for v in
                                                  api_versions)
    else:
        top = 0
        msg += " [no API versions declared]"
    if top >= _OS_API_V15:
        if variants:
            msg += " [variants: %s]" % ", ".join(variants)
        else:
            msg += " [no variants]"
    if top >= _OS_API_V20:
        if params:
            msg += " [parameters: %s]" % ", ".join(p[0] for p in params)
        else:
            msg += " [no parameters]"
    msg += " [trusted]" if trusted else " [untrusted]"
    return msg


def diagnose_os(opts, args):
    from ganeti.utils import text as text_utils
    result = _diagnose(opts, ["name", "valid", "variants", "node_status",
                              "hidden", "blacklisted"])
    if result is None:
        cli.to_stderr("Can't get the OS list")
        return constants.EXIT_FAILURE
    has_bad = False
    for name, _, variants, node_data, hidden, blacklisted in result:
        nodes_valid = {}
        nodes_bad = {}
        nodes_hidden = {}
        for node_name, entries in node_data.items():
            nodes_hidden[node_name] = []
            if entries:
                first = entries[0]
                msg = _node_message(first)
                if first[1]:
                    nodes_valid[node_name] = msg
                else:
                    nodes_bad[node_name] = msg
                for other in entries[1:]:
                    nodes_hidden[node_name].append(
                        "    [hidden] path: %s, status: %s" %
                        (other[0], _status_text(other[1], other[2])))
            else:
                nodes_bad[node_name] = "OS not found"
        if nodes_valid and not nodes_bad:
            status = "valid"
        elif not nodes_valid and nodes_bad:
            status = "invalid"
            has_bad = True
        else:
            status = "partial valid"
            has_bad = True
        line = "OS: %s [global status: %s]" % (name, status)
        if hidden:
            line += " [hidden]"
        if blacklisted:
            line += " [blacklisted]"
        cli.to_stdout(line)
        if variants:
            cli.to_stdout("  Variants: [%s]" % ", ".join(variants))
        for messages in (nodes_valid, nodes_bad):
            for node_name in text_utils.nice_sort(messages):
                cli.to_stdout("  Node: %s, status: %s", node_name,
                              messages[node_name])
                for text in nodes_hidden[node_name]:
                    cli.to_stdout(text)
        cli.to_stdout("")
    return int(has_bad)


def modify_os(opts, args):
    from ganeti import opcodes
    os_name = args[0]
    os_hvp = None
    if opts.hvparams:
        os_hvp = {os_name: dict(opts.hvparams)}
    osparams = {os_name: opts.osparams} if opts.osparams else None
    osparams_private = ({os_name: opts.osparams_private}
                        if opts.osparams_private else None)
    hidden = None
    if opts.hidden is not None:
        hidden = [(_DDM_ADD if opts.hidden else _DDM_REMOVE, os_name)]
    blacklisted = None
    if opts.blacklisted is not None:
        blacklisted = [(_DDM_ADD if opts.blacklisted else _DDM_REMOVE,
                        os_name)]
    if not (os_hvp or osparams or osparams_private or hidden or
            blacklisted):
        cli.to_stderr("At least one of OS parameters or hypervisor"
                      " parameters must be passed")
        return constants.EXIT_FAILURE
    op = opcodes.OpClusterSetParams(
        os_hvp=os_hvp, osparams=osparams,
        osparams_private_cluster=osparams_private, hidden_os=hidden,
        blacklisted_os=blacklisted)
    cli.submit_or_send(op, opts)
    return constants.EXIT_SUCCESS


COMMANDS = {
    "list": (
        list_os, cli.ARGS_NONE, ["no_headers", "priority"], "",
        "Lists all valid operating systems on the cluster"),
    "diagnose": (
        diagnose_os, cli.ARGS_NONE, ["priority"], "",
        "Diagnose all operating systems"),
    "info": (
        show_os_info, [cli.Arg("os")], ["priority"], "",
        "Show detailed information about operating systems"),
    "modify": (
        modify_os, [cli.Arg("os", min=1, max=1)],
        ["hvparams", "os_osparams", "os_osparams_private", "dry_run",
         "priority", "os_hidden", "os_blacklisted"] + cli.SUBMIT_OPTS,
        "", "Modify the OS parameters"),
}

ALIASES = {"show": "info"}


def main():
    return cli.generic_main(COMMANDS, aliases=ALIASES, binary="gnt-os")
