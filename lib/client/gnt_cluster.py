"""gnt-cluster: cluster-wide operations.

Only the vocabulary is imported at load time: ``version`` must answer in a
few milliseconds, and most commands need just LUXI (``cli.get_client``).
bootstrap, ssconf and opcodes are imported by the commands using them.
"""

import os
import time

from ganeti import cli
from ganeti import constants
from ganeti import errors


def _feedback(msg):
    """Feedback from bootstrap: plain text or (timestamp, type, message)."""
    if isinstance(msg, (list, tuple)) and len(msg) == 3:
        msg = msg[2]
    cli.to_stdout("%s", msg)


def _split_list(value):
    return [item for item in value.split(",") if item] if value else []


# ---------------------------------------------------------------------------
# init / destroy

def _init_enabled_disk_templates(opts):
    if opts.enabled_disk_templates:
        return _split_list(opts.enabled_disk_templates)
    return list(constants.DEFAULT_ENABLED_DISK_TEMPLATES)


def _is_lvm_enabled(templates):
    return bool(set(templates) & set([constants.DT_PLAIN,
                                      constants.DT_DRBD8]))


def _init_vg_name(opts, templates):
    if opts.vg_name is not None:
        if opts.vg_name:
            if not _is_lvm_enabled(templates):
                cli.to_stdout("You specified a volume group with --vg-name,"
                              " but you did not enable any disk template"
                              " that uses lvm.")
        elif _is_lvm_enabled(templates):
            raise errors.OpPrereqError("LVM disk templates are enabled, but"
                                       " vg name not set.",
                                       errors.ECODE_INVAL)
        return opts.vg_name or None
    if _is_lvm_enabled(templates):
        return constants.DEFAULT_VG
    return None


def _init_drbd_helper(opts, templates):
    drbd_enabled = constants.DT_DRBD8 in templates
    helper = opts.drbd_helper
    if helper is not None and not drbd_enabled:
        cli.to_stdout("Note: You specified a DRBD usermode helper, while"
                      " DRBD storage is not enabled.")
    if drbd_enabled:
        if helper == "":
            raise errors.OpPrereqError("Unsetting the drbd usermode helper"
                                       " while enabling DRBD is not"
                                       " allowed.", errors.ECODE_INVAL)
        if helper is None:
            return constants.DEFAULT_DRBD_HELPER
    return helper


def _ssh_key_bits(key_type, bits):
    defaults = {"rsa": constants.SSH_DEFAULT_KEY_BITS, "dsa": 1024,
                "ecdsa": 384}
    if bits is None:
        return defaults.get(key_type, constants.SSH_DEFAULT_KEY_BITS)
    if key_type == "dsa" and bits != 1024:
        raise errors.OpPrereqError("DSA keys must be 1024 bits",
                                   errors.ECODE_INVAL)
    if key_type == "ecdsa" and bits not in (256, 384, 521):
        raise errors.OpPrereqError("ECDSA keys must be 256, 384 or 521"
                                   " bits", errors.ECODE_INVAL)
    if key_type == "rsa" and bits < 768:
        raise errors.OpPrereqError("RSA keys must be at least 768 bits",
                                   errors.ECODE_INVAL)
    return bits


def _filled_params(opts):
    """(hvparams, beparams, nicparams, ndparams, diskparams) for init,
    filled with the defaults and converted to their types."""
    hvparams = dict(opts.hvparams)
    for hv_name in constants.HYPER_TYPES:
        hvparams[hv_name] = cli.fill_dict(constants.HVC_DEFAULTS[hv_name],
                                          hvparams.get(hv_name) or {})
        cli.force_dict_type(hvparams[hv_name],
                            cli.hv_parameter_types(hv_name))
    beparams = cli.fill_dict(constants.BEC_DEFAULTS, opts.beparams)
    cli.force_dict_type(beparams, cli.BES_PARAMETER_COMPAT)
    nicparams = cli.fill_dict(constants.NICC_DEFAULTS, opts.nicparams)
    cli.force_dict_type(nicparams, cli.NICS_PARAMETER_TYPES)
    ndparams = cli.fill_dict(constants.NDC_DEFAULTS, opts.ndparams)
    cli.force_dict_type(ndparams, constants.NDS_PARAMETER_TYPES)
    diskparams = dict(opts.diskparams)
    unknown = sorted(set(diskparams) - set(constants.DISK_TEMPLATES))
    if unknown:
        raise errors.OpPrereqError("Disk templates unknown: %s" %
                                   ", ".join(unknown), errors.ECODE_INVAL)
    for template in constants.DISK_TEMPLATES:
        diskparams[template] = cli.fill_dict(
            constants.DISK_DT_DEFAULTS[template],
            diskparams.get(template) or {})
        cli.force_dict_type(diskparams[template],
                            cli.disk_parameter_types(template))
    return hvparams, beparams, nicparams, ndparams, diskparams


