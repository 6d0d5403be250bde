"""gnt-instance migrate/failover/move/modify/reinstall/rename/grow-disk/
recreate-disks and gnt-node migrate/failover/evacuate.

The command functions and their option declarations live here; the
``COMMANDS`` tables of ``gnt_instance`` and ``gnt_node`` include
``INSTANCE_COMMANDS`` and ``NODE_COMMANDS``. Options are registered in
``cli_opts.OPTIONS`` under ``mv_*`` keys; options shared with
``gnt-instance add`` (``inst_*``: --disk, --net, -o, -O, ...) are the
ones gnt_instance declares. Texts follow Ganeti's gnt-instance and
gnt-node.
"""

from ganeti import cli
from ganeti import cli_opts
from ganeti import constants
from ganeti import errors

_T = cli_opts


def _opt(name, *flags, **kwargs):
    kwargs.setdefault("dest", name)
    cli_opts.OPTIONS["mv_" + name] = cli_opts.Option(flags, **kwargs)


def _flag(name, *flags, **kwargs):
    kwargs.setdefault("default", False)
    _opt(name, *flags, action="store_true", **kwargs)


_opt("non_live", "--non-live", dest="live", action="store_false",
     default=True, help="Do a non-live migration (this usually means"
     " freeze the instance, save the state, transfer and only then resume"
     " running on the secondary node)")
_opt("migration_mode", "--migration-mode", metavar="{live,non-live}",
     choices=("live", "non-live"),
     help="Override default migration mode (choose either live or"
     " non-live")
_flag("cleanup", "--cleanup", help="Instead of performing the migration/"
      "failover, try to recover from a failed cleanup. This is safe to run"
      " even if the instance is healthy, but it will create extra replication"
      " traffic and disrupt briefly the replication (like during the"
      " migration/failover")
_opt("dst_node", "-n", "--target-node", metavar="NODE",
     help="Target node for the operation (only for externally mirrored"
     " disk templates)")
_flag("allow_failover", "--allow-failover",
      help="If migration is not possible fallback to failover")
_opt("allow_runtime_chgs", "--no-runtime-changes", action="store_false",
     default=True, help="Don't allow runtime changes of instance"
     " parameters (memory) during migration")
_flag("ignore_hvversions", "--ignore-hvversions",
      help="Ignore imcompatible hypervisor versions between source and"
      " target")
_flag("ignore_consistency", "--ignore-consistency",
      help="Ignore the consistency of the disks on the secondary")
_opt("node", "-n", "--node", metavar="<node>", help="Target node")
_opt("compress", "--compress", default="none", metavar="<compression>",
     help="Compression tool to use when transferring data")
_flag("offline_inst", "--offline",
      help="Turn off the instance (mark it offline)")
_flag("online_inst", "--online", help="Turn on the instance (mark it"
      " online)")
_opt("runtime_mem", "-m", "--runtime-memory", type=_T.T_UNIT,
     metavar="<size>", help="Change the runtime memory of the instance")
_flag("absolute", "--absolute", help="Marks the grow as absolute instead of"
      " the (default) relative mode")
_opt("new_secondary", "-n", "--new-secondary", dest="dst_node",
     metavar="NODE", help="New secondary node (for node evacuation)")
_flag("primary_only", "-p", "--primary-only",
      help="Evacuate primary instances only")
_flag("secondary_only", "-s", "--secondary-only",
      help="Evacuate secondary instances only (applies only to internally"
      " mirrored disk templates, e.g. drbd)")
_flag("early_release", "--early-release",
      help="Release the locks on the secondary node(s) early")
_opt("iallocator", "-I", "--iallocator", metavar="<NAME>",
     help="Select new node(s) automatically using the <NAME> iallocator"
     " plugin")
_flag("ignore_ipolicy", "--ignore-ipolicy",
      help="Ignore instance policy violations")
_flag("ignore_soft_errors", "--ignore-soft-errors",
      help="Tell htools to ignore 'soft' errors")

_SUBMIT = cli.SUBMIT_OPTS + cli.JOB_OPTS

