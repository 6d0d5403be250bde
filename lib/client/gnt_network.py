"""gnt-network: IP networks (for now the query and tag commands)."""

from ganeti import cli
from ganeti import constants

_LIST_DEF_FIELDS = ["name", "network", "gateway", "mac_prefix",
                    "group_list", "tags"]

_INFO_FIELDS = ["name", "network", "gateway", "network6", "gateway6",
                "mac_prefix", "free_count", "reserved_count", "map",
                "group_list", "inst_list", "external_reservations",
                "serial_no", "uuid"]


def _format_group_list(data):
    return ", ".join("%s (%s, %s, %s)" % tuple(entry) for entry in data)


_LIST_FORMAT = {
    "group_list": (_format_group_list, False),
    "inst_list": (",".join, False),
    "tags": (",".join, False),
}


def list_networks(opts, args):
    fields = cli.parse_fields(opts.output, _LIST_DEF_FIELDS)
    return cli.generic_list(constants.QR_NETWORK, fields, args, None,
                            opts.separator, not opts.no_headers,
                            format_override=_LIST_FORMAT,
                            verbose=opts.verbose,
                            force_filter=opts.force_filter)


def list_network_fields(opts, args):
    return cli.generic_list_fields(constants.QR_NETWORK, args,
                                   opts.separator, not opts.no_headers)


def _network_users(cl, uuid, instances):
    """``name: idx:ip, ...`` lines for the instances using the network."""
    if not instances:
        return []
    response = cl.query(constants.QR_INSTANCE,
                        ["name", "nic.ips", "nic.networks"],
                        cli.make_simple_filter("name", instances))
    lines = []
    for row in response["data"]:
        name, ips, networks = [value for (_, value) in row]
        used = ", ".join("%s:%s" % (idx, ip) for idx, (ip, net) in
                         enumerate(zip(ips or [], networks or []))
                         if net == uuid)
        lines.append("    %s: %s" % (name, used))
    return lines


def show_network_config(opts, args):
    cl = cli.get_client()
    response = cl.query(constants.QR_NETWORK, _INFO_FIELDS,
                        cli.make_simple_filter("name", args))
    for row in response["data"]:
        (name, network, gateway, network6, gateway6, mac_prefix, free_count,
         reserved_count, mapping, group_list, instances, ext_res, serial,
         uuid) = [value for (_, value) in row]
        size = (free_count or 0) + (reserved_count or 0)
        cli.to_stdout("Network name: %s", name)
        cli.to_stdout("UUID: %s", uuid)
        cli.to_stdout("Serial number: %d", serial)
        cli.to_stdout("  Subnet: %s", network)
        cli.to_stdout("  Gateway: %s", gateway)
        cli.to_stdout("  IPv6 Subnet: %s", network6)
        cli.to_stdout("  IPv6 Gateway: %s", gateway6)
        cli.to_stdout("  Mac Prefix: %s", mac_prefix)
        cli.to_stdout("  Size: %d", size)
        cli.to_stdout("  Free: %d (%.2f%%)", free_count or 0,
                      100.0 * (free_count or 0) / size if size else 0.0)
        cli.to_stdout("  Usage map:")
        mapping = mapping or ""
        for idx in range(0, len(mapping), 64):
            cli.to_stdout("     %s %s", str(idx).rjust(4),
                          mapping[idx:idx + 64])
        cli.to_stdout("         (X) used    (.) free")
        if ext_res:
            cli.to_stdout("  externally reserved IPs:")
            cli.to_stdout("    %s", ext_res)
        if group_list:
            cli.to_stdout("  connected to node groups:")
            for group, mode, link, vlan in group_list:
                cli.to_stdout("    %s (mode:%s link:%s vlan:%s)", group, mode,
                              link, vlan)
        else:
            cli.to_stdout("  not connected to any node group")
        if instances:
            cli.to_stdout("  used by %d instances:", len(instances))
            for line in _network_users(cl, uuid, instances):
                cli.to_stdout(line)
        else:
            cli.to_stdout("  not used by any instances")
    return constants.EXIT_SUCCESS


COMMANDS = {
    "list": (
        list_networks, cli.ARGS_MANY_NETWORKS,
        ["no_headers", "separator", "output", "verbose", "force_filter"],
        "[<network-name>...]",
        "Lists the IP networks in the cluster. The available fields can be"
        " shown using the \"list-fields\" command (see the man page for"
        " details). The default list is (in order): %s." %
        ", ".join(_LIST_DEF_FIELDS)),
    "list-fields": (
        list_network_fields, cli.ARGS_MANY_FIELDS, cli.LIST_FIELDS_OPTS,
        "[<fields>...]", "Lists all available fields for networks"),
    "info": (
        show_network_config, cli.ARGS_MANY_NETWORKS, [],
        "[<network-name>...]", "Show information about the network(s)"),
}
COMMANDS.update(cli.tag_commands(cli.ARGS_ONE_NETWORK, "<network-name>"))

ALIASES = {"show": "info"}


def main():
    return cli.generic_main(COMMANDS, aliases=ALIASES, binary="gnt-network",
                            override={"tag_type": constants.TAG_NETWORK})