def init_cluster(opts, args):
    """Create a cluster with this node as master, then run post-init."""
    from ganeti import bootstrap
    from ganeti import opcodes
    from ganeti import pathutils
    templates = _init_enabled_disk_templates(opts)
    try:
        vg_name = _init_vg_name(opts, templates)
        drbd_helper = _init_drbd_helper(opts, templates)
    except errors.OpPrereqError as err:
        cli.to_stderr(str(err.args[0]))
        return constants.EXIT_FAILURE
    hv_list = _split_list(opts.enabled_hypervisors or
                          constants.DEFAULT_ENABLED_HYPERVISOR)
    hvparams, beparams, nicparams, ndparams, diskparams = \
        _filled_params(opts)
    master_netdev = opts.master_netdev
    if master_netdev is None:
        if nicparams[constants.NIC_MODE] == constants.NIC_MODE_OVS:
            master_netdev = "switch1"
        else:
            master_netdev = constants.DEFAULT_BRIDGE
    uid_pool = cli.parse_uid_pool(opts.uid_pool) if opts.uid_pool else []
    ssh_key_type = opts.ssh_key_type or constants.SSHK_RSA
    if opts.compression_tools is None:
        compression_tools = list(constants.COMPRESSION_TOOLS_DEFAULT)
    elif [t.lower() for t in opts.compression_tools] == ["none"]:
        compression_tools = []
    else:
        compression_tools = opts.compression_tools
    bootstrap.init_cluster(
        args[0],
        secondary_ip=opts.secondary_ip,
        vg_name=vg_name,
        mac_prefix=opts.mac_prefix or constants.DEFAULT_MAC_PREFIX,
        master_netmask=opts.master_netmask,
        master_netdev=master_netdev,
        file_storage_dir=(opts.file_storage_dir or
                          pathutils.DEFAULT_FILE_STORAGE_DIR),
        shared_file_storage_dir=(opts.shared_file_storage_dir or
                                 pathutils.DEFAULT_SHARED_FILE_STORAGE_DIR),
        gluster_storage_dir=(opts.gluster_storage_dir or
                             pathutils.DEFAULT_GLUSTER_STORAGE_DIR),
        enabled_hypervisors=hv_list,
        hvparams=hvparams,
        beparams=beparams,
        nicparams=nicparams,
        ndparams=ndparams,
        diskparams=diskparams,
        ipolicy=cli.create_ipolicy_from_opts(opts, fill_all=True),
        candidate_pool_size=(opts.candidate_pool_size or
                             constants.MASTER_POOL_SIZE_DEFAULT),
        modify_etc_hosts=opts.modify_etc_hosts,
        modify_ssh_setup=opts.modify_ssh_setup,
        maintain_node_health=bool(opts.maintain_node_health),
        drbd_helper=drbd_helper,
        uid_pool=uid_pool,
        default_iallocator=opts.default_iallocator,
        default_iallocator_params=opts.default_iallocator_params,
        primary_ip_version=opts.primary_ip_version,
        prealloc_wipe_disks=bool(opts.prealloc_wipe_disks),
        use_external_mip_script=bool(opts.use_external_mip_script),
        enabled_disk_templates=templates,
        install_image=opts.install_image or "",
        zeroing_image=opts.zeroing_image or "",
        compression_tools=compression_tools,
        enabled_user_shutdown=bool(opts.enabled_user_shutdown),
        ssh_key_type=ssh_key_type,
        ssh_key_bits=_ssh_key_bits(ssh_key_type, opts.ssh_key_bits),
        feedback_fn=_feedback)
    cli.submit_opcode(opcodes.OpClusterPostInit(), opts=opts)
    return constants.EXIT_SUCCESS


def destroy_cluster(opts, args):
    """Destroy the cluster (needs --yes-do-it); stops the master's daemons."""
    from ganeti import opcodes
    if not opts.yes_do_it:
        cli.to_stderr("Destroying a cluster is irreversible. If you really"
                      " want destroy this cluster, supply the --yes-do-it"
                      " option.")
        return constants.EXIT_FAILURE
    master = cli.submit_opcode(opcodes.OpClusterDestroy(), opts=opts)
    from ganeti import bootstrap
    bootstrap.finalize_cluster_destroy(master, feedback_fn=_feedback)
    return constants.EXIT_SUCCESS


# ---------------------------------------------------------------------------
# Simple queries

def show_version(opts, args):
    """Versions of this installation (no daemon needed)."""
    cli.to_stdout("Software version: %s", constants.RELEASE_VERSION)
    cli.to_stdout("Internode protocol: %s", constants.PROTOCOL_VERSION)
    cli.to_stdout("Configuration format: %s", constants.CONFIG_VERSION)
    cli.to_stdout("OS api version: %s", constants.OS_API_VERSION)
    cli.to_stdout("Export interface: %s", constants.EXPORT_VERSION)
    cli.to_stdout("VCS version: %s", constants.VCS_VERSION)
    return constants.EXIT_SUCCESS


def show_master(opts, args):
    """The master node according to this node's ssconf."""
    from ganeti import ssconf
    try:
        master = ssconf.SimpleStore().get_master_node()
    except errors.ConfigurationError:
        raise errors.OpPrereqError("Cluster not initialized or this machine"
                                   " is not part of a cluster",
                                   errors.ECODE_INVAL)
    cli.to_stdout(master)
    return constants.EXIT_SUCCESS