MODIFY_NOTE = ("Please don't forget that most parameters take effect only"
               " at the next (re)start of the instance initiated by ganeti;"
               " restarting from within the instance will not be enough.")
HV_NOTE = ("Note that changing hypervisor parameters without performing a"
           " restart might lead to a crash while performing a live"
           " migration. This will be addressed in future Ganeti versions.")


def _opcodes():
    from ganeti import opcodes
    return opcodes


def _confirmed(opts, question):
    """True with --force or when the user says yes."""
    return opts.force or cli.ask_user(question)


def _check_target(opts):
    """-I and -n exclude each other."""
    if opts.iallocator and opts.dst_node:
        raise errors.OpPrereqError("Specify either an iallocator (-I), or a"
                                   " target node (-n) but not both",
                                   errors.ECODE_INVAL)


def _migration_mode(opts):
    """--non-live as the mode "non-live"; --migration-mode otherwise."""
    if opts.live:
        return opts.migration_mode
    if opts.migration_mode is not None:
        raise errors.OpPrereqError("Only one of the --non-live and"
                                   " --migration-mode options can be"
                                   " passed", errors.ECODE_INVAL)
    return "non-live"


# --- gnt-instance -------------------------------------------------------

def migrate_instance(opts, args):
    name = args[0]
    _check_target(opts)
    if opts.cleanup:
        text = ("Instance %s will be recovered from a failed migration."
                " Note that the migration procedure (including cleanup)"
                " might impact the instance if anything goes wrong"
                " (e.g. due to bugs in the hypervisor). Continue?" % name)
    else:
        text = ("Instance %s will be migrated. Note that migration might"
                " impact the instance if anything goes wrong (e.g. due"
                " to bugs in the hypervisor). Continue?" % name)
    if not _confirmed(opts, text):
        return constants.EXIT_FAILURE
    op = _opcodes().OpInstanceMigrate(
        instance_name=name, mode=_migration_mode(opts), cleanup=opts.cleanup,
        iallocator=opts.iallocator, target_node=opts.dst_node,
        allow_failover=opts.allow_failover,
        allow_runtime_changes=opts.allow_runtime_chgs,
        ignore_ipolicy=opts.ignore_ipolicy,
        ignore_hvversions=opts.ignore_hvversions)
    cli.submit_or_send(op, opts)
    return constants.EXIT_SUCCESS


def failover_instance(opts, args):
    name = args[0]
    _check_target(opts)
    if not _confirmed(opts, "Failover will happen to image %s. This"
                      " requires a shutdown of the instance. Continue?" %
                      name):
        return constants.EXIT_FAILURE
    op = _opcodes().OpInstanceFailover(
        instance_name=name, ignore_consistency=opts.ignore_consistency,
        shutdown_timeout=opts.shutdown_timeout, iallocator=opts.iallocator,
        target_node=opts.dst_node, ignore_ipolicy=opts.ignore_ipolicy,
        cleanup=opts.cleanup)
    cli.submit_or_send(op, opts)
    return constants.EXIT_SUCCESS


def move_instance(opts, args):
    name = args[0]
    if not opts.node:
        raise errors.OpPrereqError("Target node must be specified (-n)",
                                   errors.ECODE_INVAL)
    if not _confirmed(opts, "Instance %s will be moved. This requires a"
                      " shutdown of the instance. Continue?" % name):
        return constants.EXIT_FAILURE
    op = _opcodes().OpInstanceMove(
        instance_name=name, target_node=opts.node, compress=opts.compress,
        shutdown_timeout=opts.shutdown_timeout,
        ignore_consistency=opts.ignore_consistency,
        ignore_ipolicy=opts.ignore_ipolicy)
    cli.submit_or_send(op, opts)
    return constants.EXIT_SUCCESS