def master_ping(opts, args):
    """Exit 0 if the master daemon answers, 1 otherwise (silently)."""
    try:
        cli.get_client().query_cluster_info()
    except Exception:  # any failure means "not answering"
        return constants.EXIT_FAILURE
    return constants.EXIT_SUCCESS


def _format_grouped_params(params, roman=False):
    result = {}
    for key, value in (params or {}).items():
        if isinstance(value, dict):
            result[key] = _format_grouped_params(value, roman)
        else:
            result[key] = cli.scalar_text(cli.to_roman(value, roman))
    return result


def _format_data_collectors(info):
    collectors = info.get("data_collectors")
    report = {}
    if collectors is not None:
        for name, data in collectors.items():
            report[name] = {"active": data.get("active"),
                            "interval": "%.3fs" %
                            (data.get("interval", 0) / 1e6)}
        return report
    active = info.get("enabled_data_collectors") or {}
    interval = info.get("data_collector_interval") or {}
    for name in active:
        report[name] = {"active": active[name],
                        "interval": "%.3fs" % (interval.get(name, 0) / 1e6)}
    return report


def format_cluster_info(info, roman=False):
    """Ordered info structure of ``QueryClusterInfo``'s result."""
    from ganeti import pathutils
    from ganeti.utils import text

    def rom(value):
        return cli.to_roman(value, roman)

    tags = ", ".join(text.nice_sort(info.get("tags") or [])) or "(none)"
    reserved_lvs = ", ".join(info.get("reserved_lvs") or []) or "(none)"
    arch = info.get("architecture") or ["?", "?"]
    cluster_params = [
        ("candidate pool size", rom(info.get("candidate_pool_size"))),
        ("maximal number of jobs running simultaneously",
         rom(info.get("max_running_jobs"))),
        ("maximal number of jobs simultaneously tracked by the scheduler",
         rom(info.get("max_tracked_jobs"))),
        ("mac prefix", info.get("mac_prefix")),
        ("master netdev", info.get("master_netdev")),
        ("master netmask", rom(info.get("master_netmask"))),
        ("use external master IP address setup script",
         info.get("use_external_mip_script")),
        ("lvm volume group", info.get("volume_group_name")),
        ("lvm reserved volumes", reserved_lvs),
        ("drbd usermode helper", info.get("drbd_usermode_helper")),
        ("file storage path", info.get("file_storage_dir")),
        ("shared file storage path", info.get("shared_file_storage_dir")),
        ("gluster storage path", info.get("gluster_storage_dir")),
        ("maintenance of node health", info.get("maintain_node_health")),
        ("uid pool", cli.format_uid_pool(info.get("uid_pool"), roman)),
        ("default instance allocator", info.get("default_iallocator")),
        ("default instance allocator parameters",
         info.get("default_iallocator_params") or {}),
        ("primary ip version", rom(info.get("primary_ip_version"))),
        ("preallocation wipe disks", info.get("prealloc_wipe_disks")),
        ("OS search path", ", ".join(pathutils.OS_SEARCH_PATH)),
        ("ExtStorage Providers search path",
         ", ".join(pathutils.ES_SEARCH_PATH)),
        ("enabled disk templates",
         ", ".join(info.get("enabled_disk_templates") or [])),
        ("install image", info.get("install_image")),
        ("instance communication network",
         info.get("instance_communication_network")),
        ("zeroing image", info.get("zeroing_image")),
        ("compression tools", info.get("compression_tools") or []),
        ("enabled user shutdown", info.get("enabled_user_shutdown")),
        ("modify ssh setup", info.get("modify_ssh_setup")),
        ("ssh_key_type", info.get("ssh_key_type")),
        ("ssh_key_bits", info.get("ssh_key_bits")),
    ]
    return [
        ("Cluster name", info.get("name")),
        ("Cluster UUID", info.get("uuid")),
        ("Creation time", cli.format_time(info.get("ctime"))),
        ("Modification time", cli.format_time(info.get("mtime"))),
        ("Master node", info.get("master")),
        ("Architecture (this node)", "%s (%s)" % (arch[0], arch[1])),
        ("Tags", tags),
        ("Default hypervisor", info.get("default_hypervisor")),
        ("Enabled hypervisors",
         ", ".join(info.get("enabled_hypervisors") or [])),
        ("Hypervisor parameters",
         _format_grouped_params(info.get("hvparams"), roman)),
        ("OS-specific hypervisor parameters",
         _format_grouped_params(info.get("os_hvp"), roman)),
        ("OS parameters", _format_grouped_params(info.get("osparams"),
                                                 roman)),
        ("Hidden OSes", ", ".join(info.get("hidden_os") or [])),
        ("Blacklisted OSes", ", ".join(info.get("blacklisted_os") or [])),
        ("Cluster parameters", cluster_params),
        ("Default node parameters",
         _format_grouped_params(info.get("ndparams"), roman)),
        ("Default instance parameters",
         _format_grouped_params(info.get("beparams"), roman)),
        ("Default nic parameters",
         _format_grouped_params(info.get("nicparams"), roman)),
        ("Default disk parameters",
         _format_grouped_params(info.get("diskparams"), roman)),
        ("Instance policy - limits for instances",
         cli.format_policy_info(info.get("ipolicy") or {}, None, True,
                                roman)),
        ("Data collectors", _format_data_collectors(info)),
    ]


def show_cluster_config(opts, args):
    info = cli.get_client().query_cluster_info()
    cli.print_generic_info(format_cluster_info(info, opts.roman_integers))
    return constants.EXIT_SUCCESS


# ---------------------------------------------------------------------------
# Jobs on the whole cluster

def verify_cluster(opts, args):
    """Submit OP_CLUSTER_VERIFY, then wait for the jobs it creates."""
    from ganeti import opcodes
    skip_checks = ["nplusone_mem"] if opts.skip_nplusone_mem else []
    cl = cli.get_client()
    op = opcodes.OpClusterVerify(verbose=opts.verbose,
                                 error_codes=opts.error_codes,
                                 debug_simulate_errors=opts.simulate_errors,
                                 skip_checks=skip_checks,
                                 ignore_errors=opts.ignore_errors,
                                 group_name=opts.nodegroup,
                                 verify_clutter=opts.verify_clutter)
    result = cli.submit_opcode(op, cl=cl, opts=opts)
    jex = cli.JobExecutor(cl=cl, opts=opts)
    for status, job_id in result["jobs"]:
        jex.add_job_id(None, status, job_id)
    results = jex.get_results()
    bad_jobs = sum(1 for success, _ in results if not success)
    bad_results = sum(1 for success, op_results in results
                      if success and not (len(op_results) == 1 and
                                          op_results[0]))
    if bad_jobs:
        cli.to_stdout("%s job(s) failed while verifying the cluster.",
                      bad_jobs)
    if bad_jobs or bad_results:
        return constants.EXIT_FAILURE
    return constants.EXIT_SUCCESS


def redistribute_config(opts, args):
    from ganeti import opcodes
    op = opcodes.OpClusterRedistConf()
    if opts.yes_do_it:
        cli.submit_opcode_to_drained_queue(op, opts=opts)
    else:
        cli.submit_or_send(op, opts)
    return constants.EXIT_SUCCESS


def activate_master_ip(opts, args):
    from ganeti import opcodes
    cli.submit_opcode(opcodes.OpClusterActivateMasterIp(), opts=opts)
    return constants.EXIT_SUCCESS


def deactivate_master_ip(opts, args):
    from ganeti import opcodes
    if not opts.confirm:
        text = ("This will disable the master IP. All the open connections"
                " to the master IP will be closed. To reach the master you"
                " will need to use its node IP. Continue?")
        if not cli.ask_user(text):
            return constants.EXIT_FAILURE
    cli.submit_opcode(opcodes.OpClusterDeactivateMasterIp(), opts=opts)
    return constants.EXIT_SUCCESS


def _failover_logging(debug):
    """Progress goes to stderr only with -d (warnings are printed once,
    by the command, as Ganeti does)."""
    import logging
    root = logging.getLogger()
    if root.handlers:
        return
    if debug:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s: %(message)s"))
        root.setLevel(logging.DEBUG)
    else:
        handler = logging.NullHandler()
    root.addHandler(handler)


def master_failover(opts, args):
    """Make this node the master (run on a master candidate).

    With voting, more than half of the nodes must answer first (else the
    admin must make sure the old master is down and use --no-voting).
    """
    from ganeti import bootstrap
    _failover_logging(opts.debug)
    votes = None
    if opts.no_voting:
        if not opts.yes_do_it:
            text = ("This will perform the failover even if most other nodes"
                    " are down, or if this node is outdated. This is"
                    " dangerous as it can lead to a non-consistent cluster."
                    " Check the gnt-cluster(8) man page before proceeding."
                    " Continue?")
            if not cli.ask_user(text):
                return constants.EXIT_FAILURE
    else:
        from ganeti import master_failover as failover_module
        healthy, unhealthy, votes = failover_module.check_majority(
            opts.ignore_offline_nodes)
        if not healthy:
            cli.to_stderr("Master-failover with voting is only possible if"
                          " the majority of nodes are still healthy; use the"
                          " --no-voting option after ensuring by other means"
                          " that you won't end up in a dual-master scenario."
                          " Unhealthy nodes: %s" % unhealthy)
            return constants.EXIT_FAILURE
    rcode, msgs = bootstrap.master_failover(opts.no_voting, votes=votes)
    for msg in msgs:
        cli.to_stderr(msg)
    return rcode


def search_tags(opts, args):
    from ganeti import opcodes
    result = cli.submit_opcode(opcodes.OpTagsSearch(pattern=args[0]),
                               opts=opts)
    if not result:
        return constants.EXIT_FAILURE
    for path, tag in sorted(result):
        cli.to_stdout("%s %s", path, tag)
    return constants.EXIT_SUCCESS