def convert_mods(mods):
    """Ganeti's _ConvertNicDiskModifications: CLI ``ident:params`` pairs to
    ``(action, identifier, params)``."""
    result = []
    for ident, params in mods:
        params = dict(params)
        if ident == "add":
            action, ident = "add", -1
        elif ident == "remove":
            action, ident = "remove", -1
        else:
            add = params.pop("add", None)
            remove = params.pop("remove", None)
            modify = params.pop("modify", None)
            if modify is None:
                if add is not None and remove is not None:
                    raise errors.OpPrereqError("Cannot add and remove at the"
                                               " same time",
                                               errors.ECODE_INVAL)
                action = ("add" if add is not None else
                          "remove" if remove is not None else "modify")
            elif add is None and remove is None:
                action = "modify"
            else:
                raise errors.OpPrereqError("Cannot modify and add/remove at"
                                           " the same time",
                                           errors.ECODE_INVAL)
        if action == "remove" and params:
            raise errors.OpPrereqError("Not accepting parameters on removal",
                                       errors.ECODE_INVAL)
        result.append((action, ident, params))
    return result


def _parse_disk_sizes(mods):
    from ganeti.utils import text
    for action, _, params in mods:
        if params and "size" in params:
            try:
                params["size"] = text.parse_unit(params["size"])
            except errors.UnitParseError as err:
                raise errors.OpPrereqError("Invalid disk size: %s" % err,
                                           errors.ECODE_INVAL)
        elif action == "add":
            raise errors.OpPrereqError("Missing required parameter 'size'",
                                       errors.ECODE_INVAL)
    return mods


def _defaults_to_marker(params):
    for key, value in list(params.items()):
        if isinstance(value, str) and value.lower() == "default":
            params[key] = "default"
    return params


def modify_instance(opts, args):
    if not (opts.nics or opts.disks or opts.hvparams or opts.beparams or
            opts.os or opts.osparams or opts.offline_inst or
            opts.online_inst or opts.runtime_mem):
        cli.to_stderr("Please give at least one of the parameters.")
        return constants.EXIT_FAILURE
    if opts.offline_inst and opts.online_inst:
        raise errors.OpPrereqError("Can't use --offline and --online at the"
                                   " same time", errors.ECODE_INVAL)
    beparams = _defaults_to_marker(dict(opts.beparams or {}))
    hvparams = _defaults_to_marker(dict(opts.hvparams or {}))
    try:
        cli_opts.force_dict_type(beparams, cli_opts.BES_PARAMETER_COMPAT)
        cli_opts.force_dict_type(hvparams, cli_opts.hv_parameter_types())
    except errors.TypeEnforcementError as err:
        raise errors.OpPrereqError(str(err), errors.ECODE_INVAL)
    offline = True if opts.offline_inst else \
        (False if opts.online_inst else None)
    op = _opcodes().OpInstanceSetParams(
        instance_name=args[0], nics=convert_mods(opts.nics),
        disks=_parse_disk_sizes(convert_mods(opts.disks)),
        hvparams=hvparams, beparams=beparams, runtime_mem=opts.runtime_mem,
        os_name=opts.os, osparams=opts.osparams,
        force_variant=opts.force_variant, force=opts.force,
        wait_for_sync=opts.wait_for_sync, offline=offline,
        ignore_ipolicy=opts.ignore_ipolicy)
    result = cli.submit_or_send(op, opts)
    if result:
        cli.to_stdout("Modified instance %s", args[0])
        for param, data in result:
            cli.to_stdout(" - %-5s -> %s", param, data)
        cli.to_stdout(MODIFY_NOTE)
        if opts.hvparams:
            cli.to_stdout(HV_NOTE)
    return constants.EXIT_SUCCESS


def reinstall_instance(opts, args):
    name = args[0]
    if not _confirmed(opts, "This will reinstall the instance '%s' and"
                      " remove all data. Continue?" % name):
        return constants.EXIT_FAILURE
    op = _opcodes().OpInstanceReinstall(
        instance_name=name, os_type=opts.os,
        force_variant=opts.force_variant,
        osparams=opts.osparams or None)
    cli.submit_or_send(op, opts)
    return constants.EXIT_SUCCESS