# ---------------------------------------------------------------------------
# Queue and watcher

def queue_ops(opts, args):
    command = args[0]
    cl = cli.get_client()
    if command in ("drain", "undrain"):
        cl.set_queue_drain_flag(command == "drain")
    elif command == "info":
        flag = cl.query_config_values(["drain_flag"])[0]
        cli.to_stdout("The drain flag is %s", "set" if flag else "unset")
    else:
        raise errors.OpPrereqError("Command '%s' is not valid." % command,
                                   errors.ECODE_INVAL)
    return constants.EXIT_SUCCESS


def _show_watcher_pause(until):
    if until is None or until < time.time():
        cli.to_stdout("The watcher is not paused.")
    else:
        cli.to_stdout("The watcher is paused until %s.", time.ctime(until))


def watcher_ops(opts, args):
    from ganeti.utils import text
    command = args[0]
    cl = cli.get_client()
    if command == "continue":
        cl.set_watcher_pause(None)
        cli.to_stdout("The watcher is no longer paused.")
    elif command == "pause":
        if len(args) < 2:
            raise errors.OpPrereqError("Missing pause duration",
                                       errors.ECODE_INVAL)
        result = cl.set_watcher_pause(time.time() +
                                      text.parse_timespec(args[1]))
        _show_watcher_pause(result)
    elif command == "info":
        _show_watcher_pause(cl.query_config_values(["watcher_pause"])[0])
    else:
        raise errors.OpPrereqError("Command '%s' is not valid." % command,
                                   errors.ECODE_INVAL)
    return constants.EXIT_SUCCESS


# ---------------------------------------------------------------------------
# Commands on every node (ssh)

def _node_ssh_ports(cl, nodes):
    if not nodes:
        return {}
    response = cl.query(constants.QR_NODE, ["name", "ndp/ssh_port"],
                        cli.make_simple_filter("name", nodes))
    return dict((row[0][1], row[1][1]) for row in response["data"])


def _ssh_runner(cluster_name):
    """The project's SSH runner: root's keys, host keys checked against
    root's and the cluster's known_hosts (keyed by the cluster name)."""
    from ganeti import ssh
    return ssh.SshRunner(cluster_name)


def run_cluster_command(opts, args):
    """Run a shell command on the nodes over ssh (master last)."""
    cl = cli.get_client()
    command = " ".join(args)
    nodes = cli.get_online_nodes(opts.nodes, cl=cl, nodegroup=opts.nodegroup)
    cluster_name, master = cl.query_config_values(["cluster_name",
                                                   "master_node"])
    if master in nodes:
        nodes.remove(master)
        nodes.append(master)
    ports = _node_ssh_ports(cl, nodes)
    runner = _ssh_runner(cluster_name)
    for name in nodes:
        code, out, err = runner.run(name, command,
                                    port=ports.get(name) or 22)
        if opts.failure_only and code == 0:
            continue
        output = out + err
        cli.to_stdout("------------------------------------------------")
        if opts.show_machine_names:
            for line in output.splitlines():
                cli.to_stdout("%s: %s", name, line)
        else:
            cli.to_stdout("node: %s", name)
            cli.to_stdout("%s", output)
        cli.to_stdout("return code = %s", code)
    return constants.EXIT_SUCCESS


def _copy_command(path, stat):
    """Remote shell command writing stdin to ``path`` like ``scp -p``:
    same mode and modification time, replaced atomically."""
    import shlex
    quoted = shlex.quote(path)
    tmp = shlex.quote(path + ".gnt-copyfile.tmp")
    return ("umask 077 && cat > %s && chmod %o %s && touch -d @%d %s &&"
            " mv -f %s %s" % (tmp, stat.st_mode & 0o7777, tmp,
                              int(stat.st_mtime), tmp, tmp, quoted))


def copy_file(opts, args):
    """Copy a file to the same path on the other online nodes."""
    filename = os.path.abspath(args[0])
    if not os.path.exists(filename):
        raise errors.OpPrereqError("No such filename '%s'" % filename,
                                   errors.ECODE_INVAL)
    with open(filename, "rb") as handle:
        data = handle.read()
    command = _copy_command(filename, os.stat(filename))
    cl = cli.get_client()
    cluster_name = cl.query_config_values(["cluster_name"])[0]
    names = cli.get_online_nodes(opts.nodes, cl=cl, filter_master=True,
                                 nodegroup=opts.nodegroup)
    addresses = names
    if opts.use_replication_network:
        addresses = cli.get_online_nodes(opts.nodes, cl=cl,
                                         filter_master=True,
                                         nodegroup=opts.nodegroup,
                                         secondary_ips=True, nowarn=True)
    ports = _node_ssh_ports(cl, names)
    runner = _ssh_runner(cluster_name)
    for name, address in zip(names, addresses):
        port = ports.get(name) or 22
        code, _, _ = runner.run(name, command, stdin=data, address=address,
                                port=port)
        if code != 0:
            cli.to_stderr("Copy of file %s to node %s:%d failed", filename,
                          name, port)
    return constants.EXIT_SUCCESS