def rename_instance(opts, args):
    if not opts.name_check and not opts.force:
        if not cli.ask_user("As you disabled the check of the DNS entry,"
                            " please verify that '%s' is a FQDN. Continue?"
                            % args[1]):
            return constants.EXIT_FAILURE
    op = _opcodes().OpInstanceRename(instance_name=args[0], new_name=args[1],
                                     ip_check=opts.ip_check,
                                     name_check=opts.name_check)
    result = cli.submit_or_send(op, opts)
    if result:
        cli.to_stdout("Instance '%s' renamed to '%s'", args[0], result)
    return constants.EXIT_SUCCESS


def grow_disk(opts, args):
    from ganeti.utils import text
    try:
        disk = int(args[1])
    except (TypeError, ValueError) as err:
        raise errors.OpPrereqError("Invalid disk index: %s" % str(err),
                                   errors.ECODE_INVAL)
    try:
        amount = text.parse_unit(args[2])
    except errors.UnitParseError:
        raise errors.OpPrereqError("Can't parse the given amount '%s'" %
                                   args[2], errors.ECODE_INVAL)
    op = _opcodes().OpInstanceGrowDisk(
        instance_name=args[0], disk=disk, amount=amount,
        wait_for_sync=opts.wait_for_sync, absolute=opts.absolute,
        ignore_ipolicy=opts.ignore_ipolicy)
    cli.submit_or_send(op, opts)
    return constants.EXIT_SUCCESS


def parse_disk_dict(idx, ddict):
    """Check the ``--disk`` value of disk ``idx``: a dict whose size, if
    given, becomes MiB (Ganeti's texts for what does not parse)."""
    if not isinstance(ddict, dict):
        raise errors.OpPrereqError("Invalid disk/%d value: expected dict,"
                                   " got %s" % (idx, ddict),
                                   errors.ECODE_INVAL)
    if "size" in ddict:
        from ganeti.utils import text
        try:
            ddict["size"] = text.parse_unit(ddict["size"])
        except errors.UnitParseError as err:
            raise errors.OpPrereqError("Invalid disk size for disk %d: %s"
                                       % (idx, err), errors.ECODE_INVAL)
    return ddict


def recreate_disks(opts, args):
    disks = []
    for didx, ddict in opts.disks or []:
        try:
            didx = int(didx)
        except ValueError as err:
            raise errors.OpPrereqError("Invalid disk index passed: %s" % err,
                                       errors.ECODE_INVAL)
        disks.append((didx, parse_disk_dict(didx, ddict)))
    nodes = []
    if opts.node:
        if opts.iallocator:
            raise errors.OpPrereqError("At most one of either --nodes or"
                                       " --iallocator can be passed",
                                       errors.ECODE_INVAL)
        nodes = [n for n in opts.node.split(":") if n]
    op = _opcodes().OpInstanceRecreateDisks(
        instance_name=args[0], disks=disks, nodes=nodes,
        iallocator=opts.iallocator)
    cli.submit_or_send(op, opts)
    return constants.EXIT_SUCCESS


INSTANCE_COMMANDS = {
    "migrate": (
        migrate_instance, cli.ARGS_ONE_INSTANCE,
        ["force", "mv_non_live", "mv_migration_mode", "mv_cleanup",
         "mv_dst_node", "inst_iallocator", "mv_allow_failover",
         "inst_ignore_ipolicy", "mv_ignore_hvversions",
         "mv_allow_runtime_chgs"] + _SUBMIT,
        "[-f] <instance-name>",
        "Migrate instance to its secondary node (only for mirrored"
        " instances)"),
    "failover": (
        failover_instance, cli.ARGS_ONE_INSTANCE,
        ["force", "mv_ignore_consistency", "inst_shutdown_timeout",
         "mv_dst_node", "inst_iallocator", "inst_ignore_ipolicy",
         "mv_cleanup"] + _SUBMIT,
        "[-f] <instance-name>",
        "Stops the instance, changes its primary node and (if it was"
        " originally running) starts it on the new node (the secondary for"
        " mirrored instances or any node for shared storage)."),
    "move": (
        move_instance, cli.ARGS_ONE_INSTANCE,
        ["force", "mv_node", "mv_compress", "inst_shutdown_timeout",
         "mv_ignore_consistency", "inst_ignore_ipolicy"] + _SUBMIT,
        "[-f] <instance-name>",
        "Move instance to an arbitrary node (only for instances of type"
        " file and lv)"),
    "modify": (
        modify_instance, cli.ARGS_ONE_INSTANCE,
        ["beparams", "inst_disks", "force", "inst_start_hvparams",
         "inst_nics", "inst_os", "inst_force_variant", "inst_osparams",
         "inst_wait_for_sync", "mv_offline_inst", "mv_online_inst",
         "inst_ignore_ipolicy", "mv_runtime_mem"] + _SUBMIT,
        "<instance-name>", "Alters the parameters of an instance"),
    "reinstall": (
        reinstall_instance, cli.ARGS_ONE_INSTANCE,
        ["force", "inst_os", "inst_force_variant", "inst_osparams"] +
        _SUBMIT,
        "[-f] <instance>", "Reinstall a stopped instance"),
    "rename": (
        rename_instance,
        [cli.Arg("instance", min=1, max=1), cli.Arg(min=1, max=1)],
        ["force", "inst_ip_check", "inst_name_check"] + _SUBMIT,
        "<instance> <new_name>", "Rename the instance"),
    "grow-disk": (
        grow_disk,
        [cli.Arg("instance", min=1, max=1), cli.Arg(min=1, max=1),
         cli.Arg(min=1, max=1)],
        ["inst_wait_for_sync", "mv_absolute", "inst_ignore_ipolicy"] +
        _SUBMIT,
        "<instance> <disk> <size>", "Grow an instance's disk"),
    "recreate-disks": (
        recreate_disks, cli.ARGS_ONE_INSTANCE,
        ["inst_disks", "mv_node", "inst_iallocator"] + _SUBMIT,
        "[-n node1:[node2]] <instance>",
        "Recreate an instance's disks"),
}


# --- gnt-node -------------------------------------------------------------

def _query_one_node(cl, name, fields):
    result = cl.query(constants.QR_NODE, ["name"] + fields,
                      cli.make_simple_filter("name", [name]))
    for row in result["data"]:
        if row[0][0] == constants.RS_NORMAL:
            return [value for (_, value) in row]
    raise errors.OpPrereqError("Node '%s' not known" % name,
                               errors.ECODE_NOENT)


def _failures(results):
    """How many of JobExecutor's results failed."""
    return len([row for row in results if not row[0]])


def _run_node_op(cl, opts, op, success, failure):
    """Submit ``op`` (its result lists the jobs it made, one per
    instance), wait for those jobs and say ``success``, or ``failure``
    with the number of failed jobs."""
    result = cli.submit_or_send(op, opts, cl=cl)
    jex = cli.JobExecutor(cl=cl, opts=opts)
    for status, job_id in result.get("jobs", []):
        jex.add_job_id(None, status, job_id)
    bad = _failures(jex.get_results())
    if bad == 0:
        cli.to_stdout(success)
        return constants.EXIT_SUCCESS
    cli.to_stdout(failure, bad)
    return constants.EXIT_FAILURE


def _node_primaries(cl, opts, name, verb, report):
    """The node's primary instances, sorted, once the user agreed to
    ``verb`` them; None (after ``report`` says so) when there are none,
    False when the user said no."""
    node, pinst = _query_one_node(cl, name, ["pinst_list"])
    if not pinst:
        report("No primary instances on node %s, exiting." % node)
        return None
    from ganeti.utils import text
    pinst = text.nice_sort(pinst)
    if not _confirmed(opts, "%s instance(s) %s?" %
                      (verb, ",".join("'%s'" % iname for iname in pinst))):
        return False
    return pinst