# ---------------------------------------------------------------------------
# modify

def _data_collector_changes(opts):
    enabled = None
    interval = None
    if opts.enabled_data_collectors:
        enabled = dict((k, str(v).lower().startswith("t"))
                       for k, v in opts.enabled_data_collectors.items())
        unknown = sorted(set(enabled) - set(constants.DATA_COLLECTOR_NAMES))
        if unknown:
            raise errors.OpPrereqError("Data collector names not recognized:"
                                       " %s" % ", ".join(unknown),
                                       errors.ECODE_INVAL)
    if opts.data_collector_interval:
        try:
            interval = dict((k, int(1e6 * float(v))) for k, v in
                            opts.data_collector_interval.items())
        except (TypeError, ValueError) as err:
            raise errors.OpPrereqError("Invalid data collector interval: %s"
                                       % err, errors.ECODE_INVAL)
        if any(v <= 0 for v in interval.values()):
            raise errors.OpPrereqError("Can't set non-positive interval for"
                                       " the data collector",
                                       errors.ECODE_INVAL)
    return enabled, interval


_MODIFY_SCALARS = [
    "vg_name", "drbd_helper", "candidate_pool_size", "max_running_jobs",
    "max_tracked_jobs", "uid_pool", "maintain_node_health", "add_uids",
    "remove_uids", "default_iallocator", "reserved_lvs", "mac_prefix",
    "master_netdev", "master_netmask", "use_external_mip_script",
    "prealloc_wipe_disks", "modify_etc_hosts", "file_storage_dir",
    "shared_file_storage_dir", "install_image",
    "instance_communication_network", "zeroing_image", "compression_tools",
    "enabled_user_shutdown", "ipolicy_bounds_specs", "ipolicy_std_specs",
    "ipolicy_disk_templates", "ipolicy_vcpu_ratio", "ipolicy_spindle_ratio",
]
_MODIFY_COLLECTIONS = [
    "enabled_hypervisors", "hvparams", "beparams", "nicparams", "ndparams",
    "diskparams", "enabled_disk_templates", "default_iallocator_params",
    "enabled_data_collectors", "data_collector_interval",
]


def set_cluster_params(opts, args):
    """Change cluster parameters (OP_CLUSTER_SET_PARAMS)."""
    from ganeti import opcodes
    if not (any(getattr(opts, n) is not None for n in _MODIFY_SCALARS) or
            any(getattr(opts, n) for n in _MODIFY_COLLECTIONS)):
        cli.to_stderr("Please give at least one of the parameters.")
        return constants.EXIT_FAILURE
    hvparams = dict(opts.hvparams) if opts.hvparams else None
    for hv_name, params in (hvparams or {}).items():
        if params:
            cli.force_dict_type(params, cli.hv_parameter_types(hv_name))
    diskparams = dict(opts.diskparams) if opts.diskparams else None
    for template, params in (diskparams or {}).items():
        if template not in constants.DISK_TEMPLATES:
            raise errors.OpPrereqError("Disk templates unknown: %s" %
                                       template, errors.ECODE_INVAL)
        if params:
            cli.force_dict_type(params, cli.disk_parameter_types(template))
    beparams = opts.beparams or None
    if beparams:
        cli.force_dict_type(beparams, cli.BES_PARAMETER_COMPAT)
    nicparams = opts.nicparams or None
    if nicparams:
        cli.force_dict_type(nicparams, cli.NICS_PARAMETER_TYPES)
    ndparams = opts.ndparams or None
    if ndparams:
        cli.force_dict_type(ndparams, constants.NDS_PARAMETER_TYPES)
    reserved_lvs = opts.reserved_lvs
    if reserved_lvs is not None:
        from ganeti import cli_opts
        reserved_lvs = (cli_opts.unescape_and_split(reserved_lvs)
                        if reserved_lvs else [])
    enabled_dcs, dc_interval = _data_collector_changes(opts)
    ipolicy = cli.create_ipolicy_from_opts(opts) or None

    def uids(value):
        return cli.parse_uid_pool(value) if value is not None else None

    op = opcodes.OpClusterSetParams(
        force=opts.force,
        vg_name=opts.vg_name,
        enabled_hypervisors=(_split_list(opts.enabled_hypervisors)
                             if opts.enabled_hypervisors else None),
        hvparams=hvparams,
        beparams=beparams,
        nicparams=nicparams,
        ndparams=ndparams,
        diskparams=diskparams,
        ipolicy=ipolicy,
        candidate_pool_size=opts.candidate_pool_size,
        max_running_jobs=opts.max_running_jobs,
        max_tracked_jobs=opts.max_tracked_jobs,
        maintain_node_health=opts.maintain_node_health,
        uid_pool=uids(opts.uid_pool),
        add_uids=uids(opts.add_uids),
        remove_uids=uids(opts.remove_uids),
        drbd_helper=opts.drbd_helper,
        default_iallocator=opts.default_iallocator,
        default_iallocator_params=opts.default_iallocator_params or None,
        mac_prefix=opts.mac_prefix,
        master_netdev=opts.master_netdev,
        master_netmask=opts.master_netmask,
        reserved_lvs=reserved_lvs,
        use_external_mip_script=opts.use_external_mip_script,
        prealloc_wipe_disks=opts.prealloc_wipe_disks,
        enabled_disk_templates=(_split_list(opts.enabled_disk_templates)
                                if opts.enabled_disk_templates else None),
        modify_etc_hosts=opts.modify_etc_hosts,
        file_storage_dir=opts.file_storage_dir,
        shared_file_storage_dir=opts.shared_file_storage_dir,
        install_image=opts.install_image,
        instance_communication_network=opts.instance_communication_network,
        zeroing_image=opts.zeroing_image,
        compression_tools=opts.compression_tools,
        enabled_user_shutdown=opts.enabled_user_shutdown,
        enabled_data_collectors=enabled_dcs,
        data_collector_interval=dc_interval)
    cli.submit_or_send(op, opts)
    return constants.EXIT_SUCCESS


# ---------------------------------------------------------------------------
# renew-crypto

def renew_crypto(opts, args):
    """Replace the RAPI certificate (new, or from a PEM file with key).

    Not a job: the master writes rapi.pem, OP_CLUSTER_REDIST_CONF copies it
    to the other nodes (it is one of config_sync's ancillary files), and
    ganeti-rapi is restarted here so that it serves the new certificate.
    """
    from ganeti import crypto
    from ganeti import pathutils
    from ganeti import ssconf
    from ganeti.utils import io
    if opts.new_rapi_cert and opts.rapi_cert:
        cli.to_stderr("Only one of the --new-rapi-certificate and"
                      " --rapi-certificate options can be specified at the"
                      " same time.")
        return constants.EXIT_FAILURE
    if not (opts.new_rapi_cert or opts.rapi_cert):
        cli.to_stderr("Nothing to renew; use --new-rapi-certificate or"
                      " --rapi-certificate FILE")
        return constants.EXIT_FAILURE
    master = ssconf.SimpleStore().get_master_node()
    if master != pathutils.get_hostname():
        raise errors.OpPrereqError("This is not the master node, please"
                                   " connect to node '%s' and rerun the"
                                   " command" % master, errors.ECODE_INVAL)
    pem = None
    if opts.rapi_cert:
        try:
            pem = io.read_file(opts.rapi_cert, binary=True)
            crypto.load_cert(pem)
        except (OSError, errors.X509CertError) as err:
            cli.to_stderr("Can't load new RAPI certificate from %s: %s",
                          opts.rapi_cert, err)
            return constants.EXIT_FAILURE
        try:
            if not crypto.check_key_matches(pem):
                raise errors.X509CertError(opts.rapi_cert, "the private key"
                                           " does not match the"
                                           " certificate")
        except errors.X509CertError as err:
            cli.to_stderr("Can't load new RAPI private key from %s: %s",
                          opts.rapi_cert, err)
            return constants.EXIT_FAILURE
    if not opts.force:
        if not cli.ask_user("This replaces the RAPI certificate on all nodes"
                            " and restarts the RAPI daemon. Continue?"):
            return constants.EXIT_FAILURE
    cli.to_stdout("Updating certificates and keys")
    if pem is None:
        crypto.write_cert_and_key(pathutils.RAPI_CERT_FILE, mode=0o400)
    else:
        io.write_file(pathutils.RAPI_CERT_FILE, pem, mode=0o400)
    from ganeti import opcodes
    cli.submit_opcode(opcodes.OpClusterRedistConf(), opts=opts)
    _restart_rapi()
    cli.to_stdout("All requested certificates and keys have been replaced."
                  " Running \"gnt-cluster verify\" now is recommended.")
    return constants.EXIT_SUCCESS