def failover_node(opts, args):
    cl = cli.get_client()
    pinst = _node_primaries(cl, opts, args[0], "Fail over", cli.to_stderr)
    if not pinst:
        return constants.EXIT_SUCCESS if pinst is None else 2
    opcodes = _opcodes()
    jex = cli.JobExecutor(cl=cl, opts=opts)
    for iname in pinst:
        jex.queue_job(iname, opcodes.OpInstanceFailover(
            instance_name=iname, ignore_consistency=opts.ignore_consistency,
            iallocator=opts.iallocator, target_node=opts.dst_node))
    results = jex.get_results()
    bad = _failures(results)
    if bad == 0:
        cli.to_stdout("All %d instance(s) failed over successfully.",
                      len(results))
    else:
        cli.to_stdout("There were errors during the failover:\n"
                      "%d error(s) out of %d instance(s).", bad,
                      len(results))
    return constants.EXIT_SUCCESS


def migrate_node(opts, args):
    cl = cli.get_client()
    pinst = _node_primaries(cl, opts, args[0], "Migrate", cli.to_stdout)
    if not pinst:
        return constants.EXIT_SUCCESS if pinst is None else 2
    op = _opcodes().OpNodeMigrate(
        node_name=args[0], mode=_migration_mode(opts),
        iallocator=opts.iallocator, target_node=opts.dst_node,
        allow_runtime_changes=opts.allow_runtime_chgs,
        ignore_ipolicy=opts.ignore_ipolicy)
    return _run_node_op(cl, opts, op, "All instances migrated successfully.",
                        "There were %s errors during the node migration.")


def evacuate_node(opts, args):
    if opts.secondary_only and opts.primary_only:
        raise errors.OpPrereqError("Only one of the --primary-only and"
                                   " --secondary-only options can be passed",
                                   errors.ECODE_INVAL)
    if opts.primary_only:
        mode = "primary-only"
    elif opts.secondary_only:
        mode = "secondary-only"
    else:
        mode = "all"
    fields = []
    if not opts.secondary_only:
        fields.append("pinst_list")
    if not opts.primary_only:
        fields.append("sinst_list")
    cl = cli.get_client()
    row = _query_one_node(cl, args[0], fields)
    instances = set()
    for value in row[1:]:
        instances.update(value or [])
    if not instances:
        cli.to_stderr("No instances to evacuate on node(s) %s, exiting.",
                      ", ".join(args))
        return constants.EXIT_SUCCESS
    from ganeti.utils import text
    if not (opts.force or cli.ask_user(
            "Relocate instance(s) %s from node(s) %s?" %
            (", ".join(text.nice_sort(instances)), ", ".join(args)))):
        return constants.EXIT_CONFIRMATION
    op = _opcodes().OpNodeEvacuate(
        node_name=args[0], mode=mode, remote_node=opts.dst_node,
        iallocator=opts.iallocator, early_release=opts.early_release,
        ignore_soft_errors=opts.ignore_soft_errors)
    return _run_node_op(cl, opts, op, "All instances evacuated successfully.",
                        "There were %s errors during the evacuation.")


NODE_COMMANDS = {
    "failover": (
        failover_node, cli.ARGS_ONE_NODE,
        ["force", "mv_ignore_consistency", "mv_iallocator",
         "mv_dst_node", "priority"],
        "[-f] <node>", "Stops the primary instances on a node and start"
        " them on their secondary node (only for instances with drbd disk"
        " template)"),
    "migrate": (
        migrate_node, cli.ARGS_ONE_NODE,
        ["force", "mv_non_live", "mv_migration_mode", "mv_dst_node",
         "mv_iallocator", "mv_ignore_ipolicy",
         "mv_allow_runtime_chgs"] + _SUBMIT,
        "[-f] <node>", "Migrate all the primary instance on a node away from"
        " it (only for instances of type drbd)"),
    "evacuate": (
        evacuate_node, cli.ARGS_ONE_NODE,
        ["force", "mv_iallocator", "mv_new_secondary",
         "mv_early_release", "mv_primary_only", "mv_secondary_only",
         "mv_ignore_soft_errors"] + _SUBMIT,
        "[-f] {-I <iallocator> | -n <dst>} [-p | -s] [options...] <node>",
        "Relocate the primary and/or secondary instances from a node"),
}