def _restart_rapi():
    """Stop and start ganeti-rapi here (the master) via daemon-util."""
    import subprocess
    from ganeti.backend.common import daemon_util_path
    for action in ("stop", "start"):
        result = subprocess.run([daemon_util_path(), action, constants.RAPI],
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        if result.returncode != 0:
            raise errors.OpExecError("Could not %s %s: %s" %
                                     (action, constants.RAPI,
                                      result.stdout.strip()))


# ---------------------------------------------------------------------------
# Command table

_INIT_OPTS = [
    "beparams", "candidate_pool_size", "enabled_hypervisors",
    "file_storage_dir", "hvparams", "mac_prefix", "master_netdev",
    "master_netmask", "nicparams", "modify_etc_hosts", "modify_ssh_setup",
    "secondary_ip", "vg_name", "maintain_node_health", "uid_pool",
    "drbd_helper", "default_iallocator", "default_iallocator_params",
    "primary_ip_version", "prealloc_wipe_disks", "ndparams",
    "shared_file_storage_dir", "use_external_mip_script", "diskparams",
    "enabled_disk_templates", "gluster_storage_dir", "install_image",
    "zeroing_image", "compression_tools", "enabled_user_shutdown",
    "ssh_key_bits", "ssh_key_type", "ipolicy_bounds_specs",
    "ipolicy_std_specs", "ipolicy_disk_templates", "ipolicy_vcpu_ratio",
    "ipolicy_spindle_ratio", "ispecs_cpu_count", "ispecs_disk_count",
    "ispecs_disk_size", "ispecs_mem_size", "ispecs_nic_count",
]

_MODIFY_OPTS = [
    "force", "beparams", "candidate_pool_size", "max_running_jobs",
    "max_tracked_jobs", "install_image", "instance_communication_network",
    "enabled_hypervisors", "hvparams", "mac_prefix", "master_netdev",
    "master_netmask", "nicparams", "vg_name", "maintain_node_health",
    "uid_pool", "add_uids", "remove_uids", "drbd_helper",
    "default_iallocator", "default_iallocator_params", "reserved_lvs",
    "prealloc_wipe_disks", "ndparams", "use_external_mip_script",
    "diskparams", "enabled_disk_templates", "modify_etc_hosts_bool",
    "enabled_user_shutdown", "ipolicy_bounds_specs", "ipolicy_std_specs",
    "ipolicy_disk_templates", "ipolicy_vcpu_ratio",
    "ipolicy_spindle_ratio", "file_storage_dir", "shared_file_storage_dir",
    "zeroing_image", "compression_tools", "enabled_data_collectors",
    "data_collector_interval",
] + cli.JOB_OPTS + cli.SUBMIT_OPTS

COMMANDS = {
    "init": (
        init_cluster, [cli.Arg("host", min=1, max=1)], _INIT_OPTS,
        "[<opts>...] <cluster-name>",
        "Initialises a new cluster configuration"),
    "destroy": (
        destroy_cluster, cli.ARGS_NONE, ["yes_do_it"], "",
        "Destroy cluster"),
    "redist-conf": (
        redistribute_config, cli.ARGS_NONE,
        cli.SUBMIT_OPTS + cli.JOB_OPTS + ["yes_do_it"], "",
        "Forces a push of the configuration file and ssconf files to the"
        " nodes in the cluster"),
    "verify": (
        verify_cluster, cli.ARGS_NONE,
        ["verbose", "simulate_errors", "error_codes", "skip_nplusone_mem",
         "nodegroup", "ignore_errors", "verify_clutter"] + cli.JOB_OPTS,
        "", "Does a check on the cluster configuration"),
    "master-failover": (
        master_failover, cli.ARGS_NONE,
        ["no_voting", "yes_do_it", "ignore_offline_nodes"], "",
        "Makes the current node the master"),
    "master-ping": (
        master_ping, cli.ARGS_NONE, [], "",
        "Checks if the master is alive"),
    "version": (
        show_version, cli.ARGS_NONE, [], "",
        "Shows the cluster version"),
    "getmaster": (
        show_master, cli.ARGS_NONE, [], "",
        "Shows the cluster master"),
    "copyfile": (
        copy_file, [cli.Arg("file", min=1, max=1)],
        ["nodes", "use_replication_network", "nodegroup"],
        "[-n <node-name>...] <filename>",
        "Copies a file to all (or only some) nodes"),
    "command": (
        run_cluster_command, [cli.Arg("command", min=1)],
        ["nodes", "nodegroup", "show_machine_names", "failure_only"],
        "[-n <node-name>...] <command>",
        "Runs a command on all (or only some) nodes"),
    "info": (
        show_cluster_config, cli.ARGS_NONE, ["roman_integers"],
        "[--roman]", "Show cluster configuration"),
    "search-tags": (
        search_tags, [cli.Arg("pattern", min=1, max=1)], ["priority"], "",
        "Searches the tags on all objects on the cluster for a given"
        " pattern (regex)"),
    "queue": (
        queue_ops, [cli.Arg("action", min=1, max=1,
                            choices=["drain", "undrain", "info"])], [],
        "drain|undrain|info", "Change queue properties"),
    "watcher": (
        watcher_ops, [cli.Arg("action", min=1, max=1,
                              choices=["pause", "continue", "info"]),
                      cli.Arg("timespec", min=0, max=1)], [],
        "{pause <timespec>|continue|info}", "Change watcher properties"),
    "modify": (
        set_cluster_params, cli.ARGS_NONE, _MODIFY_OPTS, "[<opts>...]",
        "Alters the parameters of the cluster"),
    "activate-master-ip": (
        activate_master_ip, cli.ARGS_NONE, [], "",
        "Activates the master IP"),
    "deactivate-master-ip": (
        deactivate_master_ip, cli.ARGS_NONE, ["confirm"], "",
        "Deactivates the master IP"),
    "renew-crypto": (
        renew_crypto, cli.ARGS_NONE,
        ["new_rapi_cert", "rapi_cert", "force"],
        "[<opts>...]", "Renews cluster certificates, keys and secrets"),
}
COMMANDS.update(cli.tag_commands(cli.ARGS_NONE, ""))

ALIASES = {"masterfailover": "master-failover", "show": "info"}


def main():
    return cli.generic_main(COMMANDS, aliases=ALIASES, binary="gnt-cluster",
                            override={"tag_type": constants.TAG_CLUSTER})
